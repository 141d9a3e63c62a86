import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { createBroker, type Broker, type DroppedEvent } from '../../src/index.js';
import { generateLicense } from '../../src/security/index.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { captureLogs } from '../helpers/logs.js';
import { within } from '../helpers/wait.js';

const brokers: Broker[] = [];
const clients: TestClient[] = [];
after(async () => {
  for (const client of clients) await client.end();
  for (const broker of brokers) await broker.close();
});

test('events: connected, subscribed, published, dropped (refused), unsubscribed, disconnected, counted with typed payloads', async () => {
  const { license } = generateLicense();
  const logs = captureLogs();
  const broker = await createBroker({
    config: { listen: '127.0.0.1:0', license: license.toString() },
    logger: logs.logger,
    hooks: {
      authenticate: (_client, username) => username !== 'intruder',
      authorizePublish: (_client, message) => message.channel !== 'events/closed/',
    },
  });
  brokers.push(broker);
  const { port } = await broker.listen();
  // Nobody listens yet: the broker builds no payload (the flags it reads say so).
  assert.deepEqual(
    [broker.events.watchClients, broker.events.watchPublished, broker.events.watchDropped],
    [false, false, false],
  );

  const counts = new Map<string, number>();
  const count = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  const connectedIds: string[] = [];
  const published: string[] = [];
  const dropped: DroppedEvent[] = [];
  broker.on('clientConnected', (client) => {
    count('connected');
    connectedIds.push(client.clientId);
  });
  broker.on('clientDisconnected', () => count('disconnected'));
  broker.on('subscribed', (_client, subscription) => count(`subscribed ${subscription.channel}`));
  broker.on('unsubscribed', (_client, subscription) => count(`unsubscribed ${subscription.channel}`));
  broker.on('published', (event) =>
    published.push(`${event.client.clientId} ${event.channel} ${event.payload}`),
  );
  broker.on('dropped', (event) => dropped.push(event));
  // A listener that throws is logged and harms nothing.
  broker.on('published', () => {
    throw new Error('listener bug');
  });
  assert.deepEqual(
    [broker.events.watchClients, broker.events.watchPublished, broker.events.watchDropped],
    [true, true, true],
  );

  const alice = await connectClient(port, { clientId: 'alice' });
  clients.push(alice);
  await assert.rejects(connectClient(port, { clientId: 'x', username: 'intruder' }));
  const key = await keygen(alice, license.newMasterKey(), 'events/#/', 'rw');
  const readOnly = await keygen(alice, license.newMasterKey(), 'events/#/', 'r');
  await alice.mqtt.subscribeAsync(`${key}/events/open/`);
  for (let i = 0; i < 5; i++) await alice.mqtt.publishAsync(`${key}/events/open/`, `m${i}`, { qos: 1 });
  await alice.mqtt.publishAsync(`${key}/events/closed/`, 'refused by the hook', { qos: 1 });
  assert.equal((await alice.nextJson('emitter/error/')).status, 403);
  await alice.mqtt.publishAsync(`${readOnly}/events/open/`, 'refused by the key', { qos: 1 });
  assert.equal((await alice.nextJson('emitter/error/')).status, 401);
  await alice.mqtt.unsubscribeAsync(`${key}/events/open/`);
  const bobGone = new Promise<void>((resolve) => broker.on('clientDisconnected', () => resolve()));
  const bob = await connectClient(port, { clientId: 'bob' });
  await bob.end();
  await within(bobGone, 5000, 'the clientDisconnected event of bob');

  assert.deepEqual(connectedIds, ['alice', 'bob']);
  assert.equal(counts.get('connected'), 2);
  assert.equal(counts.get('disconnected'), 1);
  assert.equal(counts.get('subscribed events/open/'), 1);
  assert.equal(counts.get('unsubscribed events/open/'), 1);
  assert.deepEqual(
    published,
    [0, 1, 2, 3, 4].map((i) => `alice events/open/ m${i}`),
  );
  assert.deepEqual(
    dropped.map(({ client, topic, reason, status }) => [client.clientId, topic, reason, status]),
    [
      ['alice', 'events/closed/', 'refused', 403],
      ['alice', 'events/open/', 'refused', 401],
    ],
  );
  assert.equal(logs.entries().filter((entry) => entry.msg === 'a broker event listener threw').length, 5);
});

test('events: removing the last listener turns the flags off again', async () => {
  const { license } = generateLicense();
  const broker = await createBroker({
    config: { license: license.toString() },
    logger: captureLogs().logger,
  });
  brokers.push(broker);
  const listener = (): void => undefined;
  assert.equal(broker.plainPublish, true);
  broker.on('published', listener);
  assert.deepEqual([broker.events.watchPublished, broker.plainPublish], [true, false]);
  broker.off('published', listener);
  assert.deepEqual([broker.events.watchPublished, broker.plainPublish], [false, true]);
});

test('events: a subscriber that stops reading makes `dropped` events with reason slowConsumer', async () => {
  const { license } = generateLicense();
  const broker = await createBroker({
    config: { listen: '127.0.0.1:0', license: license.toString(), limit: { outgoingBuffer: 64 * 1024 } },
    logger: captureLogs().logger,
  });
  brokers.push(broker);
  const { port } = await broker.listen();
  const publisher = await connectClient(port, { clientId: 'flooder' });
  clients.push(publisher);
  const key = await keygen(publisher, license.newMasterKey(), 'flood/', 'rw');
  // A subscriber that reads its SUBACK, then nothing more.
  const socket = net.connect(port, '127.0.0.1');
  after(() => socket.destroy());
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const subscribed = new Promise<void>((resolve) =>
    parser.on('packet', (packet: Packet) => {
      if (packet.cmd === 'suback') resolve();
    }),
  );
  socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  socket.write(
    Buffer.concat([
      mqttPacket.generate({
        cmd: 'connect',
        clientId: 'sleeper',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 0,
      }),
      mqttPacket.generate({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [{ topic: `${key}/flood/`, qos: 0 }],
      }),
    ]),
  );
  await within(subscribed, 5000, 'SUBACK');
  socket.pause();

  let drop: DroppedEvent | undefined;
  broker.on('dropped', (event) => (drop ??= event));
  const payload = Buffer.alloc(60_000, 1);
  // Bounded: at most 2,000 messages (the kernel's socket buffers fill long before).
  for (let i = 0; i < 2000 && drop === undefined; i++)
    await publisher.mqtt.publishAsync(`${key}/flood/`, payload);
  assert.ok(drop, 'a dropped event');
  assert.deepEqual([drop.client.clientId, drop.topic, drop.reason], ['sleeper', 'flood/', 'slowConsumer']);
});
