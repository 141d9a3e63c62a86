import { pino, type Logger } from 'pino';
import type { z } from 'zod';
import { Broker } from '../broker/broker.js';
import type { BrokerHooks } from '../broker/hooks.js';
import { RedisCluster } from '../cluster/index.js';
import { ConfigError, configSchema } from '../config/index.js';
import { refuseUnknownSettings } from '../config/unknown.js';
import { createKeygenPage } from '../http/keygen-page.js';
import type { Route as HttpRoute } from '../http/handler.js';
import { generateLicense, KeyAuthority } from '../security/index.js';
import type { RetainedStore, SessionStore, Storage } from '../storage/index.js';
import {
  clusterNodeName,
  clusterRedisUrls,
  listenerOptions,
  monitorOptions,
  openRetainedStore,
  openSessionStore,
  openStorage,
  resolveLicense,
  tlsOptions,
} from './providers.js';

/** `emitter.conf`'s shape as written (every field optional); `createBroker` fills in the defaults. */
export type BrokerConfig = z.input<typeof configSchema>;

/** What `createBroker` takes: the configuration, and what an application adds to it. */
export interface CreateBrokerOptions {
  /** The same settings as `emitter.conf` (validated by the same schema; defaults as documented). */
  readonly config?: BrokerConfig;
  /** Where the broker logs; default pino at `logging.level` on stdout. */
  readonly logger?: Logger;
  /** The application's rules: authenticate, authorizePublish, authorizeSubscribe, authorizeRequest. */
  readonly hooks?: BrokerHooks;
  /** Milliseconds a hook may take before it counts as a refusal (default 5000). */
  readonly hookTimeoutMs?: number;
  /**
   * `false`: clients write channels without a channel key (`room/1`); every channel is open to every
   * client the hooks let through. Default `true`: Emitter's channel keys, then the hooks.
   */
  readonly channelKeys?: boolean;
  /** A message storage of the application's own (instead of `storage.provider`); the broker closes it. */
  readonly storage?: Storage;
  /** A session store of the application's own (instead of `session.provider`); the broker closes it. */
  readonly sessionStore?: SessionStore;
  /** A retained-message store of the application's own (instead of the one `storage.provider` picks). */
  readonly retainedStore?: RetainedStore;
  /** Extra routes of the broker's own HTTP listener (`listen()`), by exact path. */
  readonly httpRoutes?: Record<string, HttpRoute>;
}

/**
 * Makes a broker from `emitter.conf`'s settings, joined to its cluster and with its stored sessions back,
 * ready to `listen()` on its own ports, `attach()` to the application's servers, or `handle()` streams.
 * A bad setting rejects with a `ConfigError` naming it. The `emitter` command starts through here too.
 */
export async function createBroker(options: CreateBrokerOptions = {}): Promise<Broker> {
  const config = validate(options.config ?? {});
  const logger = options.logger ?? pino({ level: config.logging.level, base: undefined });
  // Certificates are checked before anything opens or a licence is made.
  const tls = tlsOptions(config);
  // Keyless and in memory, nothing outlives the process: a licence of the moment does, without a notice.
  const ephemeral =
    options.channelKeys === false &&
    !config.license &&
    !options.storage &&
    config.storage.provider === 'inmemory';
  const license = ephemeral ? generateLicense().license : resolveLicense(config, logger);
  const authority = new KeyAuthority(license);
  const redisUrls = clusterRedisUrls(config);
  const nodeName = clusterNodeName(config);
  const storage = options.storage ?? openStorage(config, logger);
  logger.info({ provider: storage.name }, 'configured message storage');
  const sessionStore = options.sessionStore ?? openSessionStore(config);
  logger.info({ provider: sessionStore.name }, 'configured session store');
  const retained = options.retainedStore ?? openRetainedStore(config);
  const broker = new Broker({
    ...listenerOptions(config),
    license,
    authority,
    logger,
    tls,
    storage,
    retained,
    hooks: options.hooks,
    hookTimeoutMs: options.hookTimeoutMs,
    channelKeys: options.channelKeys,
    httpRoutes: { '/keygen': createKeygenPage(authority), ...options.httpRoutes },
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
  await broker.start();
  return broker;
}

// The same checks as a config file gets: unknown settings refused (closest name suggested), then the schema.
function validate(input: BrokerConfig): ReturnType<typeof configSchema.parse> {
  refuseUnknownSettings(input as Parameters<typeof refuseUnknownSettings>[0], {}, configSchema, 'config');
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join('.') || '(root)';
    throw new ConfigError(`config: ${field}: ${issue.message}`);
  }
  return result.data;
}
