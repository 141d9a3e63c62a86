import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { generateLicense } from '../../src/security/index.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { startNode, waitForOccupancy, type ClusterNode } from '../helpers/cluster.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

// Kills the Redis connections a node reads cross-node messages on (its pub/sub connection and its inbox
// reader): what a network blip or a Redis `client-output-buffer-limit` does, with everything still up.
async function killReaders(redis: Redis, node: string): Promise<number> {
  const list = (await redis.client('LIST')) as string;
  let killed = 0;
  for (const line of list.split('\n')) {
    const id = /\bid=(\d+)/.exec(line)?.[1];
    if (id === undefined) continue;
    if (line.includes(`name=emitter-inbox:${node} `) || / flags=P /.test(line)) {
      killed += Number(await redis.client('KILL', 'ID', id));
    }
  }
  return killed;
}

describe('two nodes, in-memory sessions: QoS 1 through per-node inboxes (Redis Streams), takeover', () => {
  let redis: RedisServer;
  let admin: Redis;
  let nodes: ClusterNode[];
  const { license } = generateLicense();
  const secret = license.newMasterKey();

  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    nodes = await Promise.all(
      ['a', 'b'].map((name) => startNode({ name, license: license.toString(), redis: redis.url })),
    );
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    admin.disconnect();
    await redis.stop();
  });

  test('a burst of QoS 1 messages from node a reaches a persistent QoS 1 subscriber on node b completely, through a dropped Redis reader and a dropped subscriber connection', async () => {
    const publisher = await connectClient(nodes[0].port);
    const key = await keygen(publisher, secret, 'inbox/', 'rwp');
    const topic = `${key}/inbox/`;
    // The re-sent deliveries follow CONNACK at once: read them from each client's own record.
    const subscribers: TestClient[] = [];
    const got = (): Set<string> =>
      new Set(subscribers.flatMap((client) => client.received.map((m) => m.payload.toString())));
    const connectSubscriber = async (): Promise<TestClient> => {
      const client = await connectClient(nodes[1].port, { clientId: 'inbox-sub', clean: false });
      subscribers.push(client);
      return client;
    };
    let subscriber = await connectSubscriber();
    await subscriber.mqtt.subscribeAsync(topic, { qos: 1 });
    await waitForOccupancy(publisher, key, 'inbox/', 1);

    const total = 900;
    const chunk = 100;
    for (let start = 0; start < total; start += chunk) {
      const acks: Promise<unknown>[] = [];
      for (let i = start; i < start + chunk; i++)
        acks.push(publisher.mqtt.publishAsync(topic, `m${i}`, { qos: 1 }));
      if (start === 300) {
        // Mid-burst: node b's Redis readers are cut while node a keeps sending.
        assert.ok((await killReaders(admin, 'b')) >= 2, 'the pub/sub and inbox connections were killed');
      }
      if (start === 600) {
        // Mid-burst: the subscriber's connection drops; its persistent session on b queues meanwhile.
        subscriber.mqtt.end(true);
        subscriber = await connectSubscriber();
      }
      await Promise.all(acks);
    }
    const deadline = Date.now() + 20000;
    while (got().size < total && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const received = got();
    const missing = Array.from({ length: total }, (_, i) => `m${i}`).filter((m) => !received.has(m));
    assert.deepEqual(missing, [], 'every acknowledged QoS 1 publish reached the subscriber on node b');

    const metrics = await nodes[1].metrics();
    assert.ok((metrics.get('emitter_cluster_received_total') ?? 0) >= total, 'they came through the cluster');
    // Acknowledged entries are trimmed: the inbox does not keep what was delivered.
    let length = await admin.xlen('emitter:{b}:inbox');
    for (let i = 0; i < 100 && length > 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      length = await admin.xlen('emitter:{b}:inbox');
    }
    assert.ok(length <= 1, `inbox trimmed to its last entry after acknowledgement (${length} left)`);
    const pending = (await admin.xpending('emitter:{b}:inbox', 'node')) as [number, ...unknown[]];
    assert.equal(pending[0], 0, 'nothing left unacknowledged');
    await subscriber.end();
    await publisher.end();
  });

  test('a CONNECT on node a with a client id connected on node b closes the connection on node b (sessions not shared)', async () => {
    const older = await connectClient(nodes[1].port, { clientId: 'takeover-inmemory' });
    const closed = new Promise<void>((resolve) => older.mqtt.once('close', () => resolve()));
    const newer = await connectClient(nodes[0].port, { clientId: 'takeover-inmemory' });
    await Promise.race([
      closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('node b kept the connection')), 5000)),
    ]);
    assert.ok(newer.mqtt.connected, 'the newer connection is served');
    await newer.end();
    older.mqtt.end(true);
  });
});
