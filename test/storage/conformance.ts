// Moved to src/testing/storage/conformance.ts (exported as emitter-ts/testing); kept so existing imports hold.
export * from '../../src/testing/storage/conformance.js';
