import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { Broker, type BrokerOptions } from '../broker/broker.js';
import { ListenError } from '../broker/listen-error.js';
import { ConfigError, loadConfig, parseListenAddress, readConfig, type Config } from '../config/index.js';
import { EmitterError } from '../errors.js';
import { createKeygenPage } from '../http/keygen-page.js';
import { generateLicense, KeyAuthority, parseLicense, type License } from '../security/index.js';
import { describePermissions } from './permissions.js';
import {
  createSessionStore,
  createStorage,
  parseStorageProvider,
  resolveSessionProvider,
  StorageError,
  type SessionStore,
  type Storage,
  type StorageConfig,
} from '../storage/index.js';
import { RedisCluster } from '../cluster/index.js';
import { parseArguments, USAGE, UsageError, type CliCommand } from './args.js';
import { createLogger } from './log-output.js';
import {
  GRACEFUL_STOP_MS,
  hostMetrics,
  isSupervisor,
  isWorker,
  leaveSupervisor,
  superviseWorkers,
} from './workers.js';
import { VERSION } from './version.js';

/** Where the CLI writes; tests pass their own. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

const processOutput: CliOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs the `emitter` command; resolves with the exit code (serve resolves once the broker has stopped). */
export async function runCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  output = processOutput,
): Promise<number> {
  let command: CliCommand;
  try {
    command = parseArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(`emitter: ${error.message}`);
    output.err('Run "emitter --help" for usage.');
    return 2;
  }
  try {
    switch (command.command) {
      case 'help':
        output.out(USAGE[command.topic]);
        return 0;
      case 'version':
        output.out(`emitter-ts ${VERSION}`);
        return 0;
      case 'license': {
        const { license } = generateLicense();
        output.out(`license: ${license.toString()}`);
        output.out(`secret:  ${license.newMasterKey()}`);
        return 0;
      }
      case 'keygen':
        return keygen(command, env, output);
      case 'serve':
        return await serve(command, env);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      output.err(`emitter: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function keygen(
  command: Extract<CliCommand, { command: 'keygen' }>,
  env: NodeJS.ProcessEnv,
  output: CliOutput,
): number {
  const config = loadConfig({
    path: command.configPath,
    explicitPath: command.configPath !== undefined,
    env,
  });
  if (!config.license) {
    output.err(
      'emitter: keygen needs the licence the secret belongs to: set EMITTER_LICENSE or "license" in the config',
    );
    return 1;
  }
  const authority = new KeyAuthority(readLicense(config.license));
  const created = authority.createKey({
    secret: command.secret,
    channel: command.channel,
    type: command.type,
    ttl: command.ttl,
  });
  if (created instanceof EmitterError) {
    output.err(`emitter: keygen failed (${created.status}): ${created.message}`);
    return 1;
  }
  output.out(`channel: ${created.channel}`);
  output.out(`key:     ${created.key}`);
  output.out(`permissions: ${describePermissions(authority.decrypt(created.key)?.permissions ?? 0)}`);
  if (command.ttl > 0) output.out(`expires: ${new Date(Date.now() + command.ttl * 1000).toISOString()}`);
  return 0;
}

async function serve(
  command: Extract<CliCommand, { command: 'serve' }>,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const loaded = readConfig({
    path: command.configPath,
    explicitPath: command.configPath !== undefined,
    env,
  });
  const { config } = loaded;
  const logger = createLogger(config.logging.level, config.logging.format);
  const redisUrls = clusterRedisUrls(config);
  const nodeName = config.cluster.name || `${hostname().replace(/[^A-Za-z0-9.:-]/g, '-')}-${process.pid}`;
  if (config.cluster.workers > 1 && redisUrls.length === 0) {
    throw new ConfigError(
      'cluster.workers: several workers join through Redis; set cluster.redis (EMITTER_CLUSTER_REDIS) too',
    );
  }
  // Certificates are checked before anything opens or a licence is made: a bad one stops the start at once.
  const fileTls = command.devTls ? undefined : tlsOptions(config);
  const license = resolveLicense(config, logger);
  if (isSupervisor(config.cluster.workers)) {
    if (config.storage.provider !== 'redis') {
      logger.warn(
        { provider: config.storage.provider },
        'each worker has its own message storage; use storage.provider "redis" to share stored messages',
      );
    }
    return superviseWorkers({
      count: config.cluster.workers,
      name: nodeName,
      env: { EMITTER_LICENSE: license.toString() },
      logger,
    });
  }
  // A worker's scrape answers for every worker of the host, not only for itself.
  const host = isWorker() ? hostMetrics() : undefined;
  // One key authority (and ban list) for MQTT requests and the /keygen page.
  const authority = new KeyAuthority(license);
  const tls = command.devTls ? await devTls(config, logger) : fileTls;
  const storage = openStorage(config, logger);
  logger.info({ provider: storage.name }, 'configured message storage');
  const sessionStore = openSessionStore(config);
  logger.info({ provider: sessionStore.name }, 'configured session store');
  const broker = new Broker({
    ...brokerOptions(config, license, logger),
    tls,
    storage,
    authority,
    httpRoutes: {
      '/keygen': createKeygenPage(authority),
      ...(host ? { '/metrics': host.route } : {}),
    },
    // In a cluster the node's stats channel (and /health, the dashboard) use its unique cluster name.
    monitor: monitorOptions(config, redisUrls.length > 0 ? nodeName : undefined),
    sessions: {
      store: sessionStore,
      expiryMs: config.session.expiry * 1000,
      maxInflight: config.session.maxInflight,
      maxQueuedMessages: config.session.maxQueuedMessages,
      maxQueuedBytes: config.session.maxQueuedBytes,
    },
    cluster:
      redisUrls.length === 0
        ? undefined
        : new RedisCluster({
            name: nodeName,
            urls: redisUrls,
            deadAfterMs: config.cluster.deadAfter,
            logger,
          }),
  });
  host?.share(broker.metrics);
  let bound: { port: number; tlsPort?: number };
  try {
    bound = await broker.listen();
  } catch (error) {
    if (error instanceof ListenError) throw new ConfigError(listenProblem(error, command.devTls === true));
    throw error;
  }
  const listen = brokerOptions(config, license, logger).listen;
  logger.info(
    {
      version: VERSION,
      config: loaded.file ?? 'defaults',
      variables: loaded.variables,
      listeners: [
        `${listen.host}:${bound.port} (mqtt, ws, http)`,
        ...(tls ? [`${tls.host}:${bound.tlsPort} (mqtts, wss, https)`] : []),
      ],
      storage: describeStorage(storage.name, config),
      cluster:
        redisUrls.length === 0
          ? 'standalone'
          : `redis ${redisUrls.map(redactUrl).join(',')}, ${broker.cluster.peers} peer(s) seen`,
      node: redisUrls.length === 0 ? monitorNodeName(config) : nodeName,
    },
    'service started',
  );

  const graceful = await new Promise<boolean>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      // Once: a worker gets SIGINT from the terminal and SIGTERM from its supervisor.
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      logger.info({ signal }, 'received signal, shutting down');
      // Bounded: a stuck client or disk must not keep the process alive.
      const timer = setTimeout(() => resolve(false), GRACEFUL_STOP_MS);
      broker.close().finally(() => {
        clearTimeout(timer);
        resolve(true);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  if (!graceful) {
    // Whatever is stuck (a client socket, a storage call) would hold the process open: leave anyway.
    logger.warn('shutdown took too long, exiting');
    process.exit(0);
  }
  logger.info('stopped');
  leaveSupervisor();
  return 0;
}

// `cluster.redis`: one URL for a standalone Redis, several (a list, or comma-separated) for Redis Cluster seeds.
function clusterRedisUrls(config: Config): string[] {
  const value = config.cluster.redis;
  const list = (Array.isArray(value) ? value : value.split(',')).map((url) => url.trim()).filter(Boolean);
  for (const url of list) {
    if (!/^rediss?:\/\//.test(url))
      throw new ConfigError(`cluster.redis: ${JSON.stringify(url)} is not a redis:// or rediss:// URL`);
  }
  return list;
}

// A standalone node's name (the monitor's `stats/<node>/`): `cluster.name` or the host name.
function monitorNodeName(config: Config): string {
  return config.cluster.name || hostname().replace(/[^A-Za-z0-9.:-]/g, '-');
}

// The setting a listener comes from, and why it could not start, in one line.
function listenProblem(error: ListenError, devTls: boolean): string {
  const setting = error.listener === 'plain' ? 'listen' : devTls ? 'tls.listen (--dev-tls)' : 'tls.listen';
  return `${setting}: ${error.message}`;
}

// Where stored messages go, for the start banner (no credentials).
function describeStorage(name: string, config: Config): string {
  const settings = config.storage.config;
  if (name === 'ssd') return `ssd (${resolvePath(typeof settings.dir === 'string' ? settings.dir : 'data')})`;
  if (name === 'redis') {
    const url = typeof settings.url === 'string' ? settings.url : clusterRedisUrls(config)[0];
    return url ? `redis (${redactUrl(url)})` : 'redis';
  }
  return name;
}

// A Redis URL without its user name and password.
function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.username || url.password) {
      url.username = '';
      url.password = '';
    }
    return url.toString().replace(/\/$/, '');
  } catch {
    return text.replace(/\/\/[^@/]*@/, '//');
  }
}

// Emitter's monitor section: provider plus `interval` (ms), `channel` (self) and `url` (statsd).
function monitorOptions(config: Config, clusterNode: string | undefined): BrokerOptions['monitor'] {
  const settings = config.monitor.config;
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value ? value : undefined;
  return {
    provider: config.monitor.provider,
    node: clusterNode ?? monitorNodeName(config),
    interval: typeof settings.interval === 'number' ? settings.interval : undefined,
    channel: text(settings.channel),
    url: text(settings.url),
  };
}

// A throw-away certificate for local testing: never for production (clients must trust it explicitly).
async function devTls(config: Config, logger: Logger): Promise<BrokerOptions['tls']> {
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    notAfterDate: new Date(Date.now() + 30 * 86400 * 1000),
    keySize: 2048,
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const listen = config.tls.listen === ':443' ? ':8443' : config.tls.listen;
  logger.warn({ listen }, 'serving TLS with a self-signed development certificate');
  return { ...parseListenAddress(listen, 8443), cert: pems.cert, key: pems.private };
}

// First start without a licence: say so, make one, log it and the secret, and keep serving. Logged like
// every other start-up line (one format per stream), and at warn even when the level hides warnings: a
// licence nobody saw would be lost at the next restart.
function resolveLicense(config: Config, logger: Logger): License {
  if (config.license) return readLicense(config.license);
  const { license } = generateLicense();
  const notice = logger.isLevelEnabled('warn') ? logger : logger.child({}, { level: 'warn' });
  notice.warn(
    "unable to find a license, make sure 'license' value is set in the config file or EMITTER_LICENSE environment variable",
  );
  notice.warn(
    { license: license.toString(), secret: license.newMasterKey() },
    'generated a new license and secret key: keep both',
  );
  return license;
}

// Storage settings come from `storage.config` (file or EMITTER_STORAGE_CONFIG[_*]); `ssd` defaults to ./data.
function openStorage(config: Config, logger: Logger): Storage {
  const settings = config.storage.config as StorageConfig & Record<string, unknown>;
  const redis = redisAddress(config, config.storage.provider);
  try {
    const provider = parseStorageProvider(config.storage.provider);
    return createStorage(
      provider,
      {
        ...settings,
        ...redis,
        dir: typeof settings.dir === 'string' ? settings.dir : 'data',
      },
      { logger },
    );
  } catch (error) {
    if (error instanceof StorageError) throw new ConfigError(`storage: ${error.message}`);
    throw error;
  }
}

// The redis providers default to the cluster's Redis, so a cluster needs only one URL; `cluster` seeds may
// be one comma-separated string.
function redisAddress(config: Config, provider: string): { url?: string; cluster?: string[] } {
  const settings = config.storage.config as StorageConfig & Record<string, unknown>;
  const redis: { url?: string; cluster?: string[] } = {};
  if (provider === 'redis' && settings.url === undefined && settings.cluster === undefined) {
    const urls = clusterRedisUrls(config);
    if (urls.length === 1) redis.url = urls[0];
    else if (urls.length > 1) redis.cluster = urls;
  }
  const seeds: unknown = settings.cluster;
  if (typeof seeds === 'string') redis.cluster = seeds.split(',').map((url) => url.trim());
  return redis;
}

// Sessions follow storage.provider unless `session.provider` says otherwise, and sit where it keeps messages.
function openSessionStore(config: Config): SessionStore {
  const provider = resolveSessionProvider(config.session.provider, config.storage.provider);
  const settings = config.storage.config;
  try {
    return createSessionStore(
      provider,
      {
        maxQueuedMessages: config.session.maxQueuedMessages,
        maxQueuedBytes: config.session.maxQueuedBytes,
      },
      {
        ...settings,
        ...redisAddress(config, provider),
        dir: typeof settings.dir === 'string' ? settings.dir : 'data',
      },
    );
  } catch (error) {
    if (error instanceof StorageError) throw new ConfigError(`session: ${error.message}`);
    throw error;
  }
}

function readLicense(text: string): License {
  try {
    return parseLicense(text);
  } catch (error) {
    throw new ConfigError(`license: ${(error as Error).message}`);
  }
}

function brokerOptions(config: Config, license: License, logger: Logger): BrokerOptions {
  return {
    license,
    listen: parseListenAddress(config.listen, 8080),
    matcher: config.matcher === 'mqtt' ? 'mqtt' : 'emitter',
    limits: {
      messageSize: config.limit.messageSize,
      connectTimeoutMs: config.limit.connectTimeout,
      readRate: config.limit.readRate,
      outgoingBuffer: config.limit.outgoingBuffer,
      slowConsumer: config.limit.slowConsumer,
      maxConnections: config.limit.maxConnections,
      connectRate: config.limit.connectRate,
      maxSubscriptions: config.limit.maxSubscriptions,
      maxTopicLength: config.limit.maxTopicLength,
      maxTopicLevels: config.limit.maxTopicLevels,
    },
    mqtt5: config.mqtt5,
    logger,
  };
}

// A certificate and key are PEM text (starting with ---) or file paths, as in Emitter's config. One without
// the other, an unreadable file or a key that does not fit the certificate stops the start.
function tlsOptions(config: Config): BrokerOptions['tls'] {
  const { certificate, private: privateKey, listen } = config.tls;
  if (!certificate && !privateKey) return undefined;
  if (!privateKey)
    throw new ConfigError('tls.private: tls.certificate is set but not its private key (tls.private)');
  if (!certificate)
    throw new ConfigError('tls.certificate: tls.private is set but not its certificate (tls.certificate)');
  const pem = (value: string, field: string): string => {
    if (value.startsWith('---')) return value;
    try {
      return readFileSync(value, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
      throw new ConfigError(`tls.${field}: cannot read ${value}: ${reason ?? (error as Error).message}`);
    }
  };
  const cert = pem(certificate, 'certificate');
  const key = pem(privateKey, 'private');
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const message = (error as Error).message;
    if (/key values mismatch/i.test(message))
      throw new ConfigError('tls.private: the private key does not belong to tls.certificate');
    const field = /key|private/i.test(message) ? 'private' : 'certificate';
    throw new ConfigError(
      `tls.${field}: not a usable PEM ${field === 'private' ? 'private key' : 'certificate'} (${message.replace(/^error:[0-9A-F]+:/, '')})`,
    );
  }
  return { ...parseListenAddress(listen, 443), cert, key };
}
