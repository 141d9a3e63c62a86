/**
 * `emitter-ts/testing`: the conformance suites the built-in providers pass, for a provider of your own.
 * They register `node:test` tests; run the file with `node --test`.
 *
 *   import { runStorageConformance } from 'emitter-ts/testing';
 *   runStorageConformance('mystore', (config) => new MyStorage(config));
 */
export {
  runStorageConformance,
  type ConformanceContext,
  type StorageFactory,
} from './storage/conformance.js';
export {
  runSessionStoreConformance,
  type SessionStoreFactory,
  type SessionStoreTraits,
} from './sessions/conformance.js';
export { runRetainedStoreConformance, type RetainedStoreFactory } from './retained/conformance.js';
export { MessageMaker, TestClock } from './storage/fixtures/messages.js';
