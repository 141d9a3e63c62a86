/** From the configuration to the parts a broker is made of: licence, storage, session store, TLS, cluster. */

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { BrokerOptions } from '../broker/broker.js';
import { ConfigError, parseListenAddress, type Config } from '../config/index.js';
import { generateLicense, parseLicense, type License } from '../security/index.js';
import {
  createRetainedStore,
  createSessionStore,
  createStorage,
  parseStorageProvider,
  resolveSessionProvider,
  StorageError,
  type RetainedStore,
  type SessionStore,
  type Storage,
  type StorageConfig,
} from '../storage/index.js';

/** `cluster.redis`: one URL for a standalone Redis, several (a list, or comma-separated) for Redis Cluster seeds. */
export function clusterRedisUrls(config: Config): string[] {
  const value = config.cluster.redis;
  const list = (Array.isArray(value) ? value : value.split(',')).map((url) => url.trim()).filter(Boolean);
  for (const url of list) {
    if (!/^rediss?:\/\//.test(url))
      throw new ConfigError(`cluster.redis: ${JSON.stringify(url)} is not a redis:// or rediss:// URL`);
  }
  return list;
}

/** A standalone node's name (the monitor's `stats/<node>/`): `cluster.name` or the host name. */
export function monitorNodeName(config: Config): string {
  return config.cluster.name || hostname().replace(/[^A-Za-z0-9.:-]/g, '-');
}

/** A cluster node's name: `cluster.name`, else host name and process id (unique per worker). */
export function clusterNodeName(config: Config): string {
  return config.cluster.name || `${hostname().replace(/[^A-Za-z0-9.:-]/g, '-')}-${process.pid}`;
}

/** Emitter's monitor section: provider plus `interval` (ms), `channel` (self) and `url` (statsd). */
export function monitorOptions(config: Config, clusterNode: string | undefined): BrokerOptions['monitor'] {
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

/**
 * The configured licence; without one, a new licence and secret are made and logged (at warn even when
 * the level hides warnings: a licence nobody saw would be lost at the next restart).
 */
export function resolveLicense(config: Config, logger: Logger): License {
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

/** Parses a licence; a bad one is a `ConfigError` naming the setting. */
export function readLicense(text: string): License {
  try {
    return parseLicense(text);
  } catch (error) {
    throw new ConfigError(`license: ${(error as Error).message}`);
  }
}

/** Storage settings come from `storage.config` (file or EMITTER_STORAGE_CONFIG[_*]); `ssd` defaults to ./data. */
export function openStorage(config: Config, logger: Logger): Storage {
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

/** Sessions follow storage.provider unless `session.provider` says otherwise, and sit where it keeps messages. */
export function openSessionStore(config: Config): SessionStore {
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

/** Retained messages sit where `storage.provider` keeps messages (`noop`: in memory, see the factory). */
export function openRetainedStore(config: Config): RetainedStore {
  const settings = config.storage.config as StorageConfig & Record<string, unknown>;
  try {
    return createRetainedStore(config.storage.provider, {
      ...settings,
      ...redisAddress(config, config.storage.provider),
      dir: typeof settings.dir === 'string' ? settings.dir : 'data',
    });
  } catch (error) {
    if (error instanceof StorageError) throw new ConfigError(`storage: ${error.message}`);
    throw error;
  }
}

/** The broker's listener and limits, from `listen`, `matcher`, `limit`, `mqtt5` and plain MQTT access. */
export function listenerOptions(
  config: Config,
): Pick<BrokerOptions, 'listen' | 'matcher' | 'limits' | 'mqtt5' | 'anonymous' | 'keyPassword'> {
  return {
    mqtt5: config.mqtt5,
    listen: parseListenAddress(config.listen, 8080),
    matcher: config.matcher === 'mqtt' ? 'mqtt' : 'emitter',
    anonymous: config.anonymous,
    keyPassword: config.keyPassword,
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
  };
}

/**
 * The TLS listener: a certificate and key are PEM text (starting with ---) or file paths, as in Emitter's
 * config. One without the other, an unreadable file or a key that does not fit the certificate stops the
 * start.
 */
export function tlsOptions(config: Config): BrokerOptions['tls'] {
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
