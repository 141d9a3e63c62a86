import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InMemoryStorage } from '../../src/storage/inmemory.js';
import { createStorage } from '../../src/storage/storage.js';
import { runStorageConformance } from './conformance.js';
import { MessageMaker, ssidOf, TestClock, texts } from './fixtures/messages.js';

runStorageConformance('inmemory', (config) => createStorage('inmemory', config));

test('inmemory: past maxBytes the oldest stored messages are evicted first', async () => {
  const maker = new MessageMaker(new TestClock());
  const storage = new InMemoryStorage({ maxBytes: 20_000, purgeIntervalMs: 0 });
  for (let i = 0; i < 100; i++) {
    await storage.store(maker.message(i % 2 === 0 ? 'even/' : 'odd/', `${i}`.padEnd(500, '.')));
  }
  assert.ok(storage.bytes <= 20_000, `${storage.bytes} bytes held`);
  assert.ok(storage.size > 10 && storage.size < 100, `${storage.size} messages held`);
  const kept = (await storage.query(ssidOf('+/'), { limit: 1000 })).map((m) =>
    Number.parseInt(m.payload.toString()),
  );
  assert.equal(kept.length, storage.size);
  // The survivors are exactly the newest ones, in order.
  assert.deepEqual(
    kept,
    Array.from({ length: kept.length }, (_, i) => 100 - kept.length + i),
  );
  await storage.close();
});

test('inmemory: eviction and expiry together keep the books straight', async () => {
  const clock = new TestClock();
  const maker = new MessageMaker(clock);
  const storage = new InMemoryStorage({ maxBytes: 200_000, purgeIntervalMs: 0, now: clock.now });
  for (let i = 0; i < 5000; i++) {
    await storage.store(
      maker.message(`c/${i % 50}/`, Buffer.alloc(40), { ttl: i % 3 === 0 ? 0 : 1 + (i % 7) }),
    );
    if (i % 500 === 0) {
      clock.advance(3000);
      await storage.purgeExpired();
    }
  }
  clock.advance(10_000);
  await storage.purgeExpired();
  const left = await storage.query(ssidOf('c/'), { limit: 100_000 });
  assert.equal(left.length, storage.size);
  assert.ok(left.every((m) => m.expires === 0));
  assert.ok(storage.bytes <= 200_000);
  await storage.close();
  assert.equal(storage.size, 0);
});

test('inmemory: the background purge drops expired messages and frees their channels', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const clock = new TestClock();
  const maker = new MessageMaker(clock);
  const storage = new InMemoryStorage({ purgeIntervalMs: 1000, now: clock.now });
  await storage.store(maker.message('a/b/', 'x', { ttl: 2 }));
  await storage.store(maker.message('c/', 'y', { ttl: 100 }));
  assert.equal(storage.channels, 2);
  clock.advance(3000);
  t.mock.timers.tick(1000);
  assert.equal(storage.size, 1);
  assert.equal(storage.channels, 1);
  assert.deepEqual(texts(await storage.query(ssidOf('+/'), { limit: 5 })), ['y']);
  await storage.close();
});

test('inmemory: stores a copy of the payload', async () => {
  const maker = new MessageMaker(new TestClock());
  const storage = new InMemoryStorage();
  const payload = Buffer.from('abc');
  await storage.store(maker.message('a/', payload));
  payload.fill(0);
  assert.deepEqual(texts(await storage.query(ssidOf('a/'), { limit: 1 })), ['abc']);
  await storage.close();
});

test('inmemory: messages stored out of time order are read in time order', async () => {
  const clock = new TestClock();
  const maker = new MessageMaker(clock);
  const storage = new InMemoryStorage();
  for (const offset of [5, 1, 3, 2, 4]) {
    await storage.store(maker.message('a/', `${offset}`, { time: clock.time + offset * 1000 }));
  }
  assert.deepEqual(texts(await storage.query(ssidOf('a/'), { limit: 10 })), ['1', '2', '3', '4', '5']);
  await storage.close();
});

test('inmemory: a bad maxBytes is a config error', () => {
  assert.throws(() => new InMemoryStorage({ maxBytes: -1 }), /maxBytes must be a positive integer/);
});
