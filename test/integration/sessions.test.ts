/**
 * Sessions and QoS against a real broker with real clients: QoS 1 and 2 both ways, one delivery per client
 * at its highest grant, persistent sessions (offline queue, redelivery with DUP, takeover, expiry, bound),
 * and clean sessions discarding a stored one.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IPublishPacket } from 'mqtt';
import { InMemorySessionStore, type SessionStore } from '../../src/storage/index.js';
import { runCommand } from '../helpers/process.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { RawMqttClient } from '../helpers/raw-mqtt.js';

let idCounter = 0;
const uniqueId = (name: string): string => `${name}-${process.pid}-${++idCounter}`;

/** Every PUBLISH an MQTT.js client receives, packet and all (QoS, DUP, retain). */
function packetsOf(client: TestClient): IPublishPacket[] {
  const packets: IPublishPacket[] = [];
  client.mqtt.on('message', (_topic, _payload, packet) => packets.push(packet));
  return packets;
}

/** Waits (bounded) until `condition` holds, checking after each event-loop turn of I/O. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('QoS 1 and 2 to subscribers', () => {
  let server: TestBroker;
  let publisher: TestClient;
  let key: string;
  before(async () => {
    server = await startTestBroker();
    publisher = await connectClient(server.port);
    key = await keygen(publisher, server.secret, '#/', 'rwslp');
  });
  after(async () => {
    await publisher.end();
    await server.close();
  });

  test('SUBACK grants 0, 1 and 2 as asked', async () => {
    const { client } = await RawMqttClient.connect(server.port, uniqueId('grants'));
    client.send({
      cmd: 'subscribe',
      messageId: 7,
      subscriptions: [
        { topic: `${key}/g/0/`, qos: 0 },
        { topic: `${key}/g/1/`, qos: 1 },
        { topic: `${key}/g/2/`, qos: 2 },
      ],
    });
    const suback = await client.expect('suback');
    assert.deepEqual(suback.cmd === 'suback' && suback.granted, [0, 1, 2]);
    client.disconnect();
  });

  test('QoS 1 end to end: deliveries at min(publish QoS, granted QoS)', async () => {
    const q1 = await connectClient(server.port);
    const q0 = await connectClient(server.port);
    const q1Packets = packetsOf(q1);
    const q0Packets = packetsOf(q0);
    await q1.mqtt.subscribeAsync(`${key}/e2e/q1/`, { qos: 1 });
    await q0.mqtt.subscribeAsync(`${key}/e2e/q1/`, { qos: 0 });
    await publisher.mqtt.publishAsync(`${key}/e2e/q1/`, 'one', { qos: 1 });
    await publisher.mqtt.publishAsync(`${key}/e2e/q1/`, 'zero', { qos: 0 });
    await q1.next((m) => m.payload.toString() === 'zero');
    await q0.next((m) => m.payload.toString() === 'zero');
    assert.deepEqual(
      q1Packets.map((p) => [p.payload.toString(), p.qos]),
      [
        ['one', 1],
        ['zero', 0],
      ],
    );
    assert.deepEqual(
      q0Packets.map((p) => [p.payload.toString(), p.qos]),
      [
        ['one', 0],
        ['zero', 0],
      ],
    );
    await q1.end();
    await q0.end();
  });

  test('QoS 2 end to end with MQTT.js, and the broker side of PUBREC / PUBREL / PUBCOMP', async () => {
    const sub = await connectClient(server.port);
    const packets = packetsOf(sub);
    await sub.mqtt.subscribeAsync(`${key}/e2e/q2/`, { qos: 2 });
    await publisher.mqtt.publishAsync(`${key}/e2e/q2/`, 'exactly once', { qos: 2 });
    await sub.next((m) => m.payload.toString() === 'exactly once');
    assert.equal(packets[0].qos, 2);

    const { client: raw } = await RawMqttClient.connect(server.port, uniqueId('q2raw'));
    assert.deepEqual(await raw.subscribe(`${key}/e2e/q2/`, 2), [2]);
    await publisher.mqtt.publishAsync(`${key}/e2e/q2/`, 'handshake', { qos: 2 });
    const publish = await raw.publish();
    assert.equal(publish.qos, 2);
    assert.ok(publish.messageId !== undefined && publish.messageId > 0);
    raw.send({ cmd: 'pubrec', messageId: publish.messageId });
    const pubrel = await raw.expect('pubrel');
    assert.equal(pubrel.cmd === 'pubrel' && pubrel.messageId, publish.messageId);
    raw.send({ cmd: 'pubcomp', messageId: publish.messageId });
    // The window is free again: the next message comes with another packet id.
    await publisher.mqtt.publishAsync(`${key}/e2e/q2/`, 'next', { qos: 2 });
    const next = await raw.publish();
    assert.equal(next.payload.toString(), 'next');
    assert.notEqual(next.messageId, publish.messageId);
    raw.disconnect();
    await sub.end();
  });

  test('overlapping subscriptions: one delivery per client, at the highest QoS granted', async () => {
    const client = await connectClient(server.port);
    const packets = packetsOf(client);
    await client.mqtt.subscribeAsync(`${key}/ov/`, { qos: 0 });
    await client.mqtt.subscribeAsync(`${key}/ov/a/`, { qos: 1 });
    await client.mqtt.subscribeAsync(`${key}/ov/+/`, { qos: 0 });
    await client.mqtt.subscribeAsync(`${key}/$share/ovg/ov/`, { qos: 2 });
    await publisher.mqtt.publishAsync(`${key}/ov/a/`, 'm1', { qos: 2 });
    await publisher.mqtt.publishAsync(`${key}/ov/b/`, 'm2', { qos: 1 });
    await publisher.mqtt.publishAsync(`${key}/ov/`, 'end', { qos: 0 });
    await client.next((m) => m.payload.toString() === 'end');
    assert.deepEqual(
      packets.map((p) => [p.payload.toString(), p.qos]),
      [
        ['m1', 2],
        ['m2', 1],
        ['end', 0],
      ],
    );
    await client.end();
  });

  test('bug: a client subscribed directly and through a share group gets each message once', async () => {
    const client = await connectClient(server.port);
    await client.mqtt.subscribeAsync(`${key}/both/`);
    await client.mqtt.subscribeAsync(`${key}/$share/g/both/`);
    for (let i = 0; i < 20; i++) await publisher.mqtt.publishAsync(`${key}/both/`, `m${i}`);
    await publisher.mqtt.publishAsync(`${key}/both/`, 'end', { qos: 1 });
    await client.next((m) => m.payload.toString() === 'end');
    assert.deepEqual(
      client.received.map((m) => m.payload.toString()),
      [...Array.from({ length: 20 }, (_, i) => `m${i}`), 'end'],
    );
    await client.end();
  });

  test('stored messages replay at the subscription QoS', async () => {
    await publisher.mqtt.publishAsync(`${key}/replay/q/?ttl=60`, 's1', { qos: 1 });
    await publisher.mqtt.publishAsync(`${key}/replay/q/`, 'r2', { qos: 0, retain: true });
    const reader = await connectClient(server.port);
    const packets = packetsOf(reader);
    await reader.mqtt.subscribeAsync(`${key}/replay/q/?last=2`, { qos: 1 });
    await reader.next((m) => m.payload.toString() === 'r2');
    assert.deepEqual(
      packets.map((p) => [p.payload.toString(), p.qos]),
      [
        ['s1', 1],
        ['r2', 1],
      ],
    );
    await reader.end();
  });

  test('a QoS 1 publish to an Emitter request topic still gets its reply and PUBACK', async () => {
    const client = await connectClient(server.port);
    await client.mqtt.publishAsync('emitter/me/', '', { qos: 1 });
    const reply = await client.nextJson('emitter/me/');
    assert.equal(typeof reply.id, 'string');
    await client.end();
  });
});

describe('the in-flight window', () => {
  test('at most maxInflight unacknowledged deliveries; each PUBACK lets the next one go', async () => {
    const server = await startTestBroker({ sessions: { maxInflight: 2 } });
    const publisher = await connectClient(server.port);
    try {
      const key = await keygen(publisher, server.secret, '#/', 'rw');
      const { client } = await RawMqttClient.connect(server.port, uniqueId('window'));
      await client.subscribe(`${key}/w/`, 1);
      for (let i = 0; i < 5; i++) await publisher.mqtt.publishAsync(`${key}/w/`, `m${i}`, { qos: 1 });
      const first = await client.publish();
      const second = await client.publish();
      assert.deepEqual([first.payload.toString(), second.payload.toString()], ['m0', 'm1']);
      // A round trip through the broker proves nothing else was sent meanwhile.
      client.send({ cmd: 'pingreq' });
      await client.expect('pingresp');
      assert.equal(client.packets.filter((p) => p.cmd === 'publish').length, 0);
      client.send({ cmd: 'puback', messageId: first.messageId });
      const third = await client.publish();
      assert.equal(third.payload.toString(), 'm2');
      // Packet ids are per session and not reused while in flight.
      assert.equal(new Set([first.messageId, second.messageId, third.messageId]).size, 3);
      client.disconnect();
    } finally {
      await publisher.end();
      await server.close();
    }
  });
});

describe('persistent sessions (cleanSession: false)', () => {
  let server: TestBroker;
  let publisher: TestClient;
  let key: string;
  before(async () => {
    server = await startTestBroker({ sessions: { maxQueuedMessages: 5 } });
    publisher = await connectClient(server.port);
    key = await keygen(publisher, server.secret, '#/', 'rw');
  });
  after(async () => {
    await publisher.end();
    await server.close();
  });

  test('subscriptions and QoS >= 1 messages wait while the client is away, and arrive in order', async () => {
    const clientId = uniqueId('away');
    const first = await connectClient(server.port, { clientId, clean: false });
    assert.equal(first.mqtt.options.clean, false);
    await first.mqtt.subscribeAsync(`${key}/away/`, { qos: 1 });
    await first.end();
    for (let i = 0; i < 4; i++) await publisher.mqtt.publishAsync(`${key}/away/`, `q${i}`, { qos: 1 });
    await publisher.mqtt.publishAsync(`${key}/away/`, 'qos0 is not kept', { qos: 0 });
    const { client, sessionPresent } = await RawMqttClient.connect(server.port, clientId, false);
    assert.equal(sessionPresent, true);
    const received: IPublishPacket[] = [];
    for (let i = 0; i < 4; i++) {
      const publish = await client.publish();
      received.push(publish);
      client.send({ cmd: 'puback', messageId: publish.messageId });
    }
    assert.deepEqual(
      received.map((p) => [p.payload.toString(), p.qos]),
      [
        ['q0', 1],
        ['q1', 1],
        ['q2', 1],
        ['q3', 1],
      ],
    );
    client.send({ cmd: 'pingreq' });
    await client.expect('pingresp');
    assert.equal(client.packets.filter((p) => p.cmd === 'publish').length, 0, 'QoS 0 was not queued');
    assert.equal(server.broker.registry.get(clientId)?.outbox?.size, 0);
    client.disconnect();
  });

  test('the subscription keeps working after a reconnect, at its QoS', async () => {
    const clientId = uniqueId('keeps');
    const first = await connectClient(server.port, { clientId, clean: false });
    await first.mqtt.subscribeAsync(`${key}/keeps/`, { qos: 1 });
    await first.end();
    const second = await connectClient(server.port, { clientId, clean: false });
    const packets = packetsOf(second);
    await publisher.mqtt.publishAsync(`${key}/keeps/`, 'live', { qos: 1 });
    await second.next((m) => m.payload.toString() === 'live');
    assert.equal(packets[0].qos, 1);
    await second.end();
  });

  test('unacknowledged deliveries are re-sent with DUP, same packet id, in order, after a dropped connection', async () => {
    const clientId = uniqueId('dup');
    const { client: first } = await RawMqttClient.connect(server.port, clientId, false);
    await first.subscribe(`${key}/dup/`, 1);
    for (let i = 0; i < 3; i++) await publisher.mqtt.publishAsync(`${key}/dup/`, `d${i}`, { qos: 1 });
    const sent = [await first.publish(), await first.publish(), await first.publish()];
    assert.ok(sent.every((p) => !p.dup));
    first.send({ cmd: 'puback', messageId: sent[0].messageId });
    // Make sure the PUBACK is handled before the connection drops.
    first.send({ cmd: 'pingreq' });
    await first.expect('pingresp');
    first.drop();
    await until(() => server.broker.registry.get(clientId)?.online === false, 'the broker to see the drop');
    await publisher.mqtt.publishAsync(`${key}/dup/`, 'd3', { qos: 1 });

    const { client: second, sessionPresent } = await RawMqttClient.connect(server.port, clientId, false);
    assert.equal(sessionPresent, true);
    const again = [await second.publish(), await second.publish(), await second.publish()];
    assert.deepEqual(
      again.map((p) => [p.payload.toString(), p.dup, p.messageId]),
      [
        ['d1', true, sent[1].messageId],
        ['d2', true, sent[2].messageId],
        ['d3', false, again[2].messageId],
      ],
    );
    for (const p of again) second.send({ cmd: 'puback', messageId: p.messageId });
    second.send({ cmd: 'pingreq' });
    await second.expect('pingresp');
    assert.equal(server.broker.registry.get(clientId)?.outbox?.size, 0);
    second.disconnect();
  });

  test('QoS 2: a PUBREL pending at the drop is re-sent on reconnect', async () => {
    const clientId = uniqueId('rel');
    const { client: first } = await RawMqttClient.connect(server.port, clientId, false);
    await first.subscribe(`${key}/rel/`, 2);
    await publisher.mqtt.publishAsync(`${key}/rel/`, 'two', { qos: 2 });
    const publish = await first.publish();
    first.send({ cmd: 'pubrec', messageId: publish.messageId });
    await first.expect('pubrel');
    first.drop();
    await until(() => server.broker.registry.get(clientId)?.online === false, 'the broker to see the drop');
    const { client: second } = await RawMqttClient.connect(server.port, clientId, false);
    const pubrel = await second.expect('pubrel');
    assert.equal(pubrel.cmd === 'pubrel' && pubrel.messageId, publish.messageId);
    second.send({ cmd: 'pubcomp', messageId: publish.messageId });
    second.send({ cmd: 'pingreq' });
    await second.expect('pingresp');
    assert.equal(second.packets.filter((p) => p.cmd === 'publish').length, 0, 'not delivered twice');
    assert.equal(server.broker.registry.get(clientId)?.outbox?.size, 0);
    second.disconnect();
  });

  test('the offline queue is bounded: the oldest are dropped and counted', async () => {
    const clientId = uniqueId('bound');
    const first = await connectClient(server.port, { clientId, clean: false });
    await first.mqtt.subscribeAsync(`${key}/bound/`, { qos: 1 });
    await first.end();
    const droppedBefore = server.broker.counters.droppedQueued;
    for (let i = 0; i < 12; i++) await publisher.mqtt.publishAsync(`${key}/bound/`, `b${i}`, { qos: 1 });
    assert.equal(server.broker.counters.droppedQueued - droppedBefore, 7);
    const metrics = await server.broker.metrics.metrics();
    assert.match(metrics, /emitter_session_queue_dropped_total \d+/);
    const second = await connectClient(server.port, { clientId, clean: false });
    await second.next((m) => m.payload.toString() === 'b11');
    assert.deepEqual(
      second.received.map((m) => m.payload.toString()),
      ['b7', 'b8', 'b9', 'b10', 'b11'],
    );
    await second.end();
  });

  test('cleanSession: true discards the stored session', async () => {
    const clientId = uniqueId('discard');
    const first = await connectClient(server.port, { clientId, clean: false });
    await first.mqtt.subscribeAsync(`${key}/discard/`, { qos: 1 });
    await first.end();
    await publisher.mqtt.publishAsync(`${key}/discard/`, 'queued', { qos: 1 });
    const clean = await RawMqttClient.connect(server.port, clientId, true);
    assert.equal(clean.sessionPresent, false);
    clean.client.send({ cmd: 'pingreq' });
    await clean.client.expect('pingresp');
    assert.equal(clean.client.packets.filter((p) => p.cmd === 'publish').length, 0);
    clean.client.disconnect();
    await clean.client.closedByBroker();
    const again = await RawMqttClient.connect(server.port, clientId, false);
    assert.equal(again.sessionPresent, false);
    await publisher.mqtt.publishAsync(`${key}/discard/`, 'after', { qos: 1 });
    again.client.send({ cmd: 'pingreq' });
    await again.client.expect('pingresp');
    assert.equal(again.client.packets.filter((p) => p.cmd === 'publish').length, 0, 'no subscription left');
    again.client.disconnect();
  });

  test('an empty client id cannot have a persistent session (identifier rejected)', async () => {
    const { returnCode, client } = await RawMqttClient.connect(server.port, '', false);
    assert.equal(returnCode, 2);
    await client.closedByBroker();
  });
});

describe('takeover', () => {
  test('a second CONNECT with a connected client id closes the first connection', async () => {
    const server = await startTestBroker();
    try {
      const clientId = uniqueId('take');
      const { client: first } = await RawMqttClient.connect(server.port, clientId, true);
      const { client: second, sessionPresent } = await RawMqttClient.connect(server.port, clientId, true);
      assert.equal(sessionPresent, false);
      await first.closedByBroker();
      second.send({ cmd: 'pingreq' });
      await second.expect('pingresp');
      second.disconnect();
    } finally {
      await server.close();
    }
  });

  test('a persistent session moves to the new connection with its subscriptions and in-flight messages', async () => {
    const server = await startTestBroker();
    const publisher = await connectClient(server.port);
    try {
      const key = await keygen(publisher, server.secret, '#/', 'rw');
      const clientId = uniqueId('move');
      const { client: first } = await RawMqttClient.connect(server.port, clientId, false);
      await first.subscribe(`${key}/move/`, 1);
      await publisher.mqtt.publishAsync(`${key}/move/`, 'unacked', { qos: 1 });
      const unacked = await first.publish();
      const { client: second, sessionPresent } = await RawMqttClient.connect(server.port, clientId, false);
      assert.equal(sessionPresent, true);
      await first.closedByBroker();
      const resent = await second.publish();
      assert.deepEqual(
        [resent.payload.toString(), resent.dup, resent.messageId],
        ['unacked', true, unacked.messageId],
      );
      second.send({ cmd: 'puback', messageId: resent.messageId });
      await publisher.mqtt.publishAsync(`${key}/move/`, 'after', { qos: 1 });
      assert.equal((await second.publish()).payload.toString(), 'after');
      assert.equal(server.broker.registry.size >= 1, true);
      second.disconnect();
    } finally {
      await publisher.end();
      await server.close();
    }
  });
});

describe('session expiry', () => {
  test('a persistent session whose client stays away past the expiry is gone', async () => {
    const server = await startTestBroker({ sessions: { expiryMs: 300 } });
    const publisher = await connectClient(server.port);
    try {
      const key = await keygen(publisher, server.secret, '#/', 'rw');
      const clientId = uniqueId('expire');
      const first = await connectClient(server.port, { clientId, clean: false });
      await first.mqtt.subscribeAsync(`${key}/expire/`, { qos: 1 });
      await first.end();
      await until(() => server.broker.registry.get(clientId) === undefined, 'the session to expire');
      assert.equal(server.broker.counters.sessionsExpired, 1);
      await publisher.mqtt.publishAsync(`${key}/expire/`, 'nobody', { qos: 1 });
      const again = await RawMqttClient.connect(server.port, clientId, false);
      assert.equal(again.sessionPresent, false);
      again.client.send({ cmd: 'pingreq' });
      await again.client.expect('pingresp');
      assert.equal(again.client.packets.filter((p) => p.cmd === 'publish').length, 0);
      again.client.disconnect();
    } finally {
      await publisher.end();
      await server.close();
    }
  });
});

describe('Debian mosquitto clients', () => {
  test('mosquitto_sub -c -q 1 -i <id>: messages published while it is away arrive when it comes back', async () => {
    const server = await startTestBroker();
    const helper = await connectClient(server.port);
    try {
      const key = await keygen(helper, server.secret, 'msq/', 'rw');
      const port = String(server.port);
      const clientId = uniqueId('msub');
      const sub = ['-h', '127.0.0.1', '-p', port, '-c', '-q', '1', '-i', clientId, '-t', `${key}/msq/`];
      const subscribed = new Promise<void>((resolve) =>
        server.broker.pubsub.addListener({ subscribed: () => resolve(), unsubscribed: () => {} }),
      );
      const first = runCommand('mosquitto_sub', [...sub, '-C', '1', '-W', '10']);
      await subscribed;
      await helper.mqtt.publishAsync(`${key}/msq/`, 'while here', { qos: 1 });
      const firstRun = await first;
      assert.equal(firstRun.code, 0);
      assert.equal(firstRun.stdout.trim(), 'while here');
      await until(() => server.broker.registry.get(clientId)?.online === false, 'mosquitto_sub to leave');
      for (const text of ['away 1', 'away 2', 'away 3']) {
        const pub = await runCommand('mosquitto_pub', [
          '-h',
          '127.0.0.1',
          '-p',
          port,
          '-q',
          '1',
          '-t',
          `${key}/msq/`,
          '-m',
          text,
        ]);
        assert.equal(pub.code, 0);
      }
      const second = await runCommand('mosquitto_sub', [...sub, '-C', '3', '-W', '10']);
      assert.equal(second.code, 0);
      assert.deepEqual(second.stdout.trim().split('\n'), ['away 1', 'away 2', 'away 3']);
    } finally {
      await helper.end();
      await server.close();
    }
  });
});

describe('the session store', () => {
  test('a broker restarted on the same store gets its persistent sessions back: subscriptions, in-flight and queued messages', async () => {
    const inner = new InMemorySessionStore();
    // The first broker's close must not empty the store the second one reads (a durable store's files).
    const store: SessionStore = Object.assign(Object.create(inner) as SessionStore, {
      close: async () => {},
    });
    const first = await startTestBroker({ sessions: { store } });
    const clientId = uniqueId('restart');
    const publisher = await connectClient(first.port);
    const key = await keygen(publisher, first.secret, '#/', 'rw');
    const { client } = await RawMqttClient.connect(first.port, clientId, false);
    await client.subscribe(`${key}/restart/`, 1);
    await publisher.mqtt.publishAsync(`${key}/restart/`, 'in flight', { qos: 1 });
    const unacked = await client.publish();
    client.drop();
    await until(() => first.broker.registry.get(clientId)?.online === false, 'the drop');
    await publisher.mqtt.publishAsync(`${key}/restart/`, 'queued 1', { qos: 1 });
    await publisher.mqtt.publishAsync(`${key}/restart/`, 'queued 2', { qos: 1 });
    await publisher.end();
    await first.close();

    const second = await startTestBroker({ license: first.license, sessions: { store } });
    try {
      assert.equal(second.broker.registry.offlineCount, 1);
      const again = await RawMqttClient.connect(second.port, clientId, false);
      assert.equal(again.sessionPresent, true);
      const got = [await again.client.publish(), await again.client.publish(), await again.client.publish()];
      assert.deepEqual(
        got.map((p) => [p.payload.toString(), p.dup]),
        [
          ['in flight', true],
          ['queued 1', false],
          ['queued 2', false],
        ],
      );
      assert.equal(got[0].messageId, unacked.messageId);
      for (const p of got) again.client.send({ cmd: 'puback', messageId: p.messageId });
      // The restored subscription is live on the new broker.
      const live = await connectClient(second.port);
      await live.mqtt.publishAsync(`${key}/restart/`, 'live', { qos: 1 });
      const livePacket = await again.client.publish();
      assert.equal(livePacket.payload.toString(), 'live');
      again.client.send({ cmd: 'puback', messageId: livePacket.messageId });
      await live.end();
      again.client.disconnect();
      await until(() => second.broker.registry.get(clientId)?.online === false, 'the disconnect');
      await second.broker.registry.close();
      assert.deepEqual(
        (await inner.outgoing(clientId)).map((e) => e.message.payload.toString()),
        [],
        'acknowledged messages left the store',
      );
    } finally {
      await second.close();
    }
  });
});
