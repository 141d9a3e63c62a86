import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Broker, type BrokerOptions } from '../broker/broker.js';
import { ConfigError, loadConfig, parseListenAddress, type Config } from '../config/index.js';
import { EmitterError } from '../errors.js';
import { createKeygenPage } from '../http/keygen-page.js';
import { generateLicense, KeyAuthority, parseLicense, type License } from '../security/index.js';
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
import { isSupervisor, superviseWorkers } from './workers.js';
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
  return 0;
}

async function serve(
  command: Extract<CliCommand, { command: 'serve' }>,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const config = loadConfig({
    path: command.configPath,
    explicitPath: command.configPath !== undefined,
    env,
  });
  const logger = createLogger(config.logging.level, config.logging.format);
  const redisUrls = clusterRedisUrls(config);
  const nodeName = config.cluster.name || `${hostname().replace(/[^A-Za-z0-9.:-]/g, '-')}-${process.pid}`;
  if (config.cluster.workers > 1 && redisUrls.length === 0) {
    throw new ConfigError(
      'cluster.workers: several workers join through Redis; set cluster.redis (EMITTER_CLUSTER_REDIS) too',
    );
  }
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
  // One key authority (and ban list) for MQTT requests and the /keygen page.
  const authority = new KeyAuthority(license);
  const storage = openStorage(config, logger);
  logger.info({ provider: storage.name }, 'configured message storage');
  const sessionStore = openSessionStore(config);
  logger.info({ provider: sessionStore.name }, 'configured session store');
  const broker = new Broker({
    ...brokerOptions(config, license, logger),
    tls: command.devTls ? await devTls(config, logger) : tlsOptions(config),
    storage,
    authority,
    httpRoutes: { '/keygen': createKeygenPage(authority) },
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
  await broker.listen();
  logger.info('service started');

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'received signal, shutting down');
      // Bounded: a stuck client or disk must not keep the process alive.
      const timer = setTimeout(() => {
        logger.warn('shutdown took too long, exiting');
        resolve();
      }, SHUTDOWN_TIMEOUT_MS);
      broker.close().finally(() => {
        clearTimeout(timer);
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  logger.info('stopped');
  return 0;
}

const SHUTDOWN_TIMEOUT_MS = 10000;

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

// Emitter's monitor section: provider plus `interval` (ms), `channel` (self) and `url` (statsd).
function monitorOptions(config: Config, clusterNode: string | undefined): BrokerOptions['monitor'] {
  const settings = config.monitor.config;
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value ? value : undefined;
  return {
    provider: config.monitor.provider,
    node: clusterNode ?? (config.cluster.name || hostname().replace(/[^A-Za-z0-9.:-]/g, '-')),
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
  // The redis provider defaults to the cluster's Redis, so a cluster needs only one URL.
  const redis: { url?: string; cluster?: string[] } = {};
  if (config.storage.provider === 'redis' && settings.url === undefined && settings.cluster === undefined) {
    const urls = clusterRedisUrls(config);
    if (urls.length === 1) redis.url = urls[0];
    else if (urls.length > 1) redis.cluster = urls;
  }
  const seeds: unknown = settings.cluster;
  if (typeof seeds === 'string') redis.cluster = seeds.split(',').map((url) => url.trim());
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
      { ...settings, dir: typeof settings.dir === 'string' ? settings.dir : 'data' },
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
    logger,
  };
}

// A certificate and key are PEM text (starting with ---) or file paths, as in Emitter's config.
function tlsOptions(config: Config): BrokerOptions['tls'] {
  const { certificate, private: privateKey, listen } = config.tls;
  if (!certificate || !privateKey) return undefined;
  const pem = (value: string, field: string): string => {
    if (value.startsWith('---')) return value;
    try {
      return readFileSync(value, 'utf8');
    } catch (error) {
      throw new ConfigError(`tls.${field}: cannot read ${value}: ${(error as Error).message}`);
    }
  };
  return {
    ...parseListenAddress(listen, 443),
    cert: pem(certificate, 'certificate'),
    key: pem(privateKey, 'private'),
  };
}
