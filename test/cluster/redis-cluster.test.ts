import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { generateLicense } from '../../src/security/index.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { presenceStatus, startNode, waitForOccupancy, type ClusterNode } from '../helpers/cluster.js';
import { startRedis, startRedisCluster, type RedisServer } from '../helpers/redis.js';

const DEAD_AFTER_MS = 2000;

/** Opens one client per node and a key for `channel` (rw, load, store, presence). */
async function setUp(
  nodes: readonly ClusterNode[],
  secret: string,
  channel: string,
): Promise<{ clients: TestClient[]; key: string }> {
  const clients = await Promise.all(nodes.map((node) => connectClient(node.port)));
  const key = await keygen(clients[0], secret, channel, 'rwlsp');
  return { clients, key };
}

const events = (client: TestClient, event: string) =>
  client.received
    .filter((m) => m.topic === 'emitter/presence/')
    .map((m) => JSON.parse(m.payload.toString()) as { event: string; who: { id: string; username?: string } })
    .filter((m) => m.event === event);

/**
 * Publishers on two nodes, a subscriber on every node (one of them through two matching subscriptions):
 * every subscriber gets every message once, each publisher's messages in the order sent.
 */
async function checkDeliveryEverywhere(nodes: readonly ClusterNode[], secret: string): Promise<void> {
  const { clients, key } = await setUp(nodes, secret, 'order/#/');
  try {
    const subscribers = await Promise.all(nodes.map((node) => connectClient(node.port)));
    await subscribers[0].mqtt.subscribeAsync(`${key}/order/`);
    await subscribers[1].mqtt.subscribeAsync(`${key}/order/x/`);
    await subscribers[2].mqtt.subscribeAsync(`${key}/order/+/`);
    await subscribers[2].mqtt.subscribeAsync(`${key}/order/`);
    for (const client of clients) await waitForOccupancy(client, key, 'order/x/', 3);

    const count = 200;
    const publish = async (client: TestClient, name: string): Promise<void> => {
      for (let i = 0; i < count; i++) client.mqtt.publish(`${key}/order/x/`, `${name}:${i}`);
      await client.mqtt.publishAsync(`${key}/order/x/`, `${name}:end`, { qos: 1 });
    };
    await Promise.all([publish(clients[0], 'a'), publish(clients[1], 'b')]);
    for (const [index, subscriber] of subscribers.entries()) {
      for (const name of ['a', 'b'])
        await subscriber.next((m) => m.payload.toString() === `${name}:end`, 10000);
      const got = subscriber.received.filter((m) => m.topic === 'order/x/').map((m) => m.payload.toString());
      for (const name of ['a', 'b']) {
        const sequence = got.filter((p) => p.startsWith(`${name}:`) && !p.endsWith(':end'));
        assert.deepEqual(
          sequence,
          Array.from({ length: count }, (_, i) => `${name}:${i}`),
          `subscriber on node ${index} gets publisher ${name}'s messages once each, in order`,
        );
      }
      assert.equal(got.length, 2 * (count + 1), `no extra copies on node ${index}`);
    }
    await Promise.all(subscribers.map((client) => client.end()));
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}

describe('cluster of three nodes on one Redis', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[];
  const { license } = generateLicense();
  const secret = license.newMasterKey();

  before(async () => {
    redis = await startRedis();
    nodes = await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        startNode({
          name,
          license: license.toString(),
          redis: redis.url,
          deadAfterMs: DEAD_AFTER_MS,
          env: { EMITTER_STORAGE_PROVIDER: 'redis', EMITTER_STORAGE_CONFIG_URL: redis.url },
        }),
      ),
    );
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    await redis.stop();
  });

  test('every subscriber on every node gets each message once, in the publisher order', async () => {
    await checkDeliveryEverywhere(nodes, secret);
  });

  test('a node with no matching subscriber receives no copies (interest routing)', async () => {
    const { clients, key } = await setUp(nodes, secret, 'only-b/');
    await clients[1].mqtt.subscribeAsync(`${key}/only-b/`);
    await waitForOccupancy(clients[0], key, 'only-b/', 1);
    const before = await Promise.all(nodes.map((node) => node.metrics()));
    for (let i = 0; i < 50; i++) clients[0].mqtt.publish(`${key}/only-b/`, `m${i}`);
    await clients[1].next((m) => m.payload.toString() === 'm49', 10000);
    const after = await Promise.all(nodes.map((node) => node.metrics()));
    const delta = (i: number, name: string): number => (after[i].get(name) ?? 0) - (before[i].get(name) ?? 0);
    assert.equal(delta(1, 'emitter_cluster_received_total'), 50, 'node b got each message once');
    assert.equal(delta(2, 'emitter_cluster_received_total'), 0, 'node c got nothing');
    assert.equal(delta(0, 'emitter_cluster_forwarded_total'), 50, 'node a sent one copy per message');
    assert.equal(after[0].get('emitter_cluster_peers'), 2);
    await Promise.all(clients.map((client) => client.end()));
  });

  test('QoS crosses nodes: a QoS 1 subscriber on node b gets QoS 1 deliveries of a publish on node a', async () => {
    const { clients, key } = await setUp(nodes, secret, '#/');
    const q1 = await connectClient(nodes[1].port);
    const q0 = await connectClient(nodes[1].port);
    const member = await connectClient(nodes[2].port);
    const qosOf = (client: TestClient): Array<[string, number]> => {
      const seen: Array<[string, number]> = [];
      client.mqtt.on('message', (_topic, payload, packet) => seen.push([payload.toString(), packet.qos]));
      return seen;
    };
    const [q1Seen, q0Seen, memberSeen] = [qosOf(q1), qosOf(q0), qosOf(member)];
    await q1.mqtt.subscribeAsync(`${key}/qos/x/`, { qos: 1 });
    await q0.mqtt.subscribeAsync(`${key}/qos/x/`, { qos: 0 });
    await member.mqtt.subscribeAsync(`${key}/$share/qg/qos/x/`, { qos: 2 });
    await waitForOccupancy(clients[0], key, 'qos/x/', 3);
    // The share member's subscription reaches node a on its own schedule: probe until it is picked.
    for (let i = 0; i < 100 && memberSeen.length === 0; i++) {
      await clients[0].mqtt.publishAsync(`${key}/qos/x/`, `probe${i}`, { qos: 1 });
      await q1.next((m) => m.payload.toString() === `probe${i}`, 10000);
    }
    assert.ok(memberSeen.length > 0, 'the share member on node c was reached');
    await clients[0].mqtt.publishAsync(`${key}/qos/x/`, 'at-least-once', { qos: 1 });
    await clients[0].mqtt.publishAsync(`${key}/qos/x/`, 'exactly-once', { qos: 2 });
    for (const client of [q1, q0, member])
      await client.next((m) => m.payload.toString() === 'exactly-once', 10000);
    const final = (seen: Array<[string, number]>): Array<[string, number]> =>
      seen.filter(([payload]) => !payload.startsWith('probe'));
    assert.deepEqual(final(q1Seen), [
      ['at-least-once', 1],
      ['exactly-once', 1],
    ]);
    assert.deepEqual(final(q0Seen), [
      ['at-least-once', 0],
      ['exactly-once', 0],
    ]);
    assert.deepEqual(final(memberSeen), [
      ['at-least-once', 1],
      ['exactly-once', 2],
    ]);
    await Promise.all([q1, q0, member, ...clients].map((client) => client.end()));
  });

  test('a share group gets each message once across the cluster', async () => {
    const { clients, key } = await setUp(nodes, secret, '#/');
    const members = await Promise.all(nodes.map((node) => connectClient(node.port)));
    for (const member of members) await member.mqtt.subscribeAsync(`${key}/$share/workers/jobs/`);
    // Membership reaches the other nodes asynchronously: probe until each member has been picked once.
    const pickedAll = (): boolean =>
      members.every((member) => member.received.some((m) => m.payload.toString().startsWith('probe')));
    for (let i = 0; i < 300 && !pickedAll(); i++) {
      await clients[0].mqtt.publishAsync(`${key}/jobs/`, `probe${i}`, { qos: 1 });
    }
    assert.ok(pickedAll(), 'members on all three nodes were picked');
    const count = 300;
    for (let i = 0; i < count; i++) clients[0].mqtt.publish(`${key}/jobs/`, `job${i}`);
    await clients[0].mqtt.publishAsync(`${key}/jobs/`, 'job-last', { qos: 1 });
    const jobs = (): string[] =>
      members.flatMap((member) =>
        member.received.map((m) => m.payload.toString()).filter((p) => p.startsWith('job')),
      );
    // Wait (bounded) on message events until the jobs add up; a duplicate would push the count past it.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${jobs().length} jobs arrived`)), 10000);
      const check = (): void => {
        if (jobs().length < count + 1) return;
        clearTimeout(timer);
        for (const member of members) member.mqtt.off('message', check);
        resolve();
      };
      for (const member of members) member.mqtt.on('message', check);
      check();
    });
    // Anything still in flight from node a would arrive before replies to requests sent after it.
    await clients[0].mqtt.publishAsync('emitter/me/', '{}');
    await clients[0].nextJson('emitter/me/');
    const got = jobs();
    assert.equal(new Set(got).size, got.length, 'no job delivered twice');
    assert.equal(got.length, count + 1, 'every job delivered');
    await Promise.all([...members, ...clients].map((client) => client.end()));
  });

  test('presence is cluster-wide: status lists every node, joins reach watchers on other nodes', async () => {
    const { clients, key } = await setUp(nodes, secret, 'room/');
    const [watcher] = clients;
    await watcher.mqtt.publishAsync(
      'emitter/presence/',
      JSON.stringify({ key, channel: 'room/', changes: true }),
    );
    await watcher.nextJson('emitter/presence/');
    // Node b hears of the watch through node a's events, which it applies in order: once it counts a
    // later subscription of the watcher, it has the watch too and will tell the watcher of bob's join.
    // (It used to wait for "occupancy 0", true at once: bob could subscribe before b knew the watch.)
    const probeKey = await keygen(watcher, secret, 'probe/', 'rp');
    await watcher.mqtt.subscribeAsync(`${probeKey}/probe/`);
    await waitForOccupancy(clients[1], probeKey, 'probe/', 1);
    const bob = await connectClient(nodes[1].port, { username: 'bob' });
    await bob.mqtt.subscribeAsync(`${key}/room/`);
    const join = await watcher.next(
      (m) => m.topic === 'emitter/presence/' && JSON.parse(m.payload.toString()).event === 'subscribe',
      10000,
    );
    assert.equal(JSON.parse(join.payload.toString()).who.username, 'bob');
    const carol = await connectClient(nodes[2].port, { username: 'carol' });
    await carol.mqtt.subscribeAsync(`${key}/room/`);
    await waitForOccupancy(clients[0], key, 'room/', 2);
    const status = await presenceStatus(clients[0], key, 'room/');
    assert.deepEqual(status.who.map((w) => w.username).sort(), ['bob', 'carol']);
    await bob.end();
    await watcher.next(
      (m) => m.topic === 'emitter/presence/' && JSON.parse(m.payload.toString()).event === 'unsubscribe',
      10000,
    );
    assert.equal(events(watcher, 'unsubscribe')[0].who.username, 'bob');
    await carol.end();
    await Promise.all(clients.map((client) => client.end()));
  });

  test('storage "redis": a message stored through one node is read back through another', async () => {
    const { clients, key } = await setUp(nodes, secret, 'stored/#/');
    await clients[0].mqtt.publishAsync(`${key}/stored/?ttl=60`, 'kept', { qos: 1 });
    const reader = await connectClient(nodes[1].port);
    await reader.mqtt.subscribeAsync(`${key}/stored/?last=1`);
    assert.equal((await reader.next((m) => m.topic === 'stored/')).payload.toString(), 'kept');
    await reader.end();
    await Promise.all(clients.map((client) => client.end()));
  });

  test('Redis killed and restarted: nodes keep serving locally, then cross-node delivery resumes', async () => {
    const { clients, key } = await setUp(nodes, secret, 'outage/');
    const local = await connectClient(nodes[0].port);
    const remote = await connectClient(nodes[1].port);
    await local.mqtt.subscribeAsync(`${key}/outage/`);
    await remote.mqtt.subscribeAsync(`${key}/outage/`);
    await waitForOccupancy(clients[0], key, 'outage/', 2);

    const since = nodes.map((node) => node.output().length);
    await redis.kill();
    await Promise.all(nodes.map((node, i) => node.waitForOutput(/lost Redis/, 10000, since[i])));
    const before = await nodes[0].metrics();
    await clients[0].mqtt.publishAsync(`${key}/outage/`, 'during', { qos: 1 });
    assert.equal((await local.next((m) => m.payload.toString() === 'during')).topic, 'outage/');
    const dropped = (await nodes[0].metrics()).get('emitter_cluster_dropped_total') ?? 0;
    assert.equal(
      dropped - (before.get('emitter_cluster_dropped_total') ?? 0),
      1,
      'node a counts the copy for node b it could not send (emitter_cluster_dropped_total)',
    );

    await redis.restart();
    // Every node rejoins within its reconnect back-off (at most 2 s, longer on a loaded machine).
    await Promise.all(
      nodes.map((node, i) => node.waitForOutput(/Redis is back: rejoined the cluster/, 20000, since[i])),
    );
    // Then a message from node a reaches node b again. Retried: a node's connections come back one at a
    // time, and a message meeting a connection that is not ready yet is dropped, not queued.
    let resumed = false;
    const deadline = Date.now() + 20000;
    for (let i = 0; !resumed && Date.now() < deadline; i++) {
      await clients[0].mqtt.publishAsync(`${key}/outage/`, `after${i}`, { qos: 1 });
      resumed = await remote
        .next((m) => m.payload.toString().startsWith('after'), 500)
        .then(() => true)
        .catch(() => false);
    }
    assert.ok(resumed, 'a message from node a reached node b again within 20 s');
    for (const node of nodes) assert.equal(node.child.exitCode, null, `node ${node.name} is still running`);
    await Promise.all([local, remote, ...clients].map((client) => client.end()));
  });

  test('a node killed with -9: the others announce its subscribers left, within the timeout', async () => {
    const { clients, key } = await setUp(nodes, secret, 'lobby/');
    const [watcherA, watcherB] = clients;
    for (const watcher of [watcherA, watcherB]) {
      await watcher.mqtt.publishAsync(
        'emitter/presence/',
        JSON.stringify({ key, channel: 'lobby/', changes: true }),
      );
      await watcher.nextJson('emitter/presence/');
    }
    const dora = await connectClient(nodes[2].port, { username: 'dora', reconnectPeriod: 0 });
    dora.mqtt.on('error', () => {});
    await dora.mqtt.subscribeAsync(`${key}/lobby/`);
    await waitForOccupancy(watcherA, key, 'lobby/', 1);
    await waitForOccupancy(watcherB, key, 'lobby/', 1);

    const storedKey = await keygen(watcherA, secret, 'stored/#/', 'rwsl');
    await clients[2].mqtt.publishAsync(`${storedKey}/stored/survivor/?ttl=600`, 'outlives c', { qos: 1 });
    await nodes[2].kill('SIGKILL');
    const isLeave = (m: { topic: string; payload: Buffer }): boolean =>
      m.topic === 'emitter/presence/' && JSON.parse(m.payload.toString()).event === 'unsubscribe';
    // Announced once node c's liveness key lapses, within the timeout of 2 s on an idle machine. The
    // bound allows for a loaded one (heartbeat timers fire late) and still lies well below the default
    // 10 s timeout: an announcement that waited for anything else than this setting would miss it.
    const bound = DEAD_AFTER_MS + 4000;
    await Promise.all(
      [watcherA, watcherB].map((watcher, i) =>
        watcher.next(isLeave, bound).catch(() => {
          throw new Error(
            `the watcher on node ${nodes[i].name} heard no leave within ${bound} ms of the kill`,
          );
        }),
      ),
    );
    for (const watcher of [watcherA, watcherB]) {
      const leaves = events(watcher, 'unsubscribe');
      assert.equal(leaves.length, 1, 'each watcher hears it once');
      assert.equal(leaves[0].who.username, 'dora');
    }
    assert.equal((await presenceStatus(watcherA, key, 'lobby/')).occupancy, 0);
    await watcherA.mqtt.subscribeAsync(`${storedKey}/stored/survivor/?last=1`);
    const kept = await watcherA.next((m) => m.topic === 'stored/survivor/');
    assert.equal(
      kept.payload.toString(),
      'outlives c',
      'a message stored through the dead node is still there',
    );
    await Promise.all([watcherA, watcherB].map((client) => client.end()));
    await clients[2].end().catch(() => {});
  });
});

describe('cluster of three nodes on a 3-master Redis Cluster', () => {
  let redisCluster: { urls: string[]; stop(): Promise<void> };
  let nodes: ClusterNode[];
  const { license } = generateLicense();

  before(async () => {
    redisCluster = await startRedisCluster(3);
    nodes = await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        startNode({ name, license: license.toString(), redis: redisCluster.urls }),
      ),
    );
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    await redisCluster.stop();
  });

  test('every subscriber on every node gets each message once, in the publisher order', async () => {
    await checkDeliveryEverywhere(nodes, license.newMasterKey());
  });
});

describe('cluster.workers: several processes on one port', () => {
  let redis: RedisServer;
  let node: ClusterNode;
  const { license } = generateLicense();

  before(async () => {
    redis = await startRedis();
    node = await startNode({
      name: 'multi',
      license: license.toString(),
      redis: redis.url,
      env: { EMITTER_CLUSTER_WORKERS: '2', EMITTER_LISTEN: '127.0.0.1:0' },
    });
    // startNode returns at the first worker's "service started"; clients must find both listening.
    await node.waitForOutput(/"service started"[\s\S]*"service started"/, 30000);
  });
  after(async () => {
    await node.kill('SIGTERM');
    await redis.stop();
  });

  test('clients on different workers of one port reach each other', async () => {
    assert.match(node.output(), /"started worker processes"/);
    const clients = await Promise.all(
      Array.from({ length: 6 }, (_, i) => connectClient(node.port, { clientId: `client-${i}` })),
    );
    const key = await keygen(clients[0], license.newMasterKey(), 'shared/', 'rwp');
    for (const client of clients) await client.mqtt.subscribeAsync(`${key}/shared/`);
    // Each worker must know all six subscribers, its own and the other's.
    await waitForOccupancy(clients[0], key, 'shared/', 6);

    // Which worker holds which client, as the cluster registry in Redis records it (a worker is the
    // cluster node `multi-<slot>`, its clients' subscriptions in its snapshot hash).
    const registry = new Redis(redis.url);
    try {
      const workers = (await registry.smembers('emitter:nodes')).sort();
      assert.deepEqual(workers, ['multi-0', 'multi-1'], 'both workers joined the cluster');
      const held = await Promise.all(
        workers.map(async (worker) =>
          Object.entries(await registry.hgetall(`emitter:{${worker}}:subs`))
            .filter(([field]) => field !== '~meta')
            .map(([, json]) => JSON.parse(json) as { c: string; h: string })
            .filter((member) => member.h === 'shared/')
            .map((member) => member.c),
        ),
      );
      workers.forEach((worker, i) => assert.ok(held[i].length > 0, `worker ${worker} got no client`));
      assert.deepEqual(
        held.flat().sort(),
        clients.map((_, i) => `client-${i}`).sort(),
        'each client is on exactly one worker',
      );
    } finally {
      registry.disconnect();
    }

    await clients[0].mqtt.publishAsync(`${key}/shared/`, 'to all', { qos: 1 });
    for (const client of clients)
      assert.equal((await client.next((m) => m.topic === 'shared/', 10000)).payload.toString(), 'to all');
    await Promise.all(clients.map((client) => client.end()));
  });
});
