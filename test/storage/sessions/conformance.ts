// Moved to src/testing/sessions/conformance.ts (exported as emitter-ts/testing); kept so existing imports hold.
export * from '../../../src/testing/sessions/conformance.js';
