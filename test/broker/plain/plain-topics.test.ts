import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, type TestClient } from '../../helpers/clients.js';
import { startTestBroker, type TestBroker } from '../../helpers/broker.js';
import { EmitterError } from '../../../src/errors.js';

// Plain MQTT topics and filters (README "Plain MQTT clients"): verbatim topics, MQTT's wildcards, `$` topics,
// wills and persistent sessions, over TCP and WebSocket, with MQTT 3.1, 3.1.1 and 5.

function makeKey(server: TestBroker, channel: string, type: string): string {
  const created = server.broker.authority.createKey({ secret: server.secret, channel, type, ttl: 0 });
  if (created instanceof EmitterError) throw created;
  return created.key;
}

// Publishes every topic in order, then a last one every subscriber hears: whatever a subscriber was going
// to get has come once that one has.
async function publishAll(publisher: TestClient, topics: readonly string[], fence: string): Promise<void> {
  for (const topic of topics) await publisher.mqtt.publishAsync(topic, topic, { qos: 1 });
  await publisher.mqtt.publishAsync(fence, 'fence', { qos: 1 });
}

async function topicsHeard(client: TestClient, fence: string): Promise<string[]> {
  await client.next((m) => m.topic === fence, 5000);
  return client.received.map((m) => m.topic).filter((topic) => topic !== fence);
}

test('MQTT wildcards on plain filters: + one level, # the parent and below, no leading wildcard for $ topics', async () => {
  const server = await startTestBroker({ anonymous: 'rw' });
  const fence = 'zz/fence';
  const filters: Record<string, string[]> = {
    'a/+': ['a/x', 'a/', 'zz/fence'],
    'a/#': ['a', 'a/x', 'a/x/y', 'a/', 'zz/fence'],
    '#': ['a', 'a/x', 'a/x/y', 'a/', 'b', '/a', 'zz/fence'],
    '+/x': ['a/x', 'zz/fence'],
    '+': ['a', 'b', 'zz/fence'],
    '+/+': ['a/x', 'a/', '/a', 'zz/fence'],
    '$SYS/#': ['$SYS/uptime', 'zz/fence'],
    '$x/+': ['$x/y', 'zz/fence'],
    '/+': ['/a', 'zz/fence'],
    'a/x': ['a/x', 'zz/fence'],
  };
  const clients = new Map<string, TestClient>();
  const publisher = await connectClient(server.port, { protocolVersion: 5 });
  try {
    for (const [filter, expected] of Object.entries(filters)) {
      const client = await connectClient(server.port, { protocolVersion: expected.length % 2 ? 4 : 5 });
      clients.set(filter, client);
      await client.mqtt.subscribeAsync(filter.includes('fence') ? filter : [filter, fence]);
    }
    await publishAll(publisher, ['a', 'a/x', 'a/x/y', 'a/', 'b', '/a', '$SYS/uptime', '$x/y'], fence);
    for (const [filter, expected] of Object.entries(filters)) {
      const heard = await topicsHeard(clients.get(filter)!, fence);
      assert.deepEqual(heard.sort(), expected.filter((t) => t !== fence).sort(), `filter ${filter}`);
    }
  } finally {
    await publisher.end();
    for (const client of clients.values()) await client.end();
    await server.close();
  }
});

test('plain topics are kept verbatim (empty levels, spaces, UTF-8, ?, $) and map to Emitter channels T + /', async () => {
  const server = await startTestBroker({ anonymous: 'rw' });
  const key = makeKey(server, '#/', 'rw');
  const topics = ['a/b/', 'a//b', 'room 1/temp', 'cafés/señal/温度', 'q?x=1', '$data/x', 'a/b'];
  const plain = await connectClient(server.port);
  const emitter = await connectClient(server.port);
  const publisher = await connectClient(server.port, { protocolVersion: 5 });
  try {
    await plain.mqtt.subscribeAsync('#');
    await plain.mqtt.subscribeAsync('$data/#');
    // An Emitter subscription to every channel of the contract (prefix matching from the root level up).
    for (const first of ['a', 'room 1', 'cafés', 'q?x=1', '$data']) {
      const channel = first === 'room 1' || first === 'cafés' || first === 'q?x=1' ? undefined : `${first}/`;
      if (channel !== undefined) await emitter.mqtt.subscribeAsync(`${key}/${channel}`);
    }
    await publishAll(publisher, topics, 'zz');
    await plain.next((m) => m.topic === 'zz');
    assert.deepEqual(
      plain.received.map((m) => m.topic).filter((t) => t !== 'zz'),
      topics,
      'plain subscribers get the topics as published',
    );
    await publisher.mqtt.publishAsync(`${key}/a/fence/`, 'f', { qos: 1 });
    await emitter.next((m) => m.topic === 'a/fence/');
    assert.deepEqual(
      emitter.received.map((m) => m.topic).filter((t) => t !== 'a/fence/'),
      ['a/b//', 'a//b/', '$data/x/', 'a/b/'],
      'Emitter subscribers get the Emitter channel T + /',
    );
    // A wildcard in a plain PUBLISH topic is refused (MQTT 5: Topic Name invalid).
    const refused = await publisher.mqtt.publishAsync('a/+', 'x', { qos: 1 }).then(
      () => 0,
      (error: { code?: number }) => error.code,
    );
    assert.equal(refused, 0x90);
  } finally {
    await plain.end();
    await emitter.end();
    await publisher.end();
    await server.close();
  }
});

test('a plain will goes out on its plain topic under the connection key; a will outside it is dropped', async () => {
  const server = await startTestBroker({ keyPassword: true });
  const key = makeKey(server, 'status/#/', 'rw');
  const watcher = await connectClient(server.port, { username: 'w', password: makeKey(server, '#/', 'r') });
  try {
    await watcher.mqtt.subscribeAsync(['status/#', 'elsewhere/#']);
    for (const protocolVersion of [3, 4, 5] as const) {
      const device = await connectClient(server.port, {
        username: 'd',
        password: key,
        protocolVersion,
        will: { topic: `status/dev${protocolVersion}`, payload: Buffer.from('gone'), qos: 1, retain: false },
      });
      const outside = await connectClient(server.port, {
        username: 'd',
        password: key,
        protocolVersion,
        will: { topic: 'elsewhere/dev', payload: Buffer.from('gone'), qos: 0, retain: false },
      });
      outside.mqtt.stream.destroy();
      device.mqtt.stream.destroy(); // no DISCONNECT: the will goes
      const will = await watcher.next((m) => m.topic.startsWith('status/'));
      assert.equal(will.topic, `status/dev${protocolVersion}`);
      assert.equal(will.payload.toString(), 'gone');
      outside.mqtt.end(true);
      device.mqtt.end(true);
    }
    // The wills outside the key's target went nowhere (they were dropped before the ones that came).
    assert.deepEqual(
      watcher.received.map((m) => m.topic),
      ['status/dev3', 'status/dev4', 'status/dev5'],
    );
  } finally {
    await watcher.end();
    await server.close();
  }
});

test('a plain subscription of a persistent session keeps its plain form while the client is away (TCP and WebSocket)', async () => {
  const server = await startTestBroker({ keyPassword: true });
  const key = makeKey(server, 'orders/#/', 'rw');
  const publisher = await connectClient(server.port, { username: 'p', password: key });
  try {
    for (const transport of ['tcp', 'ws'] as const) {
      const clientId = `warehouse-${transport}`;
      const away = await connectClient(server.port, {
        username: 'w',
        password: key,
        clientId,
        clean: false,
        transport,
      });
      await away.mqtt.subscribeAsync('orders/+', { qos: 1 });
      await away.end();
      await publisher.mqtt.publishAsync(`orders/${transport}`, 'o1', { qos: 1 });
      const back = await connectClient(server.port, {
        username: 'w',
        password: key,
        clientId,
        clean: false,
        transport,
      });
      const message = await back.next((m) => m.topic.startsWith('orders/'));
      assert.equal(message.topic, `orders/${transport}`);
      // Still subscribed, live.
      await publisher.mqtt.publishAsync(`orders/${transport}/live`, 'deeper: not matched', { qos: 1 });
      await publisher.mqtt.publishAsync(`orders/${transport}2`, 'o2', { qos: 1 });
      const live = await back.next((m) => m.payload.toString() === 'o2');
      assert.equal(live.topic, `orders/${transport}2`);
      assert.deepEqual(
        back.received.map((m) => m.topic),
        [`orders/${transport}`, `orders/${transport}2`],
      );
      await back.mqtt.unsubscribeAsync('orders/+');
      await back.end();
    }
  } finally {
    await publisher.end();
    await server.close();
  }
});

test('plain shared subscriptions: one member of the group gets each message, in plain form; No Local holds', async () => {
  const server = await startTestBroker({ anonymous: 'rw' });
  const members = [
    await connectClient(server.port),
    await connectClient(server.port, { protocolVersion: 5 }),
  ];
  const publisher = await connectClient(server.port, { protocolVersion: 5 });
  try {
    for (const member of members) await member.mqtt.subscribeAsync('$share/workers/jobs/+', { qos: 1 });
    // No Local: the publisher's own subscription does not get its messages back.
    await publisher.mqtt.subscribeAsync('jobs/#', { qos: 0, nl: true });
    for (let i = 0; i < 20; i++) await publisher.mqtt.publishAsync(`jobs/${i}`, String(i), { qos: 1 });
    await publisher.mqtt.publishAsync('zz', 'fence', { qos: 1 });
    const heard = async (): Promise<string[]> => {
      const all: string[] = [];
      for (const member of members) all.push(...member.received.map((m) => m.topic));
      return all;
    };
    // Each message reaches exactly one member.
    for (let i = 0; i < 20; i++) {
      const topic = `jobs/${i}`;
      await Promise.any(members.map((member) => member.next((m) => m.topic === topic, 5000)));
    }
    const topics = (await heard()).sort();
    assert.deepEqual(topics, Array.from({ length: 20 }, (_, i) => `jobs/${i}`).sort());
    assert.deepEqual(publisher.received, []);
  } finally {
    for (const member of members) await member.end();
    await publisher.end();
    await server.close();
  }
});
