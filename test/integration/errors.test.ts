import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { ChannelKey, generateLicense, Permission } from '../../src/security/index.js';

const UNAUTHORIZED = 'the security key provided is not authorized to perform this operation';

describe('bad input gets an Emitter error and harms nobody else', () => {
  let server: TestBroker;
  let attacker: TestClient;
  let watcher: TestClient;
  let key: string;
  let heartbeat = 0;

  /** Proves the well-behaved client still receives: publish from a fresh connection and await it. */
  async function watcherStillReceives(): Promise<void> {
    const sender = await connectClient(server.port);
    const payload = `beat-${++heartbeat}`;
    await sender.mqtt.publishAsync(`${key}/ok/`, payload);
    const message = await watcher.next((m) => m.payload.toString() === payload);
    assert.equal(message.topic, 'ok/');
    await sender.end();
  }

  before(async () => {
    server = await startTestBroker();
    attacker = await connectClient(server.port);
    watcher = await connectClient(server.port);
    key = await keygen(watcher, server.secret, 'ok/', 'rw');
    await watcher.mqtt.subscribeAsync(`${key}/ok/`);
  });
  after(async () => {
    await attacker.end();
    await watcher.end();
    await server.close();
  });

  const publishCases: Array<[string, (key: string) => string, number]> = [
    ['a channel without the trailing slash', (k) => `${k}/ok/no-slash`, 400],
    ['an empty level', (k) => `${k}/ok//x/`, 400],
    ['a character outside the channel alphabet', (k) => `${k}/ok/sp ace/`, 400],
    ['a non-alphanumeric option value', (k) => `${k}/ok/?ttl=-1`, 400],
    ['a wildcard channel', (k) => `${k}/ok/+/`, 403],
    ['a key that is not a key', () => `not-a-valid-key-at-all-0123456789/ok/`, 401],
    ['a channel outside the key target', (k) => `${k}/other/`, 401],
    ['an unknown link alias', () => 'zz', 400],
  ];
  for (const [name, topic, status] of publishCases) {
    test(`publish with ${name} gets ${status} on emitter/error/`, async () => {
      await attacker.mqtt.publishAsync(topic(key), 'x');
      const reply = await attacker.nextJson('emitter/error/');
      assert.equal(reply.status, status);
      assert.equal(typeof reply.message, 'string');
      await watcherStillReceives();
    });
  }

  test('a key without w cannot publish; the error carries req for QoS 1', async () => {
    const readOnly = await keygen(attacker, server.secret, 'ok/', 'r');
    const packet = await attacker.mqtt.publishAsync(`${readOnly}/ok/`, 'x', { qos: 1 });
    const reply = await attacker.nextJson('emitter/error/');
    assert.deepEqual(reply, { req: packet?.messageId, status: 401, message: UNAUTHORIZED });
    await watcherStillReceives();
  });

  test('a key without r cannot subscribe: SUBACK 0x80 and a 401', async () => {
    const writeOnly = await keygen(attacker, server.secret, 'ok/', 'w');
    // MQTT.js rejects a subscribe whose SUBACK carries 0x80; the packet is on the error.
    const refused = (await attacker.mqtt.subscribeAsync(`${writeOnly}/ok/`).then(
      () => undefined,
      (error: unknown) => error,
    )) as { packet?: { granted?: number[] } } | undefined;
    assert.deepEqual(refused?.packet?.granted, [128]);
    const reply = await attacker.nextJson('emitter/error/');
    assert.equal(reply.status, 401);
    assert.equal(typeof reply.req, 'number');
  });

  test('a key from another licence is refused', async () => {
    const other = generateLicense().license;
    const foreign = new ChannelKey();
    foreign.masterId = 1;
    foreign.contract = other.contract;
    foreign.signature = other.signature;
    foreign.permissions = Permission.Read | Permission.Write;
    foreign.setTarget('ok/');
    await attacker.mqtt.publishAsync(`${other.cipher.encrypt(foreign)}/ok/`, 'x');
    assert.equal((await attacker.nextJson('emitter/error/')).status, 401);
    await watcherStillReceives();
  });

  test('an expired key is refused', async () => {
    const expired = new ChannelKey();
    expired.masterId = 1;
    expired.contract = server.license.contract;
    expired.signature = server.license.signature;
    expired.permissions = Permission.Read | Permission.Write;
    expired.setTarget('ok/');
    expired.expires = Math.floor(Date.now() / 1000) - 60;
    await attacker.mqtt.publishAsync(`${server.license.cipher.encrypt(expired)}/ok/`, 'x');
    assert.equal((await attacker.nextJson('emitter/error/')).status, 401);
  });

  test('an extend key cannot publish', async () => {
    const extend = await keygen(attacker, server.secret, 'ok/', 'rwe');
    await attacker.mqtt.publishAsync(`${extend}/ok/`, 'x');
    const reply = await attacker.nextJson('emitter/error/');
    assert.equal(reply.status, 401);
    assert.equal(reply.message, 'the security key with extend permission can only be used for private links');
  });

  test('a message over the 64 KiB limit is refused with an error, and the connection stays', async () => {
    await attacker.mqtt.publishAsync(`${key}/ok/`, Buffer.alloc(65537, 1));
    const reply = await attacker.nextJson('emitter/error/');
    assert.equal(reply.status, 413);
    assert.ok(attacker.mqtt.connected);
    await watcherStillReceives();
    assert.equal(watcher.received.filter((m) => m.payload.length > 65536).length, 0);
  });

  test('limit.messageSize bounds the whole PUBLISH as in Emitter: a 65,536-byte payload is refused', async () => {
    const topic = `${key}/ok/`;
    // Remaining length = 2 (topic length) + topic + 2 (packet id, QoS 1) + payload.
    const fits = 65536 - 2 - Buffer.byteLength(topic) - 2;
    await attacker.mqtt.publishAsync(topic, Buffer.alloc(fits, 2), { qos: 1 });
    const delivered = await watcher.next((m) => m.payload.length === fits);
    assert.equal(delivered.payload[0], 2);
    for (const [size, qos] of [
      [fits + 1, 1],
      [fits + 3, 0],
      [65536, 0],
    ] as const) {
      await attacker.mqtt.publishAsync(topic, Buffer.alloc(size, 3), { qos });
      const reply = await attacker.nextJson('emitter/error/');
      assert.equal(reply.status, 413, `payload ${size} at QoS ${qos}`);
      if (qos === 1) assert.equal(typeof reply.req, 'number');
    }
    await watcherStillReceives();
    assert.equal(watcher.received.filter((m) => m.payload[0] === 3).length, 0, 'nothing too large delivered');
    assert.ok(attacker.mqtt.connected);
  });

  test('non-JSON and invalid requests get 400 on the request topic; unknown requests 404', async () => {
    await attacker.mqtt.publishAsync('emitter/keygen/', 'this is not json');
    assert.equal((await attacker.nextJson('emitter/keygen/')).status, 400);
    await attacker.mqtt.publishAsync('emitter/keygen/', JSON.stringify({ key: 42, channel: 'a/' }));
    assert.equal((await attacker.nextJson('emitter/keygen/')).status, 400);
    await attacker.mqtt.publishAsync('emitter/nothing-here/', '{}');
    assert.equal((await attacker.nextJson('emitter/nothing-here/')).status, 404);
    await attacker.mqtt.publishAsync('emitter/+/', '{}');
    assert.equal((await attacker.nextJson('emitter/error/')).status, 403);
  });

  test('a JSON null body (or field) reads as Go zero values: keygen and keyban 401, link the name 400', async () => {
    const ask = async (request: string, body: string): Promise<Record<string, unknown>> => {
      await attacker.mqtt.publishAsync(`emitter/${request}/`, body);
      return attacker.nextJson(`emitter/${request}/`);
    };
    assert.deepEqual(await ask('keygen', 'null'), { status: 401, message: UNAUTHORIZED });
    assert.deepEqual(await ask('keyban', 'null'), { status: 401, message: UNAUTHORIZED });
    assert.deepEqual(await ask('link', 'null'), {
      status: 400,
      message: 'the link must be an alphanumeric string of 1 or 2 characters',
    });
    const nullKey = await ask('keygen', JSON.stringify({ key: null, channel: 'ok/', type: 'r' }));
    assert.deepEqual(nullKey, { status: 401, message: UNAUTHORIZED });
    // A null ttl is Go's 0: the key is made.
    const nullTtl = await ask(
      'keygen',
      JSON.stringify({ key: server.secret, channel: 'ok/', type: 'r', ttl: null }),
    );
    assert.equal(nullTtl.status, 200);
  });

  test('keygen refuses a channel key used as the secret, and bad targets', async () => {
    await attacker.mqtt.publishAsync('emitter/keygen/', JSON.stringify({ key, channel: 'ok/', type: 'rw' }));
    assert.equal((await attacker.nextJson('emitter/keygen/')).status, 401);
    await attacker.mqtt.publishAsync(
      'emitter/keygen/',
      JSON.stringify({ key: server.secret, channel: 'no-slash', type: 'rw' }),
    );
    const reply = await attacker.nextJson('emitter/keygen/');
    assert.equal(reply.status, 400);
    assert.equal(reply.message, 'channel should end with `/` for strict types or `/#/` for wildcards');
    await attacker.mqtt.publishAsync(
      'emitter/keygen/',
      JSON.stringify({ key: server.secret, channel: `${'a/'.repeat(24)}`, type: 'rw' }),
    );
    assert.equal(
      (await attacker.nextJson('emitter/keygen/')).message,
      'channel can not have more than 23 parts',
    );
  });

  const rawCases: Array<[string, Buffer]> = [
    ['garbage bytes', Buffer.from('\x10\xff\xff\xff\xff\x7fgarbage', 'latin1')],
    ['a reserved packet type', Buffer.from([0xf0, 0x00])],
    ['a PUBLISH before CONNECT', Buffer.from([0x30, 0x05, 0x00, 0x01, 0x61, 0x62, 0x63])],
    ['a packet larger than the hard limit', Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f])],
  ];
  for (const [name, bytes] of rawCases) {
    test(`a raw socket sending ${name} is closed, others keep working`, async () => {
      const socket = net.connect(server.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(bytes);
      socket.resume();
      socket.on('error', () => {});
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        socket.destroy();
      }, 5000);
      await once(socket, 'close');
      clearTimeout(timer);
      assert.equal(timedOut, false, 'the broker must close the connection');
      await watcherStillReceives();
    });
  }
});
