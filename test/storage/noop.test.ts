import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStorage, parseStorageProvider } from '../../src/storage/storage.js';
import { StorageError } from '../../src/storage/storage-error.js';
import { MessageMaker, ssidOf, TestClock } from './fixtures/messages.js';

test('noop stores nothing and finds nothing', async () => {
  const storage = createStorage('noop');
  assert.equal(storage.name, 'noop');
  await storage.store(new MessageMaker(new TestClock()).message('a/', 'x', { ttl: 10 }));
  assert.deepEqual(await storage.query(ssidOf('a/'), { limit: 10 }), []);
  assert.equal(await storage.purgeExpired(), 0);
  await storage.close();
});

test('parseStorageProvider: case-insensitive, empty means noop, unknown throws', () => {
  assert.equal(parseStorageProvider('InMemory'), 'inmemory');
  assert.equal(parseStorageProvider('SSD'), 'ssd');
  assert.equal(parseStorageProvider(''), 'noop');
  assert.equal(parseStorageProvider(undefined), 'noop');
  assert.throws(() => parseStorageProvider('badger'), StorageError);
});

test('createStorage refuses a bad shared setting', () => {
  assert.throws(() => createStorage('inmemory', { retain: 0 }), /retain must be a positive integer/);
  assert.throws(() => createStorage('noop', { maxQueryBytes: 1.5 }), /maxQueryBytes/);
});
