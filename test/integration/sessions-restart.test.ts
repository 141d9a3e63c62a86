import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, keygen } from '../helpers/clients.js';
import { startBrokerProcess } from '../helpers/broker-process.js';
import { startTestBroker } from '../helpers/broker.js';
import type { IPublishPacket } from 'mqtt-packet';
import { InMemorySessionStore } from '../../src/storage/index.js';
import { RawMqttClient } from '../helpers/raw-mqtt.js';

// With `ssd`, a persistent session and the QoS 1 messages queued for it while its client is away survive
// a `kill -9` of the broker: a PUBACK to the publisher means the queued copy is on disk too.
test('ssd: QoS 1 messages acknowledged while a persistent subscriber is away are delivered after kill -9 and a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emitter-sessions-'));
  const env = { EMITTER_STORAGE_PROVIDER: 'ssd', EMITTER_STORAGE_CONFIG_DIR: dir };
  const first = await startBrokerProcess(env);
  const publisher = await connectClient(first.port, { reconnectPeriod: 0 });
  const key = await keygen(publisher, first.secret, 'orders/', 'rw');

  // The subscriber makes its persistent QoS 1 subscription, then goes away.
  const away = await connectClient(first.port, { clientId: 'warehouse', clean: false });
  await away.mqtt.subscribeAsync(`${key}/orders/`, { qos: 1 });
  await away.end();

  const sent: string[] = [];
  for (let i = 0; i < 50; i++) {
    await publisher.mqtt.publishAsync(`${key}/orders/`, `order ${i}`, { qos: 1 });
    sent.push(`order ${i}`);
  }
  await first.kill(); // no shutdown: whatever was acknowledged must already be on disk
  publisher.mqtt.end(true);

  const second = await startBrokerProcess(env, first.license);
  try {
    const back = await connectClient(second.port, { clientId: 'warehouse', clean: false });
    await back.next((m) => m.payload.toString() === sent[sent.length - 1], 10000);
    const received = back.received.filter((m) => m.topic === 'orders/').map((m) => m.payload.toString());
    assert.deepEqual(received, sent, 'every acknowledged message, in order, once');
    await back.end();
  } finally {
    assert.equal(await second.stop(), 0);
  }
});

test('a QoS 1 PUBACK waits until the copies queued for persistent sessions are in the session store', async () => {
  // A store whose enqueues wait at a gate: the publisher's acknowledgement must wait with them.
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  let reached: () => void = () => {};
  const enqueued = new Promise<void>((resolve) => (reached = resolve));
  class GatedStore extends InMemorySessionStore {
    override async enqueue(...args: Parameters<InMemorySessionStore['enqueue']>) {
      reached();
      await gate;
      return super.enqueue(...args);
    }
  }
  const server = await startTestBroker({ sessions: { store: new GatedStore() } });
  try {
    const publisher = await connectClient(server.port);
    const key = await keygen(publisher, server.secret, 'orders/', 'rw');
    const away = await connectClient(server.port, { clientId: 'warehouse', clean: false });
    await away.mqtt.subscribeAsync(`${key}/orders/`, { qos: 1 });
    await away.end();

    let acknowledged = false;
    const publish = publisher.mqtt.publishAsync(`${key}/orders/`, 'order 1', { qos: 1 }).then(() => {
      acknowledged = true;
    });
    await enqueued;
    // A round trip on the same connection: its answer comes after any PUBACK already sent.
    await publisher.mqtt.publishAsync('emitter/me/', '');
    await publisher.nextJson('emitter/me/');
    assert.equal(acknowledged, false, 'no PUBACK while the queued copy is not stored');
    open();
    await publish;
    assert.equal(acknowledged, true);
    await publisher.end();
  } finally {
    open();
    await server.close();
  }
});

// A queue drain cut short twice: by a dropped connection (the unacknowledged window comes again, DUP and
// same packet id), then by kill -9 (after the restart the rest comes, and again only messages delivered
// before the kill: an acknowledgement of the last few milliseconds may be lost, which QoS 1 allows).
test('ssd: a queue drain interrupted by a dropped connection, then by kill -9, resumes without loss', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emitter-sessions-'));
  const env = { EMITTER_STORAGE_PROVIDER: 'ssd', EMITTER_STORAGE_CONFIG_DIR: dir };
  const first = await startBrokerProcess(env);
  const publisher = await connectClient(first.port, { reconnectPeriod: 0 });
  const key = await keygen(publisher, first.secret, 'drain/', 'rw');
  const { client: away } = await RawMqttClient.connect(first.port, 'drainer', false);
  await away.subscribe(`${key}/drain/`, 1);
  away.disconnect();
  const total = 600;
  for (let batch = 0; batch < total; batch += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        publisher.mqtt.publishAsync(`${key}/drain/`, `m${batch + i}`, { qos: 1 }),
      ),
    );
  }
  publisher.mqtt.end(true);

  // Takes deliveries, acknowledging each, until `distinct` messages have been seen in all.
  const seen = new Set<string>();
  const firsts: number[] = [];
  const take = async (client: RawMqttClient, distinct: number) => {
    const packets: IPublishPacket[] = [];
    while (seen.size < distinct) {
      const publish = await client.publish(10000);
      packets.push(publish);
      client.send({ cmd: 'puback', messageId: publish.messageId });
      const text = publish.payload.toString();
      if (!seen.has(text)) firsts.push(Number(text.slice(1)));
      seen.add(text);
    }
    // The broker has handled every PUBACK sent once it answers a PINGREQ sent after them.
    client.send({ cmd: 'pingreq' });
    await client.expect('pingresp');
    return packets;
  };

  const a = await RawMqttClient.connect(first.port, 'drainer', false);
  assert.equal(a.sessionPresent, true);
  await take(a.client, 200);
  // Delivered to A beyond those it took and acknowledged: in flight at the drop.
  const unacknowledged = a.client.packets.filter((p): p is IPublishPacket => p.cmd === 'publish');
  a.client.drop();

  const b = await RawMqttClient.connect(first.port, 'drainer', false);
  assert.equal(b.sessionPresent, true);
  const partB = await take(b.client, 400);
  const again = partB.filter((p) => p.dup);
  assert.deepEqual(
    again.map((p) => [p.payload.toString(), p.messageId]),
    unacknowledged.map((p) => [p.payload.toString(), p.messageId]),
    'exactly the unacknowledged window comes again, first, with DUP and its packet ids',
  );
  assert.deepEqual(
    partB.slice(0, again.length).map((p) => p.dup),
    again.map(() => true),
  );
  await first.kill();

  const second = await startBrokerProcess(env, first.license);
  try {
    const c = await RawMqttClient.connect(second.port, 'drainer', false);
    assert.equal(c.sessionPresent, true);
    const before = new Set(seen);
    const toB = new Set(
      [...partB, ...b.client.packets.filter((p): p is IPublishPacket => p.cmd === 'publish')].map((p) =>
        p.payload.toString(),
      ),
    );
    const partC = await take(c.client, total);
    for (const p of partC) {
      const text = p.payload.toString();
      assert.ok(
        !before.has(text) || toB.has(text),
        `${text} was acknowledged before the drop, and came again`,
      );
    }
    assert.deepEqual(
      firsts,
      Array.from({ length: total }, (_, i) => i),
      'every message, first seen in the order published',
    );
    c.client.disconnect();
  } finally {
    assert.equal(await second.stop(), 0);
  }
});

// The journal sends a session's store calls without waiting for each other; a queued message sent before
// the store answered its enqueue (its seq unknown) holds its markSent, and the calls after it, until then.
test('a queued message sent and acknowledged before the store answered its enqueue still leaves the store', async () => {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  let gated = 0;
  class GatedStore extends InMemorySessionStore {
    override async enqueue(...args: Parameters<InMemorySessionStore['enqueue']>) {
      // Only queued messages (no packet id) wait.
      if (args[2] === undefined) {
        gated++;
        await gate;
      }
      return super.enqueue(...args);
    }
  }
  const store = new GatedStore();
  const server = await startTestBroker({ sessions: { store, maxInflight: 2 } });
  try {
    const publisher = await connectClient(server.port);
    const key = await keygen(publisher, server.secret, 'held/', 'rw');
    const { client } = await RawMqttClient.connect(server.port, 'held', false);
    await client.subscribe(`${key}/held/`, 1);
    // Two go out at once (the window), two wait in the queue, their enqueues at the gate.
    const publishes = Array.from({ length: 4 }, (_, i) =>
      publisher.mqtt.publishAsync(`${key}/held/`, `h${i}`, { qos: 1 }),
    );
    const received: string[] = [];
    for (let i = 0; i < 4; i++) {
      const publish = await client.publish();
      received.push(publish.payload.toString());
      client.send({ cmd: 'puback', messageId: publish.messageId });
    }
    assert.deepEqual(received, ['h0', 'h1', 'h2', 'h3']);
    client.send({ cmd: 'pingreq' });
    await client.expect('pingresp');
    assert.equal(gated, 2, 'the queued two were sent and acknowledged while their enqueues waited');
    open();
    await Promise.all(publishes);
    await server.broker.registry.get('held')?.journal?.flush();
    assert.deepEqual(await store.outgoing('held'), [], 'every acknowledged message left the store');
    client.disconnect();
    await publisher.end();
  } finally {
    open();
    await server.close();
  }
});
