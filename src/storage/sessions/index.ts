/** Session stores: what an MQTT session keeps between connections, and its providers. */

export * from './session-store.js';
export { InMemorySessionStore } from './inmemory.js';
export {
  availableSessionProviders,
  createSessionStore,
  resolveSessionProvider,
  type SessionProviderPlace,
} from './factory.js';
export { sessionStoreSettings, type SessionStoreSettings } from './settings.js';
