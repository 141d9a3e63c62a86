export { Broker, type BrokerOptions, type ListenAddress } from './broker/broker.js';
export { ListenError } from './broker/listen-error.js';
export { loadConfig, type Config } from './config/index.js';
export { EmitterError, Errors } from './errors.js';
export { createSecureServer, createServer, MqttConnection } from './mqtt/index.js';
export { generateLicense, KeyAuthority, parseLicense, Permission } from './security/index.js';
export {
  createSessionStore,
  createStorage,
  InMemorySessionStore,
  OutgoingState,
  type OutgoingEntry,
  type QueuedMessage,
  type SessionRecord,
  type SessionStore,
  type SessionStoreConfig,
  type Storage,
  type StoredSubscription,
} from './storage/index.js';
