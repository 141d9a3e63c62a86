import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { RedisStorage } from '../../src/storage/redis.js';
import { createStorage } from '../../src/storage/storage.js';
import { StorageError, StorageErrorCode } from '../../src/storage/storage-error.js';
import {
  startRedis,
  startRedisCluster,
  type RedisClusterHandle,
  type RedisServer,
} from '../helpers/redis.js';
import { runStorageConformance } from './conformance.js';
import { MessageMaker, ssidOf, TestClock } from './fixtures/messages.js';

// Every storage opened gets its own key prefix: a fresh, empty store on a shared server.
const freshPrefix = (): string => `test:${randomBytes(6).toString('hex')}:`;

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

runStorageConformance('redis', (config) =>
  createStorage('redis', { ...config, url: redis.url, prefix: freshPrefix() }),
);
describe('on a 3-master Redis Cluster', () => {
  runStorageConformance('redis', (config) =>
    createStorage('redis', { ...config, cluster: cluster.urls, prefix: freshPrefix() }),
  );
});

describe('redis storage, shared by brokers', () => {
  test('a message stored through one instance is read by another', async () => {
    const prefix = freshPrefix();
    const maker = new MessageMaker(new TestClock());
    const a = new RedisStorage({ url: redis.url, prefix });
    const b = new RedisStorage({ url: redis.url, prefix });
    try {
      await a.store(maker.message('shared/x/', 'from a'));
      const got = await b.query(ssidOf('shared/'), { limit: 10 });
      assert.deepEqual(
        got.map((m) => m.payload.toString()),
        ['from a'],
      );
      assert.equal(got[0].channel, 'shared/x/');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('with holding off (holdMessages 0) and Redis down, store rejects in bounded time; after a restart it works again', async () => {
    const server = await startRedis();
    const maker = new MessageMaker(new TestClock());
    const storage = new RedisStorage({ url: server.url, prefix: freshPrefix(), holdMessages: 0 });
    try {
      await storage.store(maker.message('up/', 'before'));
      await server.kill();
      const started = Date.now();
      await assert.rejects(
        storage.store(maker.message('up/', 'during')),
        (err: unknown) => err instanceof StorageError && err.code === StorageErrorCode.Io,
      );
      assert.ok(Date.now() - started < 8000, 'rejected within the command timeout');
      await server.restart();
      // ioredis reconnects with a back-off of at most 1 s: retry a bounded number of times.
      let stored = false;
      for (let i = 0; i < 50 && !stored; i++) {
        stored = await storage.store(maker.message('up/', 'after')).then(
          () => true,
          () => new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 200)),
        );
      }
      assert.ok(stored, 'stores again once Redis is back');
      const got = await storage.query(ssidOf('up/'), { limit: 10 });
      assert.deepEqual(
        got.map((m) => m.payload.toString()),
        ['after'],
        'the restarted server is empty (no persistence) and holds the new message',
      );
    } finally {
      await storage.close();
      await server.stop();
    }
  });

  test('with Redis down, stores are held and resolve once it is back, in order; a query meanwhile fails', async () => {
    const server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    const maker = new MessageMaker(new TestClock());
    const storage = new RedisStorage({ url: server.url, prefix: freshPrefix() });
    try {
      await storage.store(maker.message('held/', 'before'));
      await server.kill();
      let settled = 0;
      const held = ['one', 'two', 'three'].map((text) =>
        storage.store(maker.message('held/', text)).finally(() => settled++),
      );
      await assert.rejects(
        storage.query(ssidOf('held/'), { limit: 10 }),
        (err: unknown) => err instanceof StorageError && err.code === StorageErrorCode.Io,
        'a read cannot be held: it fails while Redis is down',
      );
      assert.equal(settled, 0, 'no held store settled while Redis is down');
      await server.restart();
      await Promise.all(held);
      const got = await storage.query(ssidOf('held/'), { limit: 10 });
      assert.deepEqual(
        got.map((m) => m.payload.toString()),
        ['before', 'one', 'two', 'three'],
      );
    } finally {
      await storage.close();
      await server.stop();
    }
  });

  test('a store held past holdTimeoutMs rejects (Unreachable); closing rejects the held ones (Closed)', async () => {
    const server = await startRedis();
    const maker = new MessageMaker(new TestClock());
    const storage = new RedisStorage({ url: server.url, prefix: freshPrefix(), holdTimeoutMs: 300 });
    try {
      await storage.store(maker.message('late/', 'before'));
      await server.kill();
      await assert.rejects(
        storage.store(maker.message('late/', 'too late')),
        (err: unknown) =>
          err instanceof StorageError &&
          err.code === StorageErrorCode.Unreachable &&
          /holdTimeoutMs/.test(err.message),
      );
    } finally {
      await storage.close();
      await server.stop();
    }
    const patient = new RedisStorage({ url: server.url, prefix: freshPrefix(), holdTimeoutMs: 60000 });
    const closed = assert.rejects(
      patient.store(maker.message('late/', 'never')),
      (err: unknown) => err instanceof StorageError && err.code === StorageErrorCode.Closed,
    );
    await patient.close();
    await closed;
  });

  test('a missing or malformed url is a configuration error', () => {
    const config = (err: unknown) => err instanceof StorageError && err.code === StorageErrorCode.Config;
    assert.throws(() => new RedisStorage({}), config);
    assert.throws(() => new RedisStorage({ url: 'localhost:6379' }), config);
    assert.throws(() => new RedisStorage({ url: redis.url, holdMessages: -1 }), config);
    assert.throws(() => new RedisStorage({ url: redis.url, holdBytes: 1.5 }), config);
    assert.throws(() => new RedisStorage({ url: redis.url, holdTimeoutMs: 0 }), config);
  });
});
