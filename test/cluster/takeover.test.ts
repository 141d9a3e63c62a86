import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateLicense } from '../../src/security/index.js';
import { connectClient, keygen } from '../helpers/clients.js';
import { startNode, waitForOccupancy, type ClusterNode } from '../helpers/cluster.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

describe('sessions across cluster nodes (redis session store)', () => {
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
          env: { EMITTER_SESSION_PROVIDER: 'redis' },
        }),
      ),
    );
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    await redis.stop();
  });

  test('a CONNECT on node b with a client id connected on node a closes the connection on node a', async () => {
    const first = await connectClient(nodes[0].port, { clientId: 'takeover-1' });
    let firstClosed = false;
    const closed = new Promise<void>((resolve) =>
      first.mqtt.once('close', () => {
        firstClosed = true;
        resolve();
      }),
    );
    const second = await connectClient(nodes[1].port, { clientId: 'takeover-1' });
    await Promise.race([
      closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('node a kept the connection')), 5000)),
    ]);
    assert.ok(firstClosed, 'the older connection (node a) was closed');
    // The newer connection is served: it gets its own keygen reply.
    const key = await keygen(second, secret, 'takeover/', 'rw');
    assert.ok(key.length > 0, 'the connection on node b is alive');
    await second.end();
    first.mqtt.end(true);
  });

  test('a persistent session moves with its client: subscriptions and unacknowledged messages follow it to another node', async () => {
    const publisher = await connectClient(nodes[0].port);
    const key = await keygen(publisher, secret, 'move/', 'rwp');
    const topic = `${key}/move/`;
    const onA = await connectClient(nodes[0].port, { clientId: 'mover', clean: false });
    await onA.mqtt.subscribeAsync(topic, { qos: 1 });
    await waitForOccupancy(publisher, key, 'move/', 1);
    await onA.end();
    for (let i = 0; i < 5; i++) await publisher.mqtt.publishAsync(topic, `away${i}`, { qos: 1 });
    // Back, on node c: the session node a held (and queued for) comes with it.
    const onC = await connectClient(nodes[2].port, { clientId: 'mover', clean: false });
    for (let i = 0; i < 5; i++) await onC.next((m) => m.payload.toString() === `away${i}`, 10000);
    assert.deepEqual(
      onC.received.map((m) => m.payload.toString()),
      ['away0', 'away1', 'away2', 'away3', 'away4'],
      'the queued messages, in order, once',
    );
    await publisher.mqtt.publishAsync(topic, 'after-move', { qos: 1 });
    await onC.next((m) => m.payload.toString() === 'after-move', 10000);
    await onC.end();
    await publisher.end();
  });

  test('a client whose persistent session was on a node killed with -9 finds it on the node it reconnects to', async () => {
    const publisher = await connectClient(nodes[0].port);
    const key = await keygen(publisher, secret, 'dead/', 'rwp');
    const topic = `${key}/dead/`;
    const onA = await connectClient(nodes[0].port, { clientId: 'orphan', clean: false });
    await onA.mqtt.subscribeAsync(topic, { qos: 1 });
    await onA.end();
    // Acknowledged QoS 1 publishes are in the session store before the PUBACK.
    for (let i = 0; i < 5; i++) await publisher.mqtt.publishAsync(topic, `q${i}`, { qos: 1 });
    publisher.mqtt.end(true);
    await nodes[0].kill('SIGKILL');

    const onB = await connectClient(nodes[1].port, { clientId: 'orphan', clean: false });
    for (let i = 0; i < 5; i++) await onB.next((m) => m.payload.toString() === `q${i}`, 10000);
    assert.deepEqual(
      onB.received.map((m) => m.payload.toString()),
      ['q0', 'q1', 'q2', 'q3', 'q4'],
      'the messages queued on the dead node, in order',
    );
    // Its subscription came too: a publish on node c reaches it on node b.
    const other = await connectClient(nodes[2].port);
    await waitForOccupancy(other, key, 'dead/', 1);
    await other.mqtt.publishAsync(topic, 'live', { qos: 1 });
    await onB.next((m) => m.payload.toString() === 'live', 10000);
    await Promise.all([onB.end(), other.end()]);
  });
});
