import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateLicense } from '../../../src/security/index.js';
import { connectClient, keygen, type TestClient } from '../../helpers/clients.js';
import { startNode, type ClusterNode } from '../../helpers/cluster.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';

// Plain MQTT across cluster nodes: the cluster carries the Emitter form and each node gives its plain
// subscribers the plain form; anonymous access set through EMITTER_ANONYMOUS.

// Until `subscriber` hears a publish to `probe` (published by `publisher` on another node, again every 100 ms): the
// subscription has reached the publisher's node. Bounded: 10 s.
async function untilRouted(publisher: TestClient, subscriber: TestClient, probe: string): Promise<void> {
  const heard = subscriber.next((m) => m.payload.toString() === 'probe', 10000);
  const timer = setInterval(() => publisher.mqtt.publish(probe, 'probe'), 100);
  publisher.mqtt.publish(probe, 'probe');
  try {
    await heard;
  } finally {
    clearInterval(timer);
  }
}

describe('plain MQTT in a cluster of two nodes', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[];
  const { license } = generateLicense();
  const secret = license.newMasterKey();

  before(async () => {
    redis = await startRedis();
    nodes = await Promise.all(
      ['a', 'b'].map((name) =>
        startNode({ name, license: license.toString(), redis: redis.url, env: { EMITTER_ANONYMOUS: 'rw' } }),
      ),
    );
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    await redis.stop();
  });

  test('plain subscribers on another node get the plain form, Emitter ones the Emitter form', async () => {
    const publisher = await connectClient(nodes[0].port);
    const plain = await connectClient(nodes[1].port, { protocolVersion: 5 });
    const emitter = await connectClient(nodes[1].port);
    try {
      assert.match(nodes[0].output(), /ANONYMOUS ACCESS IS ON/);
      const key = await keygen(publisher, secret, 'sensors/#/', 'rw');
      await plain.mqtt.subscribeAsync(['sensors/+', '#']);
      await emitter.mqtt.subscribeAsync(`${key}/sensors/`);
      await untilRouted(publisher, plain, 'sensors/probe');
      await untilRouted(publisher, emitter, 'sensors/probe');
      await publisher.mqtt.publishAsync('$x/y', 'dollar', { qos: 1 });
      await publisher.mqtt.publishAsync(`${key}/sensors/t1/`, 'from-emitter', { qos: 1 });
      await publisher.mqtt.publishAsync('sensors/t2', 'from-plain', { qos: 1 });
      const fromEmitter = await plain.next((m) => m.payload.toString() === 'from-emitter', 10000);
      const fromPlain = await plain.next((m) => m.payload.toString() === 'from-plain', 10000);
      assert.equal(fromEmitter.topic, 'sensors/t1');
      assert.equal(fromPlain.topic, 'sensors/t2');
      const atEmitter = await emitter.next((m) => m.payload.toString() === 'from-plain', 10000);
      assert.equal(atEmitter.topic, 'sensors/t2/');
      // `#` and `sensors/+` both match: one copy each message; `$x/y` matched by neither.
      const copies = plain.received.filter((m) => m.payload.toString() !== 'probe').map((m) => m.topic);
      assert.deepEqual(copies, ['sensors/t1', 'sensors/t2']);
    } finally {
      await Promise.all([publisher.end(), plain.end(), emitter.end()]);
    }
  });
});
