/**
 * The storage contract the broker uses (spec 7): store a published message with a ttl, read back the
 * newest messages of a channel pattern for `last`/`from`/`until` replay and history, and forget them when
 * they expire. Every provider passes the same conformance suite (`test/storage/conformance.ts`).
 */

import type { Logger } from 'pino';
import type { Ssid } from '../channel/ssid.js';
import type { StorageConfig } from './config.js';
import { InMemoryStorage } from './inmemory.js';
import type { StoredMessage } from './message.js';
import { NoopStorage } from './noop.js';
import { RedisStorage } from './redis.js';
import type { StorageQuery } from './query.js';
import { SsdStorage } from './ssd.js';
import { StorageError, StorageErrorCode } from './storage-error.js';

/**
 * A message store. Rules every provider keeps:
 * - order is the id's, i.e. (time, sequence); a query returns the newest `limit` matches, oldest first;
 * - a query SSID is a pattern: it may be shorter than stored SSIDs (`a/` reads `a/b/c/`), a `+` level
 *   matches any one level, a `#` level matches any level and everything below (so `a/#/` and `a/+/`
 *   do not read `a/` itself, as in Emitter), `*` is an ordinary level; wildcards may stand in the first
 *   level; a share SSID `[c, $share, group, ...]` reads `[c, ...]` (storage strips it, so callers pass
 *   subscription SSIDs unchanged);
 * - the result stops before the message that would take Σ(payload + id + channel) past `maxQueryBytes`
 *   (or the query's lower `maxBytes`), so it can be empty when the newest message alone is too big;
 * - an expired message is never returned, even before the background purge removes it;
 * - returned messages and their buffers are shared: read them, do not modify them.
 */
export interface Storage {
  /** The provider name: `inmemory`, `ssd`, `redis` or `noop`. */
  readonly name: string;
  /** Seconds a message published with RETAINED_TTL is kept (`storage.config.retain`): pass to `createMessage`. */
  readonly retain: number;
  /**
   * Stores a message; resolves once it is stored (committed to disk for `ssd`), which is when a QoS 1
   * publish may be acknowledged. A message already expired is dropped. Do not modify its buffers before
   * the promise settles.
   */
  store(message: StoredMessage): Promise<void>;
  /** The newest `query.limit` messages matching the `ssid` pattern in the window, oldest first. */
  query(ssid: Ssid, query: StorageQuery): Promise<StoredMessage[]>;
  /** Removes expired messages now (a background timer also does it); resolves to how many. */
  purgeExpired(): Promise<number>;
  /** Commits pending writes, stops timers and releases files; later calls reject with `Closed`. */
  close(): Promise<void>;
  /** Whether it can store and read now (Redis reachable, database writable, not closed); cheap, for /health. */
  health(): StorageHealth;
}

/** A storage's state as `/health` reports it. */
export interface StorageHealth {
  readonly ok: boolean;
  /** Why not, when not ok. */
  readonly error?: string;
}

/** What a provider gets besides its settings. */
export interface StorageOptions {
  /** Where a provider reports what its callers cannot see (redis: an outage, held writes flushed). */
  readonly logger?: Logger;
}

/** The providers `createStorage` knows. */
export const StorageProvider = { InMemory: 'inmemory', Ssd: 'ssd', Redis: 'redis', Noop: 'noop' } as const;
/** One of the `StorageProvider` values. */
export type StorageProvider = (typeof StorageProvider)[keyof typeof StorageProvider];

/**
 * The provider named by `storage.provider`: case-insensitive, empty or missing means `noop` (Emitter's
 * default without a storage section); an unknown name throws a `StorageError` (Config).
 */
export function parseStorageProvider(name: string | undefined): StorageProvider {
  const lower = (name ?? '').trim().toLowerCase();
  if (lower === '') return StorageProvider.Noop;
  for (const provider of Object.values(StorageProvider)) if (provider === lower) return provider;
  throw new StorageError(
    StorageErrorCode.Config,
    `unknown storage provider ${JSON.stringify(name)}: use inmemory, ssd, redis or noop`,
  );
}

/** Opens a provider; throws a `StorageError` when the config is invalid or the ssd files are unusable. */
export function createStorage(
  provider: StorageProvider,
  config: StorageConfig = {},
  options: StorageOptions = {},
): Storage {
  switch (provider) {
    case StorageProvider.InMemory:
      return new InMemoryStorage(config);
    case StorageProvider.Ssd:
      return new SsdStorage(config);
    case StorageProvider.Redis:
      return new RedisStorage(config, options);
    case StorageProvider.Noop:
      return new NoopStorage(config);
    default:
      return parseAndCreate(provider, config, options);
  }
}

// A name that slipped past the type (a config string cast to StorageProvider): parse it properly.
function parseAndCreate(name: string, config: StorageConfig, options: StorageOptions): Storage {
  const provider = parseStorageProvider(name);
  return createStorage(provider, config, options);
}
