export { Broker, type AttachOptions, type BrokerOptions, type ListenAddress } from './broker/broker.js';
export type {
  BrokerEventMap,
  BrokerEventName,
  DropReason,
  DroppedEvent,
  PublishedEvent,
} from './broker/events.js';
export type {
  BrokerClient,
  BrokerHooks,
  BrokerRequest,
  ConnectRefusal,
  HookAnswer,
  PublishRequest,
  SubscriptionRequest,
} from './broker/hooks.js';
export { createBroker, type BrokerConfig, type CreateBrokerOptions } from './embed/create-broker.js';
export { ListenError } from './broker/listen-error.js';
export { ConfigError, loadConfig, type Config } from './config/index.js';
export { EmitterError, Errors } from './errors.js';
export { createSecureServer, createServer, MqttConnection } from './mqtt/index.js';
export { generateLicense, KeyAuthority, parseLicense, Permission } from './security/index.js';
export {
  createRetainedStore,
  createSessionStore,
  createStorage,
  InMemoryRetainedStore,
  InMemorySessionStore,
  OutgoingState,
  type OutgoingEntry,
  type QueuedMessage,
  type RetainedMessage,
  type RetainedStore,
  type SessionRecord,
  type SessionStore,
  type SessionStoreConfig,
  type Storage,
  type StorageConfig,
  type StoredMessage,
  type StorageQuery,
  type StoredSubscription,
} from './storage/index.js';
// For providers of one's own (README "Custom providers"; conformance suites in `emitter-ts/testing`).
export { commonSettings, type CommonSettings } from './storage/config.js';
export { planQuery, ResultCollector, type QueryPlan } from './storage/query.js';
export {
  compareMessageIds,
  isExpired,
  matchesPattern,
  StorageError,
  StorageErrorCode,
  type StorageHealth,
} from './storage/index.js';
