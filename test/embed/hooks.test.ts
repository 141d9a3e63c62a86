import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { createBroker, EmitterError, type Broker, type BrokerHooks } from '../../src/index.js';
import { generateLicense } from '../../src/security/index.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { captureLogs } from '../helpers/logs.js';
import { within } from '../helpers/wait.js';

const brokers: Broker[] = [];
const clients: TestClient[] = [];
after(async () => {
  for (const connected of clients) await connected.end();
  for (const broker of brokers) await broker.close();
});

// The application's own user table.
const USERS = new Map([
  ['alice', 'wonderland'],
  ['bob', 'builder'],
]);

async function embedded(
  hooks: BrokerHooks,
  extra: { channelKeys?: boolean; hookTimeoutMs?: number } = {},
): Promise<{ broker: Broker; port: number; secret: string; logs: ReturnType<typeof captureLogs> }> {
  const { license } = generateLicense();
  const logs = captureLogs();
  const broker = await createBroker({
    config: { listen: '127.0.0.1:0', license: license.toString() },
    logger: logs.logger,
    hooks,
    ...extra,
  });
  const { port } = await broker.listen();
  brokers.push(broker);
  return { broker, port, secret: license.newMasterKey(), logs };
}

async function client(port: number, options: Parameters<typeof connectClient>[1] = {}): Promise<TestClient> {
  const connected = await connectClient(port, options);
  clients.push(connected);
  return connected;
}

function refusalCode(promise: Promise<unknown>): Promise<number> {
  return promise.then(
    () => assert.fail('the connection was accepted'),
    (error: { code?: number }) => error.code ?? -1,
  );
}

test('authenticate: a user table decides; bad password is CONNACK 4, unknown user 5, the rest connect', async () => {
  const { port } = await embedded({
    // Async, as a real lookup is.
    async authenticate(_client, username, password) {
      await sleep(5);
      const expected = USERS.get(username ?? '');
      if (expected === undefined) return 'notAuthorized';
      return password?.toString() === expected ? true : 'badCredentials';
    },
  });
  const alice = await client(port, { username: 'alice', password: 'wonderland' });
  assert.equal(alice.mqtt.connected, true);
  assert.equal(await refusalCode(connectClient(port, { username: 'alice', password: 'nope' })), 4);
  assert.equal(await refusalCode(connectClient(port, { username: 'mallory', password: 'x' })), 5);
  assert.equal(await refusalCode(connectClient(port)), 5);
});

test('authenticate: packets sent right behind CONNECT wait for the async answer and are served in order', async () => {
  const { port, secret } = await embedded({
    authenticate: async () => {
      await sleep(50);
      return true;
    },
  });
  const setup = await client(port);
  const key = await keygen(setup, secret, 'order/', 'rw');
  // CONNECT, SUBSCRIBE and PUBLISH in one write: the last two arrive while the hook is still deciding.
  const socket = net.connect(port, '127.0.0.1');
  after(() => socket.destroy());
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const seen: string[] = [];
  const done = new Promise<void>((resolve) =>
    parser.on('packet', (packet: Packet) => {
      seen.push(packet.cmd === 'publish' ? `publish:${packet.payload.toString()}` : packet.cmd);
      if (['suback', 'puback', 'publish:one'].every((cmd) => seen.includes(cmd))) resolve();
    }),
  );
  socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  const topic = `${key}/order/`;
  socket.write(
    Buffer.concat([
      mqttPacket.generate({
        cmd: 'connect',
        clientId: 'eager',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 0,
      }),
      mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] }),
      mqttPacket.generate({
        cmd: 'publish',
        messageId: 2,
        topic,
        payload: Buffer.from('one'),
        qos: 1,
        retain: false,
        dup: false,
      }),
    ]),
  );
  await within(done, 5000, 'the message published behind CONNECT');
  // Served after CONNACK, and the subscription made before the publish it receives.
  assert.equal(seen[0], 'connack');
});

test('a hook that throws or never answers refuses, is logged, and the broker serves the next client', async () => {
  let calls = 0;
  const { port, logs } = await embedded(
    {
      authenticate(_client, username) {
        calls++;
        if (username === 'throws') throw new Error('user table offline');
        if (username === 'hangs') return new Promise<boolean>(() => undefined);
        return true;
      },
    },
    { hookTimeoutMs: 300 },
  );
  assert.equal(await refusalCode(connectClient(port, { username: 'throws' })), 5);
  assert.equal(await refusalCode(connectClient(port, { username: 'hangs' })), 5);
  const fine = await client(port, { username: 'fine' });
  assert.equal(fine.mqtt.connected, true);
  assert.equal(calls, 3);
  const failures = logs.entries().filter((entry) => entry.msg === 'hook failed: refused');
  assert.equal(failures.length, 2);
  assert.deepEqual(
    failures.map((entry) => (entry.err as { message: string }).message),
    ['user table offline', 'no answer within 300 ms'],
  );
});

test('authorizePublish refuses one topic: the publisher gets 403 on emitter/error/ with req, subscribers get nothing', async () => {
  const seen: string[] = [];
  const { port, secret } = await embedded({
    authorizePublish(_client, message) {
      seen.push(`${message.channel}:${message.qos}`);
      return message.channel !== 'news/secret/';
    },
  });
  const publisher = await client(port);
  const key = await keygen(publisher, secret, 'news/#/', 'rw');
  const reader = await client(port);
  await reader.mqtt.subscribeAsync(`${key}/news/+/`);
  await publisher.mqtt.publishAsync(`${key}/news/secret/`, 'hidden', { qos: 1 });
  const error = await publisher.nextJson('emitter/error/');
  assert.equal(error.status, 403);
  assert.equal(typeof error.req, 'number');
  await publisher.mqtt.publishAsync(`${key}/news/public/`, 'shown', { qos: 1 });
  const got = await reader.next();
  assert.equal(got.topic, 'news/public/');
  assert.equal(got.payload.toString(), 'shown');
  assert.equal(reader.received.length, 1);
  assert.deepEqual(seen, ['news/secret/:1', 'news/public/:1']);
  // A key without write permission is refused before the hook is asked (keys first, then the hook).
  const readOnly = await keygen(publisher, secret, 'news/#/', 'r');
  await publisher.mqtt.publishAsync(`${readOnly}/news/public/`, 'x');
  assert.equal((await publisher.nextJson('emitter/error/')).status, 401);
  assert.equal(seen.length, 2);
});

test('authorizePublish answering late keeps one client’s publishes in order', async () => {
  const { port, secret } = await embedded({
    async authorizePublish(_client, message) {
      // Earlier messages take longer: a naive implementation would deliver them last.
      await sleep(40 - Number(message.payload.toString()) * 4);
      return true;
    },
  });
  const publisher = await client(port);
  const key = await keygen(publisher, secret, 'seq/', 'rw');
  const reader = await client(port);
  await reader.mqtt.subscribeAsync(`${key}/seq/`);
  for (let i = 0; i < 10; i++) publisher.mqtt.publish(`${key}/seq/`, String(i));
  const got: string[] = [];
  for (let i = 0; i < 10; i++) got.push((await reader.next()).payload.toString());
  assert.deepEqual(got, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
});

test('authorizeSubscribe refuses a filter (SUBACK 0x80, 403 on emitter/error/); authorizeRequest refuses keygen on its topic', async () => {
  let subscribeAsked = 0;
  const { port, secret } = await embedded({
    authorizeSubscribe: (_client, subscription) => {
      subscribeAsked++;
      return !subscription.channel.startsWith('admin/');
    },
    authorizeRequest: (client, request) =>
      request.name !== 'keygen' || client.username === 'admin'
        ? true
        : new EmitterError(403, 'only admin makes keys'),
  });
  const admin = await client(port, { username: 'admin' });
  const key = await keygen(admin, secret, '#/', 'r');
  const user = await client(port, { username: 'user' });
  // Keys first: a filter the key does not open is refused (401) before the hook is asked.
  await assert.rejects(
    user.mqtt.subscribeAsync(`${key}/admin/`.replace(key, 'not-a-key')),
    /Subscribe error/,
  );
  assert.equal((await user.nextJson('emitter/error/')).status, 401);
  // mqtt.js rejects a SUBACK with 0x80 (the broker refused the filter).
  await assert.rejects(user.mqtt.subscribeAsync(`${key}/admin/`), /Subscribe error/);
  await user.mqtt.subscribeAsync(`${key}/lobby/`);
  assert.equal(subscribeAsked, 2);
  assert.equal((await user.nextJson('emitter/error/')).status, 403);
  await user.mqtt.publishAsync('emitter/keygen/', JSON.stringify({ key: secret, channel: 'x/', type: 'r' }));
  const reply = await user.nextJson('emitter/keygen/');
  assert.deepEqual([reply.status, reply.message], [403, 'only admin makes keys']);
});

test('channelKeys: false — keyless topics (`room/1`), the hooks are the only rules', async () => {
  const { port } = await embedded(
    {
      authenticate: (_client, username, password) => USERS.get(username ?? '') === password?.toString(),
      authorizePublish: (client, message) => client.username === 'alice' || message.channel !== 'room/1/',
    },
    { channelKeys: false },
  );
  const alice = await client(port, { username: 'alice', password: 'wonderland' });
  const bob = await client(port, { username: 'bob', password: 'builder' });
  await bob.mqtt.subscribeAsync('room/+');
  await alice.mqtt.publishAsync('room/1', 'from alice', { qos: 1 });
  const got = await bob.next();
  assert.deepEqual([got.topic, got.payload.toString()], ['room/1/', 'from alice']);
  await bob.mqtt.publishAsync('room/1', 'from bob', { qos: 1 });
  assert.equal((await bob.nextJson('emitter/error/')).status, 403);
  await bob.mqtt.publishAsync('room/2', 'bob elsewhere');
  assert.equal((await bob.next((m) => m.topic === 'room/2/')).payload.toString(), 'bob elsewhere');
  // Stored messages and `last` work without keys too.
  await alice.mqtt.publishAsync('history/?ttl=60', 'kept', { qos: 1 });
  const late = await client(port, { username: 'bob', password: 'builder', clientId: 'late-bob' });
  await late.mqtt.subscribeAsync('history/?last=1');
  assert.equal((await late.next((m) => m.topic === 'history/')).payload.toString(), 'kept');
});

test('authorizePublish decides on last wills too: a refused will is dropped, an allowed one delivered', async () => {
  const asked: string[] = [];
  const { broker, port } = await embedded(
    {
      authorizePublish: (_client, message) => {
        asked.push(message.topic);
        return message.channel !== 'wills/secret/';
      },
    },
    { channelKeys: false },
  );
  const watcher = await client(port);
  await watcher.mqtt.subscribeAsync('wills/+');
  const disconnected = (clientId: string): Promise<void> =>
    new Promise((resolve) =>
      broker.on('clientDisconnected', (gone) => {
        if (gone.clientId === clientId) resolve();
      }),
    );
  const secret = await connectClient(port, {
    clientId: 'secret',
    will: { topic: 'wills/secret', payload: Buffer.from('hidden'), qos: 0, retain: false },
  });
  const open = await connectClient(port, {
    clientId: 'open',
    will: { topic: 'wills/open', payload: Buffer.from('shown'), qos: 0, retain: false },
  });
  // Dropped connections (no DISCONNECT): their wills are published, or not.
  const secretGone = disconnected('secret');
  secret.mqtt.stream.destroy();
  await within(secretGone, 5000, 'the first client to be gone');
  open.mqtt.stream.destroy();
  const will = await watcher.next();
  assert.deepEqual([will.topic, will.payload.toString()], ['wills/open/', 'shown']);
  assert.deepEqual(
    watcher.received.map((message) => message.topic),
    ['wills/open/'],
  );
  assert.deepEqual(asked, ['wills/secret', 'wills/open']);
  secret.mqtt.end(true);
  open.mqtt.end(true);
});

test('MQTT 5 clients get the refusals as reason codes: authenticate 0x86 / 0x87 in CONNACK, authorizePublish 0x87 in PUBACK (and 403 on emitter/error/)', async () => {
  const { port, secret } = await embedded({
    authenticate: (_client, username, password) =>
      USERS.get(username ?? '') === password?.toString()
        ? true
        : USERS.has(username ?? '')
          ? 'badCredentials'
          : 'notAuthorized',
    authorizePublish: (_client, message) => message.channel !== 'secret/',
  });
  const refusedWith = async (username: string, password: string): Promise<number | undefined> => {
    const client = await connectClient(port, { protocolVersion: 5, username, password }).then(
      () => undefined,
      (error: Error & { code?: number }) => error.code,
    );
    return client;
  };
  assert.equal(await refusedWith('alice', 'wrong'), 0x86);
  assert.equal(await refusedWith('mallory', 'x'), 0x87);

  const alice = await connectClient(port, { protocolVersion: 5, username: 'alice', password: 'wonderland' });
  clients.push(alice);
  const key = await keygen(alice, secret, 'secret/', 'rw');
  const reasonCode = await new Promise<number | undefined>((resolve, reject) =>
    alice.mqtt.publish(`${key}/secret/`, 'x', { qos: 1 }, (error, packet) => {
      if (error && (error as Error & { code?: number }).code !== undefined)
        resolve((error as Error & { code?: number }).code);
      else if (error) reject(error);
      else resolve((packet as { reasonCode?: number } | undefined)?.reasonCode);
    }),
  );
  assert.equal(reasonCode, 0x87, 'PUBACK says not authorized');
  assert.equal((await alice.nextJson('emitter/error/')).status, 403);
});
