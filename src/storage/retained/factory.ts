import type { StorageConfig } from '../config.js';
import { StorageError, StorageErrorCode } from '../storage-error.js';
import { InMemoryRetainedStore } from './inmemory.js';
import { RedisRetainedStore } from './redis.js';
import type { RetainedStore } from './retained-store.js';
import { SsdRetainedStore } from './ssd.js';

/**
 * Opens the retained store of a `storage.provider`, where that provider keeps its messages
 * (`storage.config`): `ssd` a file beside them, `redis` the same Redis, `inmemory` memory. `noop` keeps
 * retained messages in memory too: MQTT clients rely on them, and they are one message per topic.
 */
export function createRetainedStore(provider: string, place: StorageConfig = {}): RetainedStore {
  const now = place.now ?? Date.now;
  switch (provider.trim().toLowerCase()) {
    case '':
    case 'noop':
    case 'inmemory':
      return new InMemoryRetainedStore(now);
    case 'ssd':
      return new SsdRetainedStore(place, now);
    case 'redis':
      return new RedisRetainedStore(place, now);
    default:
      throw new StorageError(
        StorageErrorCode.Config,
        `unknown storage provider ${JSON.stringify(provider)}: use inmemory, ssd, redis or noop`,
      );
  }
}
