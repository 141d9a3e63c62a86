import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startTestBroker } from '../helpers/broker.js';
import { startRedis } from '../helpers/redis.js';
import { RedisCluster } from '../../src/cluster/index.js';
import { RedisStorage } from '../../src/storage/index.js';

interface Health {
  status: string;
  node: string;
  storage: { provider: string; ok: boolean; error?: string };
  cluster: { provider: string; connected: boolean; peers: string[] };
}

async function health(port: number): Promise<{ code: number; body: Health }> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  return { code: response.status, body: (await response.json()) as Health };
}

/** Polls /health (the state of Redis is not an event this process can await) until `accept`, at most 20 s. */
async function healthUntil(port: number, accept: (code: number, body: Health) => boolean): Promise<Health> {
  const deadline = Date.now() + 20000;
  let last: { code: number; body: Health } | undefined;
  while (Date.now() < deadline) {
    last = await health(port);
    if (accept(last.code, last.body)) return last.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`/health never matched; last ${last?.code} ${JSON.stringify(last?.body)}`);
}

test('/health of a single node: 200 with storage and cluster state', async () => {
  const server = await startTestBroker();
  try {
    const { code, body } = await health(server.port);
    assert.equal(code, 200);
    assert.equal(body.status, 'ok');
    assert.equal(body.node, `node${server.port}`);
    assert.deepEqual(body.storage, { provider: 'inmemory', ok: true });
    assert.deepEqual(body.cluster, { provider: 'local', connected: true, peers: [] });
  } finally {
    await server.close();
  }
});

test('/health with Redis storage and cluster: 503 while redis-server is dead, 200 again once it is back', async () => {
  const redis = await startRedis();
  const logger = pino({ level: 'silent' });
  const cluster = (name: string): RedisCluster =>
    new RedisCluster({ name, urls: [redis.url], deadAfterMs: 2000, logger });
  const a = await startTestBroker({ storage: new RedisStorage({ url: redis.url }), cluster: cluster('a') });
  const b = await startTestBroker({ cluster: cluster('b') });
  try {
    const ok = await healthUntil(a.port, (code, body) => code === 200 && body.cluster.peers.length === 1);
    assert.equal(ok.status, 'ok');
    assert.equal(ok.node, 'a');
    assert.deepEqual(ok.storage, { provider: 'redis', ok: true });
    assert.deepEqual(ok.cluster, { provider: 'redis', connected: true, peers: ['b'] });

    await redis.kill();
    // Node a cannot store: unavailable. Node b (in-memory storage) still serves its clients: degraded.
    const down = await healthUntil(a.port, (code) => code === 503);
    assert.equal(down.status, 'unavailable');
    assert.equal(down.storage.ok, false);
    assert.match(String(down.storage.error), /redis/);
    assert.equal(down.cluster.connected, false);
    const cutOff = await healthUntil(b.port, (code, body) => code === 200 && body.status === 'degraded');
    assert.equal(cutOff.cluster.connected, false);
    assert.equal(cutOff.storage.ok, true);

    await redis.restart();
    const back = await healthUntil(a.port, (code, body) => code === 200 && body.status === 'ok');
    assert.deepEqual(back.storage, { provider: 'redis', ok: true });
    assert.equal(back.cluster.connected, true);
    await healthUntil(b.port, (code, body) => body.status === 'ok' && body.cluster.peers.includes('a'));
  } finally {
    await a.close();
    await b.close();
    await redis.stop();
  }
});

test('/health answers 503 once shutdown has begun', async () => {
  const server = await startTestBroker();
  const closing = server.close();
  const report = server.broker.health();
  assert.equal(report.status, 'unavailable');
  assert.equal(report.reason, 'shutting down');
  await closing;
});
