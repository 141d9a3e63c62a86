// Moved to src/testing/storage/conformance/order.ts (exported as emitter-ts/testing); kept so existing imports hold.
export * from '../../../src/testing/storage/conformance/order.js';
