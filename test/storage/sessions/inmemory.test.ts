import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSessionStore, resolveSessionProvider } from '../../../src/storage/sessions/index.js';
import { StorageError, StorageErrorCode } from '../../../src/storage/storage-error.js';
import { runSessionStoreConformance } from './conformance.js';

runSessionStoreConformance('inmemory', (config) => createSessionStore('inmemory', config));

test('session stores follow the storage provider unless configured apart', () => {
  assert.equal(resolveSessionProvider(undefined, 'inmemory'), 'inmemory');
  assert.equal(resolveSessionProvider('', 'noop'), 'inmemory');
  assert.equal(resolveSessionProvider(' InMemory ', 'ssd'), 'inmemory');
});

test('an unknown session store provider is a Config error naming the choices', () => {
  assert.throws(
    () => createSessionStore('mongo'),
    (error: unknown) =>
      error instanceof StorageError &&
      error.code === StorageErrorCode.Config &&
      /mongo/.test(error.message) &&
      /inmemory/.test(error.message),
  );
  assert.throws(() => createSessionStore('inmemory', { maxQueuedMessages: 0 }), StorageError);
});
