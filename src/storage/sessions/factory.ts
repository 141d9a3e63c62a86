import { StorageError, StorageErrorCode } from '../storage-error.js';
import { InMemorySessionStore } from './inmemory.js';
import { RedisSessionStore, type RedisSessionPlace } from './redis.js';
import type { SessionStore, SessionStoreConfig } from './session-store.js';
import { SsdSessionStore, type SsdSessionPlace } from './ssd.js';

/**
 * Where a provider keeps its sessions (a directory, a Redis URL): the message storage's `storage.config`,
 * passed through, so sessions sit beside the messages unless configured apart.
 */
export type SessionProviderPlace = Readonly<Record<string, unknown>>;

type Factory = (config: SessionStoreConfig, place: SessionProviderPlace) => SessionStore;

// Providers by name. `place` is `storage.config`, whose field types the config schema has checked.
const providers = new Map<string, Factory>([
  ['inmemory', (config) => new InMemorySessionStore(config)],
  ['ssd', (config, place) => new SsdSessionStore(config, place as SsdSessionPlace)],
  ['redis', (config, place) => new RedisSessionStore(config, place as RedisSessionPlace)],
]);

/** The provider names `createSessionStore` can open. */
export function availableSessionProviders(): string[] {
  return [...providers.keys()];
}

/**
 * Which session store to use: `session.provider` when set, else the message storage provider when it
 * has a session store, else `inmemory` (the `noop` storage keeps nothing, sessions still need a home).
 */
export function resolveSessionProvider(configured: string | undefined, storageProvider: string): string {
  const name = (configured ?? '').trim().toLowerCase();
  if (name !== '') return name;
  const storage = storageProvider.trim().toLowerCase();
  return providers.has(storage) ? storage : 'inmemory';
}

/** Opens a session store by provider name; an unknown name throws a `StorageError` (Config). */
export function createSessionStore(
  provider: string,
  config: SessionStoreConfig = {},
  place: SessionProviderPlace = {},
): SessionStore {
  const factory = providers.get(provider.trim().toLowerCase());
  if (factory === undefined) {
    throw new StorageError(
      StorageErrorCode.Config,
      `unknown session store provider ${JSON.stringify(provider)}: use ${availableSessionProviders().join(', ')}`,
    );
  }
  return factory(config, place);
}
