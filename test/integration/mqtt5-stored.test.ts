/**
 * MQTT 5 PUBLISH properties of stored messages, with every storage provider and real v5 clients: a
 * message stored with `?ttl=` or retained comes back on replay (`last=N`, the retained replay of a
 * subscribe) with the properties it was published with, its Message Expiry Interval reduced by the time
 * it spent stored [MQTT-3.3.2-6], and not at all once that interval has passed [MQTT-3.3.2-5].
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { IPublishPacket } from 'mqtt-packet';
import { generateLicense } from '../../src/security/index.js';
import { createSessionStore, createStorage, type Storage } from '../../src/storage/index.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { RawMqtt5Client } from '../helpers/raw-mqtt5.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const PROPERTIES = {
  payloadFormatIndicator: true,
  messageExpiryInterval: 600,
  contentType: 'application/json',
  responseTopic: 'reply/here/',
  correlationData: Buffer.from([0, 1, 0xfe, 0xff]),
  userProperties: { b: ['2', '1'], a: 'x', c: ['first', 'second', 'first'] },
};

/** A v5 MQTT.js client that collects every PUBLISH it gets (packet included). */
async function v5Client(port: number): Promise<{ client: MqttClient; packets: IPublishPacket[] }> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  const packets: IPublishPacket[] = [];
  client.on('message', (_topic, _payload, packet) => packets.push(packet));
  await within(
    new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    }),
    5000,
    'CONNACK',
  );
  return { client, packets };
}

function assertSameProperties(got: IPublishPacket['properties'], maxExpiry: number): void {
  const p = got ?? {};
  assert.equal(p.payloadFormatIndicator, true);
  assert.equal(p.contentType, PROPERTIES.contentType);
  assert.equal(p.responseTopic, PROPERTIES.responseTopic);
  assert.deepEqual(p.correlationData, PROPERTIES.correlationData);
  // Names in order, repeated names with their values in order.
  assert.deepEqual(Object.entries(p.userProperties ?? {}), Object.entries(PROPERTIES.userProperties));
  assert.ok(
    p.messageExpiryInterval !== undefined && p.messageExpiryInterval <= maxExpiry,
    `expiry ${p.messageExpiryInterval}`,
  );
}

/** `promise`, or a rejection saying what did not happen within `ms`: every network wait is bounded. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Time passing is what these tests check (an expiry interval counted while stored): a real wait.
const elapse = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let redis: RedisServer | undefined;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

for (const provider of ['inmemory', 'ssd', 'redis'] as const) {
  describe(`MQTT 5 properties of stored messages (${provider})`, () => {
    let server: TestBroker;
    let helper: TestClient;
    let key: string;
    before(async () => {
      let storage: Storage;
      if (provider === 'ssd')
        storage = createStorage('ssd', { dir: mkdtempSync(join(tmpdir(), 'emitter-v5st-')) });
      else if (provider === 'redis')
        storage = createStorage('redis', {
          url: redis!.url,
          prefix: `v5st:${randomBytes(4).toString('hex')}:`,
        });
      else storage = createStorage('inmemory');
      server = await startTestBroker({ storage });
      helper = await connectClient(server.port);
      key = await keygen(helper, server.secret, 'st/#/', 'rwslp');
    });
    after(async () => {
      await helper.end();
      await server.close();
    });

    test('?ttl= messages replay with their properties (last=N) to a v5 subscriber; 3.1.1 gets the payload', async () => {
      const publisher = await v5Client(server.port);
      await publisher.client.publishAsync(`${key}/st/ttl/?ttl=60`, 'one', { qos: 1, properties: PROPERTIES });
      await publisher.client.publishAsync(`${key}/st/ttl/?ttl=60`, 'two', { qos: 1 });
      publisher.client.end(true);

      const subscriber = await v5Client(server.port);
      // Stored messages a subscribe replays are written before its SUBACK.
      await subscriber.client.subscribeAsync(`${key}/st/ttl/?last=2`, { qos: 1 });
      assert.deepEqual(
        subscriber.packets.map((p) => p.payload.toString()),
        ['one', 'two'],
      );
      assertSameProperties(subscriber.packets[0].properties, 600);
      assert.equal(subscriber.packets[1].properties?.contentType, undefined);
      assert.equal(subscriber.packets[1].properties?.userProperties, undefined);
      subscriber.client.end(true);

      const plain = await connectClient(server.port);
      await plain.mqtt.subscribeAsync(`${key}/st/ttl/?last=2`);
      assert.equal((await plain.next()).payload.toString(), 'one');
      await plain.end();
    });

    test('a retained message replays with its properties (and the subscription identifier), its expiry interval reduced by the time stored; an expired one not at all', async () => {
      const publisher = await v5Client(server.port);
      await publisher.client.publishAsync(`${key}/st/kept/`, 'kept', {
        qos: 1,
        retain: true,
        properties: { ...PROPERTIES, messageExpiryInterval: 30 },
      });
      await publisher.client.publishAsync(`${key}/st/gone/`, 'gone', {
        qos: 1,
        retain: true,
        properties: { messageExpiryInterval: 1 },
      });
      publisher.client.end(true);
      await elapse(1300);

      const subscriber = await v5Client(server.port);
      await subscriber.client.subscribeAsync(`${key}/st/kept/`, {
        qos: 0,
        properties: { subscriptionIdentifier: 5 },
      });
      await subscriber.client.subscribeAsync(`${key}/st/gone/`, { qos: 1 });
      assert.deepEqual(
        subscriber.packets.map((p) => p.payload.toString()),
        ['kept'],
        'the message past its interval is not delivered',
      );
      assertSameProperties(subscriber.packets[0].properties, 29);
      assert.ok((subscriber.packets[0].properties?.messageExpiryInterval ?? 0) >= 20);
      assert.equal(
        subscriber.packets[0].properties?.subscriptionIdentifier,
        5,
        'the Subscription Identifier of the subscription that replayed it [MQTT-3.3.4-3]',
      );
      subscriber.client.end(true);
    });
  });
}

describe('MQTT 5 properties of stored messages with mosquitto_pub/mosquitto_sub -V 5', () => {
  let server: TestBroker;
  let helper: TestClient;
  let key: string;
  before(async () => {
    server = await startTestBroker({
      storage: createStorage('ssd', { dir: mkdtempSync(join(tmpdir(), 'emitter-v5mq-')) }),
    });
    helper = await connectClient(server.port);
    key = await keygen(helper, server.secret, 'mq/#/', 'rwslp');
  });
  after(async () => {
    await helper.end();
    await server.close();
  });

  test('-D publish properties of a retained message come back to mosquitto_sub -V 5', async () => {
    const pub = spawn('mosquitto_pub', [
      ...['-V', '5', '-h', '127.0.0.1', '-p', String(server.port), '-q', '1', '-r'],
      ...['-t', `${key}/mq/r/`, '-m', 'hello'],
      ...['-D', 'publish', 'content-type', 'text/plain'],
      ...['-D', 'publish', 'response-topic', 'answer/'],
      ...['-D', 'publish', 'correlation-data', 'c0ffee'],
      ...['-D', 'publish', 'user-property', 'k', 'v1'],
      ...['-D', 'publish', 'user-property', 'k', 'v2'],
      ...['-D', 'publish', 'message-expiry-interval', '300'],
    ]);
    const [code] = (await within(once(pub, 'exit'), 10000, 'mosquitto_pub exit')) as [number];
    assert.equal(code, 0);
    const sub = spawn('mosquitto_sub', [
      ...['-V', '5', '-h', '127.0.0.1', '-p', String(server.port), '-C', '1', '-W', '5'],
      ...['-t', `${key}/mq/r/`, '-F', '%C|%R|%D|%P|%E|%p'],
    ]);
    let out = '';
    sub.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [subCode] = (await within(once(sub, 'exit'), 10000, 'mosquitto_sub exit')) as [number];
    assert.equal(subCode, 0, `mosquitto_sub: ${out}`);
    const [contentType, responseTopic, correlation, users, expiry, payload] = out.trim().split('|');
    assert.equal(contentType, 'text/plain');
    assert.equal(responseTopic, 'answer/');
    assert.equal(correlation, 'c0ffee');
    assert.equal(users, 'k:v1 k:v2');
    assert.ok(Number(expiry) > 0 && Number(expiry) <= 300, `expiry ${expiry}`);
    assert.equal(payload, 'hello');
  });
});

describe("MQTT 5 properties of a persistent session's queue across a broker restart (ssd sessions)", () => {
  test('a queued message keeps its properties; its expiry interval counts the time queued and down; an expired one is dropped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emitter-v5q-'));
    const { license } = generateLicense();
    const settings = { expiryMs: 60_000 };
    const first = await startTestBroker({
      license,
      sessions: { ...settings, store: createSessionStore('ssd', {}, { dir }) },
    });
    const helper = await connectClient(first.port);
    const key = await keygen(helper, first.secret, 'q/#/', 'rw');
    await helper.end();
    const clientId = `v5q-${process.pid}`;
    const away = await RawMqtt5Client.connect(first.port, {
      clientId,
      properties: { sessionExpiryInterval: 60 },
    });
    away.client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${key}/q/`, qos: 1 }] });
    await away.client.expect('suback');
    away.client.close();
    await away.client.closedByBroker();

    const publisher = await v5Client(first.port);
    // A QoS 1 PUBACK waits for the queued copies to be in the session store.
    await publisher.client.publishAsync(`${key}/q/`, 'short', {
      qos: 1,
      properties: { messageExpiryInterval: 1 },
    });
    await publisher.client.publishAsync(`${key}/q/`, 'long', {
      qos: 1,
      properties: { ...PROPERTIES, messageExpiryInterval: 30 },
    });
    publisher.client.end(true);
    await first.close();
    await elapse(1300);

    const second = await startTestBroker({
      license,
      sessions: { ...settings, store: createSessionStore('ssd', {}, { dir }) },
    });
    try {
      const back = await RawMqtt5Client.connect(second.port, { clientId, clean: false });
      assert.equal(back.connack.sessionPresent, true);
      const delivered = (await back.client.expect('publish')) as IPublishPacket;
      assert.equal(delivered.payload.toString(), 'long', 'the message past its interval is dropped');
      assertSameProperties(delivered.properties, 29);
      assert.ok((delivered.properties?.messageExpiryInterval ?? 0) >= 20);
      back.client.close();
    } finally {
      await second.close();
    }
  });
});
