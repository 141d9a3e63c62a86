import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { generateLicense, KeyAuthority } from '../../src/security/index.js';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { startNode, type ClusterNode } from '../helpers/cluster.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const WORKERS = 2;

/** Starts `emitter` with two workers on one port and waits until both serve. */
async function startWorkers(redis: RedisServer, license: string): Promise<ClusterNode> {
  const node = await startNode({
    name: 'host',
    license,
    redis: redis.url,
    env: { EMITTER_CLUSTER_WORKERS: String(WORKERS) },
  });
  await waitForOutput(node, (text) => (text.match(/"service started"/g) ?? []).length >= WORKERS);
  return node;
}

/** Resolves once the node's output so far passes `done`; rejects after `timeoutMs`. */
function waitForOutput(node: ClusterNode, done: (text: string) => boolean, timeoutMs = 30000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!done(node.output())) return;
      clearTimeout(timer);
      node.child.stdout.off('data', check);
      resolve();
    };
    const timer = setTimeout(() => {
      node.child.stdout.off('data', check);
      reject(new Error(`expected output did not come within ${timeoutMs} ms: ${node.output()}`));
    }, timeoutMs);
    // The node's own listener runs first (it was added at spawn), so output() already holds the chunk.
    node.child.stdout.on('data', check);
    check();
  });
}

/** `/metrics` as name -> value, over a connection of its own (fetch would re-use one, and one worker). */
async function scrapeOnNewConnection(port: number): Promise<Map<string, number>> {
  const request = http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false, timeout: 10000 });
  request.on('timeout', () => request.destroy(new Error('/metrics did not answer within 10 s')));
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  let text = '';
  for await (const chunk of response) text += String(chunk);
  assert.equal(response.statusCode, 200, text);
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** Opens `count` clients; Node's cluster module deals connections to the workers in turn. */
function connectMany(port: number, count: number): Promise<TestClient[]> {
  return Promise.all(Array.from({ length: count }, () => connectClient(port)));
}

describe('cluster.workers: SIGTERM', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());

  test('every worker exits by itself, exit code 0, the host within the 10 s the README promises', async () => {
    const { license } = generateLicense();
    const node = await startWorkers(redis, license.toString());
    // Clients on both workers, one subscribed: their sockets must not hold a worker open either.
    const clients = await connectMany(node.port, 4);
    const key = new KeyAuthority(license).createKey({
      secret: license.newMasterKey(),
      channel: 'room/',
      type: 'rw',
      ttl: 0,
    });
    assert.ok(!(key instanceof Error));
    await clients[1].mqtt.subscribeAsync(`${key.key}/room/`);

    // Each worker's banner names its node and the cluster it joined.
    const banners = [...node.output().matchAll(/^\{.*"msg":"service started"\}$/gm)].map(
      (match) => JSON.parse(match[0]) as { node: string; cluster: string },
    );
    assert.deepEqual(banners.map((banner) => banner.node).sort(), ['host-0', 'host-1']);
    for (const banner of banners) assert.match(banner.cluster, new RegExp(`^redis ${redis.url}, \\d+ peer`));

    const startedAt = Date.now();
    const exited = once(node.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    node.child.kill('SIGTERM');
    // Bounded well past the supervisor's own kill deadline, so a regression fails instead of hanging.
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no exit within 20 s: ${node.output()}`)), 20000).unref(),
    );
    const [code, signal] = await Promise.race([exited, timeout]);
    const elapsed = Date.now() - startedAt;
    await Promise.all(clients.map((client) => client.end()));

    assert.equal(signal, null);
    assert.equal(code, 0, node.output());
    assert.ok(elapsed < 10000, `the host took ${elapsed} ms to stop`);
    const stops = [...node.output().matchAll(/\{[^\n]*"msg":"worker stopped"\}/g)].map(
      (match) => JSON.parse(match[0]) as { worker: number; code: number | null; signal: string | null },
    );
    assert.deepEqual(
      stops
        .map((stop) => ({ worker: stop.worker, code: stop.code, signal: stop.signal }))
        .sort((a, b) => a.worker - b.worker),
      [
        { worker: 0, code: 0, signal: null },
        { worker: 1, code: 0, signal: null },
      ],
      'each worker exited 0 on its own, not killed by the supervisor',
    );
    assert.doesNotMatch(node.output(), /did not stop in time/);
  });
});

describe('cluster.workers: /metrics', () => {
  let redis: RedisServer;
  let node: ClusterNode;
  const { license } = generateLicense();

  before(async () => {
    redis = await startRedis();
    node = await startWorkers(redis, license.toString());
  });
  after(async () => {
    await node.kill('SIGTERM');
    await redis.stop();
  });

  test('every scrape, whichever worker answers it, counts the clients and messages of all workers', async () => {
    const clients = await connectMany(node.port, 4);
    const key = new KeyAuthority(license).createKey({
      secret: license.newMasterKey(),
      channel: 'count/',
      type: 'w',
      ttl: 0,
    });
    assert.ok(!(key instanceof Error));
    // QoS 1: the PUBACK comes after the broker counted the message.
    for (const client of clients)
      for (let i = 0; i < 5; i++) await client.mqtt.publishAsync(`${key.key}/count/`, `m${i}`, { qos: 1 });

    // Each scrape on a new connection, so the workers take turns answering.
    for (let scrape = 0; scrape < 4; scrape++) {
      const metrics = await scrapeOnNewConnection(node.port);
      assert.equal(
        metrics.get('emitter_connections'),
        4,
        `scrape ${scrape}: open connections of both workers`,
      );
      assert.equal(metrics.get('emitter_connections_total'), 4, `scrape ${scrape}: accepted connections`);
      assert.equal(metrics.get('emitter_messages_in_total'), 20, `scrape ${scrape}: messages in`);
      // One version line, not one per worker: prom-client's own aggregators apply to Node's metrics.
      assert.equal([...metrics.keys()].filter((name) => name.startsWith('nodejs_version_info')).length, 1);
      assert.equal(metrics.get('emitter_cluster_peers'), WORKERS - 1, 'peers: the most any worker knows');
    }
    await Promise.all(clients.map((client) => client.end()));
  });
});
