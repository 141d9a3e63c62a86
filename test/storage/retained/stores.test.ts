import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createRetainedStore,
  literalPrefix,
  StorageError,
  topicMatchesFilter,
} from '../../../src/storage/index.js';
import {
  startRedis,
  startRedisCluster,
  type RedisClusterHandle,
  type RedisServer,
} from '../../helpers/redis.js';
import { runRetainedStoreConformance } from '../../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'emitter-retained-'));
let redis: RedisServer;
let cluster: RedisClusterHandle;
before(async () => {
  redis = await startRedis();
  cluster = await startRedisCluster(3);
});
after(async () => {
  await redis.stop();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

runRetainedStoreConformance('inmemory', (_place, now) => createRetainedStore('inmemory', { now }), {
  durable: false,
});
runRetainedStoreConformance(
  'ssd',
  (place, now) => createRetainedStore('ssd', { dir: join(dir, place), now }),
  { durable: true },
);
runRetainedStoreConformance(
  'redis',
  (place, now) => createRetainedStore('redis', { url: redis.url, prefix: `t:${place}:`, now }),
  { durable: true },
);
describe('on a 3-master Redis Cluster', () => {
  runRetainedStoreConformance(
    'redis',
    (place, now) => createRetainedStore('redis', { cluster: cluster.urls, prefix: `t:${place}:`, now }),
    { durable: true },
  );
});

describe('retained topic rules', () => {
  test('[MQTT-4.7.1-2] # matches the parent level and any number of levels', () => {
    assert.ok(topicMatchesFilter('sport/#', 'sport'));
    assert.ok(topicMatchesFilter('sport/#', 'sport/tennis/player1/ranking'));
    assert.ok(topicMatchesFilter('#', 'a/b'));
    assert.ok(!topicMatchesFilter('sport/#', 'sports'));
  });
  test('[MQTT-4.7.1-3] + matches exactly one level, an empty one too', () => {
    assert.ok(topicMatchesFilter('sport/+', 'sport/'));
    assert.ok(!topicMatchesFilter('sport/+', 'sport'));
    assert.ok(topicMatchesFilter('+/+', '/finance'));
    assert.ok(!topicMatchesFilter('sport/+', 'sport/a/b'));
  });
  test('[MQTT-4.7.2-1] a leading wildcard does not match a $ topic', () => {
    assert.ok(!topicMatchesFilter('#', '$SYS/x'));
    assert.ok(!topicMatchesFilter('+/monitor', '$SYS/monitor'));
    assert.ok(topicMatchesFilter('$SYS/#', '$SYS/x'));
    assert.ok(topicMatchesFilter('a/+', 'a/$b'));
  });
  test('the literal prefix keeps the parent level of #', () => {
    assert.equal(literalPrefix('a/b/#'), 'a/b');
    assert.equal(literalPrefix('a/+/c'), 'a');
    assert.equal(literalPrefix('#'), '');
  });
  test('an unknown provider is a config error', () => {
    assert.throws(() => createRetainedStore('tape'), StorageError);
  });
});
