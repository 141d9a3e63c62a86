import { resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import { ListenError } from '../broker/listen-error.js';
import { ConfigError, loadConfig, parseListenAddress, readConfig, type Config } from '../config/index.js';
import { createBroker } from '../embed/create-broker.js';
import {
  clusterNodeName,
  clusterRedisUrls,
  monitorNodeName,
  readLicense,
  resolveLicense,
  tlsOptions,
} from '../embed/providers.js';
import { EmitterError } from '../errors.js';
import { generateLicense, KeyAuthority } from '../security/index.js';
import { describePermissions } from './permissions.js';
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
  const logger = createLogger(loaded.config.logging.level, loaded.config.logging.format);
  const redisUrls = clusterRedisUrls(loaded.config);
  const nodeName = clusterNodeName(loaded.config);
  if (loaded.config.cluster.workers > 1 && redisUrls.length === 0) {
    throw new ConfigError(
      'cluster.workers: several workers join through Redis; set cluster.redis (EMITTER_CLUSTER_REDIS) too',
    );
  }
  // Certificates are checked before anything opens or a licence is made: a bad one stops the start at once.
  if (!command.devTls) tlsOptions(loaded.config);
  if (isSupervisor(loaded.config.cluster.workers)) {
    const license = resolveLicense(loaded.config, logger);
    if (loaded.config.storage.provider !== 'redis') {
      logger.warn(
        { provider: loaded.config.storage.provider },
        'each worker has its own message storage; use storage.provider "redis" to share stored messages',
      );
    }
    return superviseWorkers({
      count: loaded.config.cluster.workers,
      name: nodeName,
      env: { EMITTER_LICENSE: license.toString() },
      logger,
    });
  }
  // A worker's scrape answers for every worker of the host, not only for itself.
  const host = isWorker() ? hostMetrics() : undefined;
  const config = command.devTls ? await withDevTls(loaded.config, logger) : loaded.config;
  // The same path as an application embedding the broker (README "Use it as a library").
  const broker = await createBroker({
    config,
    logger,
    httpRoutes: host ? { '/metrics': host.route } : {},
  });
  host?.share(broker.metrics);
  let bound: { port: number; tlsPort?: number };
  try {
    bound = await broker.listen();
  } catch (error) {
    if (error instanceof ListenError) throw new ConfigError(listenProblem(error, command.devTls === true));
    throw error;
  }
  const listen = parseListenAddress(config.listen, 8080);
  const tls = config.tls.certificate ? parseListenAddress(config.tls.listen, 443) : undefined;
  logger.info(
    {
      version: VERSION,
      config: loaded.file ?? 'defaults',
      variables: loaded.variables,
      listeners: [
        `${listen.host}:${bound.port} (mqtt, ws, http)`,
        ...(tls ? [`${tls.host}:${bound.tlsPort} (mqtts, wss, https)`] : []),
      ],
      storage: describeStorage(broker.storage.name, config),
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

// A throw-away certificate for local testing: never for production (clients must trust it explicitly).
async function withDevTls(config: Config, logger: Logger): Promise<Config> {
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
  return { ...config, tls: { ...config.tls, listen, certificate: pems.cert, private: pems.private } };
}
