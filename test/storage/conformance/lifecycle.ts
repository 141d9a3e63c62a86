// Moved to src/testing/storage/conformance/lifecycle.ts (exported as emitter-ts/testing); kept so existing imports hold.
export * from '../../../src/testing/storage/conformance/lifecycle.js';
