/**
 * MQTT 5 across cluster nodes: two real `emitter` processes on a real redis-server. A v5 publish on node a
 * reaches v5 subscribers on node b with its PUBLISH properties, at QoS 0 (Redis pub/sub frames) and QoS 1
 * (the node's inbox stream); Retain As Published sees the RETAIN flag it was published with and a
 * Subscription Identifier comes with the delivery, as on one node; a message
 * stored in the shared redis storage replays on node b with its properties.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { IPublishPacket } from 'mqtt-packet';
import { generateLicense } from '../../src/security/index.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { startNode, waitForOccupancy, type ClusterNode } from '../helpers/cluster.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const PROPERTIES = {
  payloadFormatIndicator: true,
  messageExpiryInterval: 300,
  contentType: 'application/json',
  responseTopic: 'reply/to/',
  correlationData: Buffer.from([9, 0, 0xff]),
  userProperties: { z: ['1', '2', '1'], a: 'only' },
};

interface V5Client {
  readonly client: MqttClient;
  readonly packets: IPublishPacket[];
  /** The next PUBLISH whose payload is `payload` (already received ones count), bounded. */
  next(payload: string, timeoutMs?: number): Promise<IPublishPacket>;
}

async function v5Client(port: number): Promise<V5Client> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  const packets: IPublishPacket[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (_topic, _payload, packet) => {
    packets.push(packet);
    for (const wake of waiters) wake();
  });
  // MQTT.js gives up after its connectTimeout (5 s): the wait is bounded.
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
  return {
    client,
    packets,
    next: (payload, timeoutMs = 10000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = packets.find((p) => p.payload.toString() === payload);
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no message ${payload} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

function assertProperties(got: IPublishPacket['properties']): void {
  const p = got ?? {};
  assert.equal(p.payloadFormatIndicator, true);
  assert.equal(p.contentType, PROPERTIES.contentType);
  assert.equal(p.responseTopic, PROPERTIES.responseTopic);
  assert.deepEqual(p.correlationData, PROPERTIES.correlationData);
  assert.deepEqual(Object.entries(p.userProperties ?? {}), Object.entries(PROPERTIES.userProperties));
  assert.ok((p.messageExpiryInterval ?? 0) > 0 && (p.messageExpiryInterval ?? 0) <= 300);
}

describe('MQTT 5 properties across two cluster nodes', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[];
  let helper: TestClient;
  let key: string;
  const { license } = generateLicense();
  const secret = license.newMasterKey();

  before(async () => {
    redis = await startRedis();
    nodes = await Promise.all(
      ['a', 'b'].map((name) =>
        startNode({
          name,
          license: license.toString(),
          redis: redis.url,
          env: { EMITTER_STORAGE_PROVIDER: 'redis', EMITTER_STORAGE_CONFIG_URL: redis.url },
        }),
      ),
    );
    helper = await connectClient(nodes[0].port);
    key = await keygen(helper, secret, 'v5c/#/', 'rwslp');
  });
  after(async () => {
    await helper.end();
    await Promise.all(nodes.map((node) => node.kill()));
    await redis.stop();
  });

  test('a v5 publish on node a reaches v5 subscribers on node b with its properties, QoS 0 and QoS 1; a 3.1.1 subscriber gets the plain message', async () => {
    const subscriber = await v5Client(nodes[1].port);
    const plain = await connectClient(nodes[1].port);
    await subscriber.client.subscribeAsync(`${key}/v5c/q0/`, { qos: 0 });
    await subscriber.client.subscribeAsync(`${key}/v5c/q1/`, { qos: 1 });
    await plain.mqtt.subscribeAsync(`${key}/v5c/q0/`);
    await waitForOccupancy(helper, key, 'v5c/q0/', 2);
    await waitForOccupancy(helper, key, 'v5c/q1/', 1);

    const publisher = await v5Client(nodes[0].port);
    await publisher.client.publishAsync(`${key}/v5c/q0/`, 'zero', { qos: 0, properties: PROPERTIES });
    await publisher.client.publishAsync(`${key}/v5c/q1/`, 'one', { qos: 1, properties: PROPERTIES });
    await publisher.client.publishAsync(`${key}/v5c/q1/`, 'bare', { qos: 1 });

    const zero = await subscriber.next('zero');
    assert.equal(zero.qos, 0);
    assertProperties(zero.properties);
    const one = await subscriber.next('one');
    assert.equal(one.qos, 1);
    assertProperties(one.properties);
    const bare = await subscriber.next('bare');
    assert.equal(bare.properties?.contentType, undefined);
    assert.equal(bare.properties?.userProperties, undefined);
    assert.equal((await plain.next((m) => m.topic === 'v5c/q0/')).payload.toString(), 'zero');

    publisher.client.end(true);
    subscriber.client.end(true);
    await plain.end();
  });

  test('Retain As Published and Subscription Identifiers hold on node b for a publish on node a; the stored copy replays on node b with its properties', async () => {
    const asPublished = await v5Client(nodes[1].port);
    const plainFlag = await v5Client(nodes[1].port);
    await asPublished.client.subscribeAsync(`${key}/v5c/rap/`, {
      qos: 1,
      rap: true,
      rh: 2,
      properties: { subscriptionIdentifier: 7 },
    });
    await plainFlag.client.subscribeAsync(`${key}/v5c/rap/`, { qos: 1, rh: 2 });
    await waitForOccupancy(helper, key, 'v5c/rap/', 2);

    const publisher = await v5Client(nodes[0].port);
    await publisher.client.publishAsync(`${key}/v5c/rap/`, 'retained', {
      qos: 1,
      retain: true,
      properties: PROPERTIES,
    });
    const kept = await asPublished.next('retained');
    assert.equal(kept.retain, true, 'Retain As Published: the flag as published');
    assert.equal(kept.properties?.subscriptionIdentifier, 7, 'its Subscription Identifier');
    assertProperties(kept.properties);
    assert.equal((await plainFlag.next('retained')).retain, false, 'without it: 0 on a live delivery');

    // Stored by node a in the shared redis storage, replayed by node b.
    const late = await v5Client(nodes[1].port);
    await late.client.subscribeAsync(`${key}/v5c/rap/`, { qos: 1 });
    assertProperties((await late.next('retained')).properties);

    for (const c of [publisher, asPublished, plainFlag, late]) c.client.end(true);
  });
});
