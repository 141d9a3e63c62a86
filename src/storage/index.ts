/** The storage layer: the `Storage` interface, its providers and the message records they keep. */

export {
  createStorage,
  parseStorageProvider,
  StorageProvider,
  type Storage,
  type StorageOptions,
  type StorageHealth,
} from './storage.js';
export { DEFAULT_MAX_QUERY_BYTES, STORAGE_CONFIG_KEYS, type StorageConfig } from './config.js';
export { StorageError, StorageErrorCode } from './storage-error.js';
export {
  compareMessageIds,
  createMessage,
  DEFAULT_RETAIN_SECONDS,
  encodeMessageId,
  expiresAt,
  isExpired,
  MESSAGE_ID_LENGTH,
  MessageIdGenerator,
  messageIdAt,
  messageIdFromBase64,
  messageIdTime,
  messageIdToBase64,
  messageQueryBytes,
  parseMessageId,
  type CreateMessageOptions,
  type MessageIdFields,
  type MessageIdGeneratorOptions,
  type NewMessage,
  type StoredMessage,
} from './message.js';
export { matchesPattern, replayPattern, type StorageQuery } from './query.js';
export { DEFAULT_MAX_MEMORY_BYTES, InMemoryStorage } from './inmemory.js';
export { DEFAULT_SSD_DIR, SsdStorage } from './ssd.js';
export { NoopStorage } from './noop.js';
export {
  DEFAULT_HOLD_BYTES,
  DEFAULT_HOLD_MESSAGES,
  DEFAULT_HOLD_TIMEOUT_MS,
  RedisStorage,
  type RedisStorageConfig,
} from './redis.js';
export {
  createSessionStore,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_MESSAGES,
  InMemorySessionStore,
  OutgoingState,
  resolveSessionProvider,
  type EnqueueResult,
  type OutgoingEntry,
  type QueuedMessage,
  type SessionRecord,
  type SessionStore,
  type SessionStoreConfig,
  type StoredSubscription,
  type StoredWill,
} from './sessions/index.js';
export {
  createRetainedStore,
  InMemoryRetainedStore,
  isWildcardFilter,
  literalPrefix,
  RedisRetainedStore,
  RETAINED_FILE,
  SsdRetainedStore,
  topicMatchesFilter,
  type RetainedMessage,
  type RetainedStore,
} from './retained/index.js';
