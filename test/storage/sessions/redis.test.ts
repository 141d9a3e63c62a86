import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSessionStore, resolveSessionProvider } from '../../../src/storage/sessions/index.js';
import { bucketOf, RedisSessionStore, SESSION_BUCKETS } from '../../../src/storage/sessions/redis.js';
import { StorageError, StorageErrorCode } from '../../../src/storage/storage-error.js';
import {
  startRedis,
  startRedisCluster,
  type RedisClusterHandle,
  type RedisServer,
} from '../../helpers/redis.js';
import { runSessionStoreConformance } from './conformance.js';
import { checkKilledWriter } from './fixtures/killed-writer.js';

// The conformance suite's `place` becomes the key prefix: a fresh, empty store on a shared server,
// and the same sessions when reopened with the same place.
let redis: RedisServer;
let cluster: RedisClusterHandle;
before(async () => {
  redis = await startRedis();
  cluster = await startRedisCluster(3);
});
after(async () => {
  await redis.stop();
  await cluster.stop();
});

runSessionStoreConformance(
  'redis',
  (config, place) => createSessionStore('redis', config, { url: redis.url, prefix: `test:${place}:` }),
  { durable: true },
);

describe('on a 3-master Redis Cluster', () => {
  runSessionStoreConformance(
    'redis',
    (config, place) =>
      createSessionStore('redis', config, { cluster: cluster.urls, prefix: `test:${place}:` }),
    { durable: true },
  );
});

describe('redis session store, shared by brokers', () => {
  const message = (text: string) => ({
    topic: 'k/a/',
    payload: Buffer.from(text),
    qos: 1 as const,
    retain: false,
  });

  test('a session written by one broker is read, continued and purged by another', async () => {
    for (const place of [{ url: redis.url }, { cluster: cluster.urls }]) {
      const prefix = `shared:${Math.random().toString(36).slice(2)}:`;
      const a = createSessionStore('redis', {}, { ...place, prefix });
      const b = createSessionStore('redis', {}, { ...place, prefix });
      try {
        await a.open('c1');
        await a.addSubscriptions('c1', [{ topic: 'k/a/', qos: 1 }]);
        const first = await a.enqueue('c1', message('m1'));
        await a.markSent('c1', first.seq ?? 0, 7);
        await a.enqueue('c1', message('m2'));
        await a.setExpiry('c1', Date.now() + 60_000);
        // The client comes back through broker b.
        const record = await b.open('c1');
        assert.deepEqual(record?.subscriptions, [{ topic: 'k/a/', qos: 1 }]);
        assert.deepEqual(
          record?.outgoing.map((e) => [e.message.payload.toString(), e.packetId]),
          [
            ['m1', 7],
            ['m2', 0],
          ],
        );
        assert.equal(await b.acknowledge('c1', 7), true);
        assert.deepEqual(
          (await a.outgoing('c1')).map((e) => e.message.payload.toString()),
          ['m2'],
        );
        assert.deepEqual(await a.list(), ['c1']);
        await b.setExpiry('c1', Date.now() - 1);
        // Both purge at once: exactly one of them deletes and reports it.
        const [byA, byB] = await Promise.all([a.purgeExpired(), b.purgeExpired()]);
        assert.deepEqual([...byA, ...byB], ['c1']);
        assert.equal(await a.load('c1'), undefined);
      } finally {
        await a.close();
        await b.close();
      }
    }
  });

  test('every acknowledged write survives kill -9 of the broker process that made it', async () => {
    const prefix = `killed:${Math.random().toString(36).slice(2)}:`;
    await checkKilledWriter(['redis', redis.url, prefix], () =>
      createSessionStore('redis', {}, { url: redis.url, prefix }),
    );
  });

  test('concurrent enqueues from two brokers keep the bound and distinct seqs', async () => {
    const prefix = `bound:${Math.random().toString(36).slice(2)}:`;
    const a = createSessionStore('redis', { maxQueuedMessages: 50 }, { cluster: cluster.urls, prefix });
    const b = createSessionStore('redis', { maxQueuedMessages: 50 }, { cluster: cluster.urls, prefix });
    try {
      const calls = [];
      for (let i = 0; i < 200; i++) calls.push((i % 2 === 0 ? a : b).enqueue('c1', message(`m${i}`)));
      const results = await Promise.all(calls);
      const seqs = results.map((r) => r.seq).filter((seq) => seq !== undefined);
      assert.equal(new Set(seqs).size, seqs.length, 'no seq given twice');
      assert.equal(
        results.reduce((sum, r) => sum + r.dropped, 0),
        150,
      );
      const outgoing = await a.outgoing('c1');
      assert.equal(outgoing.length, 50);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("a session's keys share one slot whatever its client id; buckets spread client ids", () => {
    const counts = new Array<number>(SESSION_BUCKETS).fill(0);
    for (let i = 0; i < SESSION_BUCKETS * 20; i++) counts[bucketOf(`client-${i}`)]++;
    assert.ok(Math.min(...counts) > 0, 'every bucket used');
    assert.ok(Math.max(...counts) < 60, 'no bucket takes three times its share');
    assert.equal(bucketOf('{x}'), bucketOf('{x}'));
  });

  test('with Redis down, calls reject in bounded time with an Io error; after a restart they work', async () => {
    const server = await startRedis();
    const store = createSessionStore('redis', {}, { url: server.url, prefix: 'down:' });
    try {
      await store.enqueue('c1', message('before'));
      await server.kill();
      const started = Date.now();
      await assert.rejects(
        store.enqueue('c1', message('during')),
        (error: unknown) => error instanceof StorageError && error.code === StorageErrorCode.Io,
      );
      assert.ok(Date.now() - started < 8000, 'rejected within the command timeout');
      await server.restart();
      let done = false;
      for (let i = 0; i < 50 && !done; i++) {
        done = await store.enqueue('c1', message('after')).then(
          () => true,
          () => new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 200)),
        );
      }
      assert.ok(done, 'works again after Redis is back');
    } finally {
      await store.close();
      await server.stop();
    }
  });

  test('storage.provider redis gives the redis session store', async () => {
    assert.equal(resolveSessionProvider(undefined, 'redis'), 'redis');
    const store = createSessionStore(resolveSessionProvider('', 'redis'), {}, { url: redis.url });
    assert.ok(store instanceof RedisSessionStore);
    await store.close();
  });

  test('a missing or malformed URL is a Config error', () => {
    for (const place of [{}, { url: 'http://127.0.0.1:1' }]) {
      assert.throws(
        () => createSessionStore('redis', {}, place),
        (error: unknown) => error instanceof StorageError && error.code === StorageErrorCode.Config,
      );
    }
  });
});
