import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import mqtt from 'mqtt';
import { connectClient, type TestClient } from '../../helpers/clients.js';
import { startTestBroker, type TestBroker } from '../../helpers/broker.js';
import { EmitterError } from '../../../src/errors.js';

// Plain MQTT clients (README "Plain MQTT clients"): a channel key as password, anonymous access, plain
// topics in Emitter's channel space.

function makeKey(server: TestBroker, channel: string, type: string, ttl = 0): string {
  const created = server.broker.authority.createKey({ secret: server.secret, channel, type, ttl });
  if (created instanceof EmitterError) throw created;
  return created.key;
}

// A subscription is in place once SUBACK came back: publishes after it are matched against it.
async function subscribed(
  client: TestClient,
  filter: string | string[],
  qos: 0 | 1 | 2 = 0,
): Promise<number[]> {
  try {
    const granted = await client.mqtt.subscribeAsync(filter, { qos });
    return granted.map((grant) => grant.qos);
  } catch (error) {
    // MQTT.js rejects a SUBACK with a v5 failure code; the packet says which.
    const packet = (error as { packet?: { granted: number[] } }).packet;
    if (packet === undefined) throw error;
    return packet.granted;
  }
}

// The reason code of a QoS 1 publish's PUBACK (MQTT.js rejects the failures).
async function pubackCode(client: TestClient, topic: string, payload: string): Promise<number> {
  try {
    const ack = await client.mqtt.publishAsync(topic, payload, { qos: 1 });
    return (ack as { reasonCode?: number } | undefined)?.reasonCode ?? 0;
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (code === undefined) throw error;
    return code;
  }
}

// Asserts nothing came on `topic`: `pinger` publishes to `fence` (which `client` hears) after whatever is
// checked, and that message arrives after anything routed to `client` before it.
async function nothingOn(
  client: TestClient,
  topic: string,
  pinger: TestClient,
  fence: string,
): Promise<void> {
  await pinger.mqtt.publishAsync(fence, 'fence', { qos: 1 });
  await client.next((m) => m.topic === fence);
  assert.equal(
    client.received.filter((m) => m.topic === topic).length,
    0,
    `nothing on ${topic}: ${JSON.stringify(client.received.map((m) => m.topic))}`,
  );
}

function connectError(port: number, options: mqtt.IClientOptions): Promise<{ code?: number }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error('no CONNACK'));
    }, 5000);
    client.once('connect', () => {
      clearTimeout(timer);
      client.end(true);
      reject(new Error('connected, expected a refusal'));
    });
    client.once('error', (error) => {
      clearTimeout(timer);
      client.end(true);
      resolve(error as { code?: number });
    });
  });
}

test('a channel key as password: plain topics within its target, verbatim both ways', async () => {
  const server = await startTestBroker({ keyPassword: true });
  const key = makeKey(server, 'sensors/#/', 'rw');
  const publisher = await connectClient(server.port, { username: 'device', password: key });
  const subscriber = await connectClient(server.port, { username: 'x', password: key, protocolVersion: 5 });
  try {
    assert.deepEqual(await subscribed(subscriber, 'sensors/+'), [0]);
    await publisher.mqtt.publishAsync('sensors/t1', '21.5', { qos: 1 });
    const message = await subscriber.next((m) => m.topic.startsWith('sensors/'));
    assert.equal(message.topic, 'sensors/t1');
    assert.equal(message.payload.toString(), '21.5');
    // Not the Emitter form, and nothing else.
    assert.equal(subscriber.received.length, 1);
  } finally {
    await publisher.end();
    await subscriber.end();
    await server.close();
  }
});

test('a password that is not a valid key of this licence is refused: CONNACK 5 (3.1.1), 0x87 (5)', async () => {
  const server = await startTestBroker({ keyPassword: true });
  const other = await startTestBroker();
  try {
    const foreign = makeKey(other, 'sensors/#/', 'rw');
    assert.equal((await connectError(server.port, { username: 'u', password: 'not-a-key' })).code, 5);
    assert.equal(
      (await connectError(server.port, { username: 'u', password: foreign, protocolVersion: 5 })).code,
      0x87,
    );
    // The secret key opens no channel; a banned and an expired key are refused too.
    assert.equal((await connectError(server.port, { username: 'u', password: server.secret })).code, 5);
    const banned = makeKey(server, 'a/', 'rw');
    server.broker.authority.ban(banned);
    assert.equal(
      (await connectError(server.port, { username: 'u', password: banned, protocolVersion: 5 })).code,
      0x87,
    );
    const expired = makeKey(server, 'a/', 'rw', 1);
    const late = await new Promise<{ code?: number }>((resolve) =>
      setTimeout(() => resolve(connectError(server.port, { username: 'u', password: expired })), 2100),
    );
    assert.equal(late.code, 5);
    // A valid key connects.
    const ok = await connectClient(server.port, { username: 'u', password: makeKey(server, 'a/', 'r') });
    await ok.end();
  } finally {
    await server.close();
    await other.close();
  }
});

test('keyPassword off: a password is ignored and plain topics get the Emitter error as before', async () => {
  const server = await startTestBroker();
  const client = await connectClient(server.port, { username: 'u', password: 'anything' });
  const v5 = await connectClient(server.port, { protocolVersion: 5 });
  try {
    await client.mqtt.publishAsync('sensors/t1', 'x');
    const error = await client.nextJson('emitter/error/');
    assert.equal(error.status, 400);
    assert.deepEqual(await subscribed(v5, 'sensors/+'), [0x8f], 'MQTT 5: Topic Filter invalid');
    assert.equal(await pubackCode(v5, 'sensors/t1', 'x'), 0x90, 'MQTT 5: Topic Name invalid');
  } finally {
    await client.end();
    await v5.end();
    await server.close();
  }
});

test('permissions: a key without w cannot publish, a topic outside the target is refused', async () => {
  const server = await startTestBroker({ keyPassword: true });
  const readOnly = makeKey(server, 'sensors/#/', 'r');
  const writer = makeKey(server, 'sensors/#/', 'rw');
  const reader = await connectClient(server.port, { username: 'u', password: readOnly, protocolVersion: 5 });
  const reader3 = await connectClient(server.port, { username: 'u', password: readOnly });
  const device = await connectClient(server.port, { username: 'u', password: writer, protocolVersion: 5 });
  try {
    await subscribed(reader3, 'sensors/#');
    assert.equal(await pubackCode(reader, 'sensors/t1', 'x'), 0x87, 'Not authorized');
    await reader3.mqtt.publishAsync('sensors/t2', 'x', { qos: 1 });
    assert.equal(await pubackCode(device, 'other/t1', 'x'), 0x87);
    assert.deepEqual(await subscribed(device, ['other/+', 'sensors/+']), [0x87, 0]);
    assert.deepEqual(await subscribed(reader3, 'other/x'), [0x80]);
    // Nothing of the refused publishes arrived, and no Emitter error message either.
    await nothingOn(reader3, 'sensors/t1', device, 'sensors/fence');
    assert.deepEqual(
      reader3.received.map((m) => m.topic),
      ['sensors/fence'],
    );
  } finally {
    await reader.end();
    await reader3.end();
    await device.end();
    await server.close();
  }
});

test('anonymous: plain clients without a password get its permissions; off, they get none', async () => {
  const server = await startTestBroker({ anonymous: 'rw' });
  const a = await connectClient(server.port);
  const b = await connectClient(server.port, { protocolVersion: 5 });
  try {
    await subscribed(b, 'room/#');
    await a.mqtt.publishAsync('room/1', 'hi', { qos: 1 });
    assert.equal((await b.next((m) => m.topic.startsWith('room'))).topic, 'room/1');
    // `s` is not among the permissions: a retained publish is delivered but not stored.
    await a.mqtt.publishAsync('room/2', 'r', { qos: 1, retain: true });
    assert.equal((await b.next((m) => m.topic === 'room/2')).payload.toString(), 'r');
  } finally {
    await a.end();
    await b.end();
    await server.close();
  }
  await assert.rejects(startTestBroker({ anonymous: 'rwx' }), /anonymous/);
  // Off (the default): a plain topic is an Emitter error, as before.
  const off = await startTestBroker();
  const c = await connectClient(off.port);
  try {
    await c.mqtt.publishAsync('room/1', 'hi');
    assert.equal((await c.nextJson('emitter/error/')).status, 400);
  } finally {
    await c.end();
    await off.close();
  }
});

test('the Emitter SDK and Emitter-style clients keep working with anonymous on, in the same channel space', async () => {
  const server = await startTestBroker({ anonymous: 'rw' });
  const key = makeKey(server, 'sensors/#/', 'rw');
  const require = createRequire(import.meta.url);
  const sdk = require('emitter-io') as {
    connect(options: object): {
      on(event: string, handler: (message: { channel: string; asString(): string }) => void): void;
      subscribe(request: { key: string; channel: string }): void;
      publish(request: { key: string; channel: string; message: string }): void;
      disconnect(): void;
    };
  };
  const emitter = await connectClient(server.port);
  const plain = await connectClient(server.port);
  const client = sdk.connect({ host: '127.0.0.1', port: server.port, secure: false, reconnectPeriod: 0 });
  try {
    const sdkGot = new Promise<{ channel: string; text: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the SDK received nothing')), 10000);
      client.on('connect', () => client.subscribe({ key, channel: 'sensors/' }));
      client.on('message', (message) => {
        clearTimeout(timer);
        resolve({ channel: message.channel, text: message.asString() });
      });
    });
    // An Emitter-style MQTT client: key in the topic, no password.
    await subscribed(emitter, `${key}/sensors/`);
    await subscribed(plain, 'sensors/+');
    const sdkSubscribed = new Promise<void>((resolve) =>
      server.broker.pubsub.addListener({
        subscribed: (_s, subscription) => subscription.channel === 'sensors/' && resolve(),
        unsubscribed: () => {},
      }),
    );
    await sdkSubscribed;
    // Plain publish to sensors/t1 reaches Emitter subscribers of sensors/ as sensors/t1/.
    await plain.mqtt.publishAsync('sensors/t1', 'from-plain', { qos: 1 });
    assert.deepEqual(await sdkGot, { channel: 'sensors/t1/', text: 'from-plain' });
    const viaEmitter = await emitter.next((m) => m.payload.toString() === 'from-plain');
    assert.equal(viaEmitter.topic, 'sensors/t1/');
    // Emitter publish to sensors/t2/ reaches the plain subscriber of sensors/+ as sensors/t2.
    await emitter.mqtt.publishAsync(`${key}/sensors/t2/`, 'from-emitter', { qos: 1 });
    const viaPlain = await plain.next((m) => m.payload.toString() === 'from-emitter');
    assert.equal(viaPlain.topic, 'sensors/t2');
    assert.equal((await plain.next((m) => m.payload.toString() === 'from-plain')).topic, 'sensors/t1');
  } finally {
    client.disconnect();
    await emitter.end();
    await plain.end();
    await server.close();
  }
});
