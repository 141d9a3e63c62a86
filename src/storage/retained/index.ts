/** Retained messages as MQTT defines them: one per topic, per contract. */
export { createRetainedStore } from './factory.js';
export { InMemoryRetainedStore } from './inmemory.js';
export { RedisRetainedStore } from './redis.js';
export { RETAINED_FILE, SsdRetainedStore, type SsdRetainedPlace } from './ssd.js';
export {
  filterMatcher,
  isRetainedExpired,
  isWildcardFilter,
  literalPrefix,
  topicMatchesFilter,
  type RetainedMessage,
  type RetainedStore,
} from './retained-store.js';
