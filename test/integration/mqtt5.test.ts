/**
 * MQTT 5 against a real broker with real v5 clients (raw packets where the exact reason code matters, or
 * where MQTT.js would refuse to misbehave): CONNACK properties, reason codes on every acknowledgement,
 * server DISCONNECT reasons, session expiry, both sides' limits.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type {
  IConnackPacket,
  IDisconnectPacket,
  IPubackPacket,
  IPubcompPacket,
  IPubrecPacket,
  IPublishPacket,
  ISubackPacket,
  IUnsubackPacket,
} from 'mqtt-packet';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { RawMqtt5Client } from '../helpers/raw-mqtt5.js';

/** The packet of the next `connect` or `disconnect` event of an MQTT.js client. */
function firstPacket<T = unknown>(client: MqttClient, event: 'connect' | 'disconnect'): Promise<T> {
  return new Promise((resolve) => client.once(event, (packet: unknown) => resolve(packet as T)));
}

let idCounter = 0;
const uniqueId = (name: string): string => `${name}-${process.pid}-${++idCounter}`;
const MESSAGE_SIZE = 1024;

describe('MQTT 5', () => {
  let server: TestBroker;
  let publisher: TestClient;
  let key: string;
  let readOnly: string;
  before(async () => {
    server = await startTestBroker({
      limits: { messageSize: MESSAGE_SIZE },
      sessions: { expiryMs: 60_000 },
      mqtt5: { receiveMaximum: 3, topicAliasMaximum: 5 },
    });
    publisher = await connectClient(server.port);
    key = await keygen(publisher, server.secret, 'v5/#/', 'rwslp');
    readOnly = await keygen(publisher, server.secret, 'v5/#/', 'r');
  });
  after(async () => {
    await publisher.end();
    await server.close();
  });

  test('CONNACK: assigned client id, our limits, availability flags, capped session expiry', async () => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${server.port}`, {
      protocolVersion: 5,
      clientId: '',
      reconnectPeriod: 0,
      connectTimeout: 5000,
      properties: { sessionExpiryInterval: 0xffffffff },
    });
    const connack = await firstPacket<IConnackPacket>(client, 'connect');
    client.end(true);
    const p = connack.properties ?? {};
    assert.equal(connack.reasonCode, 0);
    assert.match(p.assignedClientIdentifier ?? '', /^auto-[0-9a-f]{24}$/);
    assert.equal(p.receiveMaximum, 3);
    assert.equal(p.maximumPacketSize, MESSAGE_SIZE + 3, 'a packet whose remaining length is messageSize');
    assert.equal(p.topicAliasMaximum, 5);
    assert.equal(p.sessionExpiryInterval, 60, 'the configured maximum applies and is said');
    assert.equal(p.retainAvailable, true);
    assert.equal(p.wildcardSubscriptionAvailable, true);
    assert.equal(p.serverKeepAlive, undefined, 'the client keep alive is not overridden');
  });

  test('SUBACK and UNSUBACK carry a reason code per filter; the Emitter error still follows', async () => {
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('sub') });
    client.send({
      cmd: 'subscribe',
      messageId: 3,
      subscriptions: [
        { topic: `${key}/v5/ok/`, qos: 1 },
        { topic: `not-a-key/v5/ok/`, qos: 0 },
      ],
    });
    const suback = (await client.expect('suback')) as ISubackPacket;
    assert.deepEqual(suback.granted, [1, 0x87]);
    assert.match(suback.properties?.reasonString ?? '', /not authorized/);
    const error = (await client.expect('publish')) as IPublishPacket;
    assert.equal(error.topic, 'emitter/error/');
    assert.equal(JSON.parse(error.payload.toString()).status, 401);

    client.send({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: [`${key}/v5/ok/`, `${key}/v5/never/`] });
    const unsuback = (await client.expect('unsuback')) as IUnsubackPacket;
    assert.deepEqual(unsuback.granted, [0x00, 0x11]);
    client.close();
  });

  test('PUBACK says 0x87 with the Emitter text for a key without write; the error is on emitter/error/ too', async () => {
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('pub') });
    client.send({
      cmd: 'publish',
      topic: `${readOnly}/v5/x/`,
      payload: Buffer.from('no'),
      qos: 1,
      messageId: 9,
      retain: false,
      dup: false,
    });
    const puback = (await client.expect('puback')) as IPubackPacket;
    assert.equal(puback.messageId, 9);
    assert.equal(puback.reasonCode, 0x87);
    assert.match(puback.properties?.reasonString ?? '', /not authorized/);
    const error = (await client.expect('publish')) as IPublishPacket;
    assert.deepEqual(JSON.parse(error.payload.toString()), {
      req: 9,
      status: 401,
      message: puback.properties?.reasonString,
    });
    // MQTT.js reports the refusal as an error of the publish.
    const js = mqtt.connect(`mqtt://127.0.0.1:${server.port}`, { protocolVersion: 5, reconnectPeriod: 0 });
    await firstPacket(js, 'connect');
    await assert.rejects(
      js.publishAsync(`${readOnly}/v5/x/`, 'no', { qos: 1 }),
      (error: Error & { code?: number }) => error.code === 0x87,
    );
    js.end(true);
    client.close();
  });

  test('a refused QoS 2 PUBLISH gets PUBREC 0x87 and the exchange ends there (PUBREL -> PUBCOMP 0x92)', async () => {
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('qos2') });
    const publish = (topic: string, messageId: number): void =>
      client.send({
        cmd: 'publish',
        topic,
        payload: Buffer.from('q2'),
        qos: 2,
        messageId,
        retain: false,
        dup: false,
      });
    publish(`${readOnly}/v5/q2/`, 11);
    const refused = (await client.expect('pubrec')) as IPubrecPacket;
    assert.equal(refused.messageId, 11);
    assert.equal(refused.reasonCode, 0x87);
    client.send({ cmd: 'pubrel', messageId: 11 });
    assert.equal(((await client.expect('pubcomp')) as IPubcompPacket).reasonCode, 0x92);
    publish(`${key}/v5/q2/`, 12);
    const accepted = (await client.expect('pubrec')) as IPubrecPacket;
    assert.equal(accepted.reasonCode ?? 0, 0);
    client.send({ cmd: 'pubrel', messageId: 12 });
    assert.equal(((await client.expect('pubcomp')) as IPubcompPacket).reasonCode ?? 0, 0);
    client.close();
  });

  test('session expiry: kept while away for its interval, gone at 0; Clean Start discards it', async () => {
    const clientId = uniqueId('expiry');
    const first = await RawMqtt5Client.connect(server.port, {
      clientId,
      properties: { sessionExpiryInterval: 30 },
    });
    assert.equal(first.connack.sessionPresent, false);
    first.client.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: `${key}/v5/away/`, qos: 1 }],
    });
    await first.client.expect('suback');
    first.client.close();
    await first.client.closedByBroker();
    await publisher.mqtt.publishAsync(`${key}/v5/away/`, 'while away', { qos: 1 });

    const second = await RawMqtt5Client.connect(server.port, {
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: 0 },
    });
    assert.equal(second.connack.sessionPresent, true);
    const queued = (await second.client.expect('publish')) as IPublishPacket;
    assert.equal(queued.payload.toString(), 'while away');
    second.client.close();
    await second.client.closedByBroker();

    // Expiry 0 on the last connection: the session ended with it.
    const third = await RawMqtt5Client.connect(server.port, { clientId, clean: false });
    assert.equal(third.connack.sessionPresent, false);
    third.client.close();
  });

  test('a second connection with the client id: the first gets DISCONNECT 0x8E', async () => {
    const clientId = uniqueId('takeover');
    const first = await RawMqtt5Client.connect(server.port, { clientId });
    const second = await RawMqtt5Client.connect(server.port, { clientId });
    const disconnect = (await first.client.expect('disconnect')) as IDisconnectPacket;
    assert.equal(disconnect.reasonCode, 0x8e);
    await first.client.closedByBroker();
    second.client.close();
  });

  test('keep alive exceeded: DISCONNECT 0x8D, then the close', async () => {
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('ka'), keepalive: 1 });
    const disconnect = (await client.expect('disconnect', 5000)) as IDisconnectPacket;
    assert.equal(disconnect.reasonCode, 0x8d);
    await client.closedByBroker();
  });

  test('a PUBLISH above our Maximum Packet Size: the Emitter 413, then DISCONNECT 0x95', async () => {
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('big') });
    client.send({
      cmd: 'publish',
      topic: `${key}/v5/big/`,
      payload: Buffer.alloc(MESSAGE_SIZE + 10),
      qos: 0,
      retain: false,
      dup: false,
    });
    const error = (await client.expect('publish')) as IPublishPacket;
    assert.equal(JSON.parse(error.payload.toString()).status, 413);
    const disconnect = (await client.expect('disconnect')) as IDisconnectPacket;
    assert.equal(disconnect.reasonCode, 0x95);
    await client.closedByBroker();
  });

  test('more unacknowledged QoS 2 publishes than our Receive Maximum: DISCONNECT 0x93', async () => {
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('rm') });
    for (let id = 1; id <= 4; id++) {
      client.send({
        cmd: 'publish',
        topic: `${key}/v5/rm/`,
        payload: Buffer.from(`m${id}`),
        qos: 2,
        messageId: id,
        retain: false,
        dup: false,
      });
    }
    const disconnect = (await client.expect('disconnect')) as IDisconnectPacket;
    assert.equal(disconnect.reasonCode, 0x93);
    assert.equal(client.packets.filter((p) => p.cmd === 'pubrec').length, 3, 'the first three were taken');
    await client.closedByBroker();
  });

  test('topic aliases: set and used within our maximum; above it DISCONNECT 0x94', async () => {
    const subscriber = await connectClient(server.port);
    await subscriber.mqtt.subscribeAsync(`${key}/v5/alias/`);
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('alias') });
    client.send({
      cmd: 'publish',
      topic: `${key}/v5/alias/`,
      payload: Buffer.from('one'),
      qos: 0,
      retain: false,
      dup: false,
      properties: { topicAlias: 5 },
    });
    client.send({
      cmd: 'publish',
      topic: '',
      payload: Buffer.from('two'),
      qos: 0,
      retain: false,
      dup: false,
      properties: { topicAlias: 5 },
    });
    assert.equal((await subscriber.next((m) => m.topic === 'v5/alias/')).payload.toString(), 'one');
    assert.equal((await subscriber.next((m) => m.topic === 'v5/alias/')).payload.toString(), 'two');
    client.send({
      cmd: 'publish',
      topic: `${key}/v5/alias/`,
      payload: Buffer.from('x'),
      qos: 0,
      retain: false,
      dup: false,
      properties: { topicAlias: 6 },
    });
    const disconnect = (await client.expect('disconnect')) as IDisconnectPacket;
    assert.equal(disconnect.reasonCode, 0x94);
    await client.closedByBroker();
    await subscriber.end();
  });

  test('server-to-client topic aliases when the client allows them: set once, then the alias alone', async () => {
    const { client } = await RawMqtt5Client.connect(server.port, {
      clientId: uniqueId('outalias'),
      properties: { topicAliasMaximum: 2 },
    });
    client.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [
        { topic: `${key}/v5/out/a/`, qos: 0 },
        { topic: `${key}/v5/out/b/`, qos: 1 },
        { topic: `${key}/v5/out/c/`, qos: 0 },
      ],
    });
    await client.expect('suback');
    const sent = ['a', 'a', 'b', 'b', 'c'];
    for (const channel of sent)
      await publisher.mqtt.publishAsync(`${key}/v5/out/${channel}/`, channel, { qos: 1 });
    const seen: Array<[string, number | undefined, string]> = [];
    for (let i = 0; i < sent.length; i++) {
      const p = (await client.expect('publish')) as IPublishPacket;
      if (p.qos === 1) client.send({ cmd: 'puback', messageId: p.messageId });
      seen.push([p.topic, p.properties?.topicAlias, p.payload.toString()]);
    }
    assert.deepEqual(seen, [
      ['v5/out/a/', 1, 'a'],
      ['', 1, 'a'],
      ['v5/out/b/', 2, 'b'],
      ['', 2, 'b'],
      ['v5/out/c/', undefined, 'c'],
    ]);
    client.close();
    // MQTT.js resolves them back to topics.
    const js = await connectClient(server.port, { protocolVersion: 5, properties: { topicAliasMaximum: 4 } });
    await js.mqtt.subscribeAsync(`${key}/v5/out/a/`);
    for (let i = 0; i < 3; i++) await publisher.mqtt.publishAsync(`${key}/v5/out/a/`, `js${i}`, { qos: 1 });
    for (let i = 0; i < 3; i++) assert.equal((await js.next()).topic, 'v5/out/a/');
    await js.end();
  });

  test("the client's Receive Maximum caps our QoS 1 deliveries in flight", async () => {
    const { client } = await RawMqtt5Client.connect(server.port, {
      clientId: uniqueId('window'),
      properties: { receiveMaximum: 1 },
    });
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${key}/v5/window/`, qos: 1 }] });
    await client.expect('suback');
    for (const n of [1, 2, 3]) await publisher.mqtt.publishAsync(`${key}/v5/window/`, `w${n}`, { qos: 1 });
    // Everything the broker wrote for those publishes arrives before the answer to a later PINGREQ.
    client.send({ cmd: 'pingreq' });
    await client.expect('pingresp');
    const first = (await client.expect('publish')) as IPublishPacket;
    assert.equal(first.payload.toString(), 'w1');
    assert.equal(client.packets.filter((p) => p.cmd === 'publish').length, 0, 'one in flight only');
    client.send({ cmd: 'puback', messageId: first.messageId });
    const second = (await client.expect('publish')) as IPublishPacket;
    assert.equal(second.payload.toString(), 'w2');
    client.close();
  });

  test("a delivery above the client's Maximum Packet Size is not sent; smaller ones are", async () => {
    const { client } = await RawMqtt5Client.connect(server.port, {
      clientId: uniqueId('small'),
      properties: { maximumPacketSize: 200 },
    });
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${key}/v5/small/`, qos: 1 }] });
    await client.expect('suback');
    await publisher.mqtt.publishAsync(`${key}/v5/small/`, Buffer.alloc(500, 1), { qos: 1 });
    await publisher.mqtt.publishAsync(`${key}/v5/small/`, 'fits', { qos: 1 });
    const delivered = (await client.expect('publish')) as IPublishPacket;
    assert.equal(delivered.payload.toString(), 'fits');
    client.close();
  });

  test('DISCONNECT 0x04 keeps the will; a normal DISCONNECT discards it', async () => {
    const subscriber = await connectClient(server.port);
    await subscriber.mqtt.subscribeAsync(`${key}/v5/will/`);
    for (const [reasonCode, payload] of [
      [0, 'discarded'],
      [4, 'kept'],
    ] as const) {
      const { client } = await RawMqtt5Client.connect(server.port, {
        clientId: uniqueId('will'),
        will: { topic: `${key}/v5/will/`, payload: Buffer.from(payload), qos: 0, retain: false },
      });
      client.send({ cmd: 'disconnect', reasonCode });
      await client.closedByBroker();
    }
    assert.equal((await subscriber.next((m) => m.topic === 'v5/will/')).payload.toString(), 'kept');
    assert.deepEqual(
      subscriber.received.filter((m) => m.payload.toString() === 'discarded'),
      [],
    );
    await subscriber.end();
  });
});

describe('MQTT 5 PUBLISH properties', () => {
  let server: TestBroker;
  let helper: TestClient;
  let key: string;
  before(async () => {
    server = await startTestBroker({ sessions: { expiryMs: 60_000 } });
    helper = await connectClient(server.port);
    key = await keygen(helper, server.secret, 'props/#/', 'rwslp');
  });
  after(async () => {
    await helper.end();
    await server.close();
  });

  test('carried end to end to a v5 subscriber; a 3.1.1 subscriber of the same channel gets the plain message', async () => {
    const v5 = mqtt.connect(`mqtt://127.0.0.1:${server.port}`, { protocolVersion: 5, reconnectPeriod: 0 });
    await firstPacket(v5, 'connect');
    const v4 = await connectClient(server.port);
    const got5 = new Promise<IPublishPacket>((resolve) =>
      v5.on('message', (_topic, _payload, packet) => resolve(packet as IPublishPacket)),
    );
    await v5.subscribeAsync(`${key}/props/all/`, { qos: 1 });
    await v4.mqtt.subscribeAsync(`${key}/props/all/`);
    const properties = {
      payloadFormatIndicator: true,
      messageExpiryInterval: 60,
      contentType: 'text/plain; charset=utf-8',
      responseTopic: `${key}/props/reply/`,
      correlationData: Buffer.from([1, 2, 3, 0xff]),
      userProperties: { first: ['1', '2'], second: 'x' },
    };
    await v5.publishAsync(`${key}/props/all/`, 'héllo', { qos: 1, properties });
    const packet = await got5;
    assert.equal(packet.payload.toString(), 'héllo');
    const p = packet.properties ?? {};
    assert.equal(p.payloadFormatIndicator, true);
    assert.equal(p.contentType, properties.contentType);
    assert.equal(p.responseTopic, properties.responseTopic);
    assert.deepEqual(p.correlationData, properties.correlationData);
    assert.deepEqual({ ...p.userProperties }, properties.userProperties, 'repeated names kept, in order');
    assert.ok(p.messageExpiryInterval !== undefined && p.messageExpiryInterval <= 60);
    assert.equal(p.topicAlias, undefined);
    const plain = await v4.next((m) => m.topic === 'props/all/');
    assert.equal(plain.payload.toString(), 'héllo');
    v5.end(true);
    await v4.end();
  });

  test('an expired queued message is not delivered; a later one carries what is left of its interval', async () => {
    const clientId = uniqueId('expire');
    const first = await RawMqtt5Client.connect(server.port, {
      clientId,
      properties: { sessionExpiryInterval: 60 },
    });
    first.client.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: `${key}/props/q/`, qos: 1 }],
    });
    await first.client.expect('suback');
    first.client.close();
    await first.client.closedByBroker();
    const publisher = mqtt.connect(`mqtt://127.0.0.1:${server.port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    await firstPacket(publisher, 'connect');
    await publisher.publishAsync(`${key}/props/q/`, 'short', {
      qos: 1,
      properties: { messageExpiryInterval: 1 },
    });
    await publisher.publishAsync(`${key}/props/q/`, 'long', {
      qos: 1,
      properties: { messageExpiryInterval: 60 },
    });
    publisher.end(true);
    // Time passing is the point here: past the short message's one-second interval.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const second = await RawMqtt5Client.connect(server.port, { clientId, clean: false });
    assert.equal(second.connack.sessionPresent, true);
    const delivered = (await second.client.expect('publish')) as IPublishPacket;
    assert.equal(delivered.payload.toString(), 'long');
    const left = delivered.properties?.messageExpiryInterval ?? 0;
    assert.ok(left < 60 && left >= 50, `remaining interval sent: ${left}`);
    second.client.close();
  });

  test('a payload that is not the UTF-8 its format indicator says: PUBACK 0x99', async () => {
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('utf8') });
    client.send({
      cmd: 'publish',
      topic: `${key}/props/utf8/`,
      payload: Buffer.from([0xff, 0xfe]),
      qos: 1,
      messageId: 5,
      retain: false,
      dup: false,
      properties: { payloadFormatIndicator: true },
    });
    const puback = (await client.expect('puback')) as IPubackPacket;
    assert.equal(puback.reasonCode, 0x99);
    client.close();
  });

  test('request/response: mosquitto_rr -V 5 gets the answer on its response topic, correlation data kept', async () => {
    const responder = mqtt.connect(`mqtt://127.0.0.1:${server.port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    await firstPacket(responder, 'connect');
    responder.on('message', (_topic, payload, packet) => {
      const p = packet.properties ?? {};
      if (!p.responseTopic) return;
      responder.publish(p.responseTopic, `answer to ${payload.toString()}`, {
        properties: { correlationData: p.correlationData },
      });
    });
    await responder.subscribeAsync(`${key}/props/req/`);
    const rr = spawn(
      'mosquitto_rr',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(server.port),
        '-V',
        '5',
        '-t',
        `${key}/props/req/`,
        '-e',
        `${key}/props/resp/`,
        '-m',
        'ping',
        '-W',
        '10',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    rr.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    rr.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const [code] = (await once(rr, 'exit')) as [number | null];
    responder.end(true);
    assert.equal(code, 0, err);
    assert.equal(out.trim(), 'answer to ping');
  });
});

describe('MQTT 5 SUBSCRIBE options', () => {
  let server: TestBroker;
  let helper: TestClient;
  let key: string;
  before(async () => {
    server = await startTestBroker();
    helper = await connectClient(server.port);
    key = await keygen(helper, server.secret, 'opts/#/', 'rwslp');
  });
  after(async () => {
    await helper.end();
    await server.close();
  });

  test('No Local: a client does not get its own messages back; others do', async () => {
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('nl') });
    client.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: `${key}/opts/nl/`, qos: 0, nl: true }],
    });
    await client.expect('suback');
    client.send({
      cmd: 'publish',
      topic: `${key}/opts/nl/`,
      payload: Buffer.from('mine'),
      qos: 1,
      messageId: 2,
      retain: false,
      dup: false,
    });
    await client.expect('puback');
    await helper.mqtt.publishAsync(`${key}/opts/nl/`, 'theirs', { qos: 1 });
    const delivered = (await client.expect('publish')) as IPublishPacket;
    assert.equal(delivered.payload.toString(), 'theirs');
    client.close();
  });

  test('Retain As Published keeps the RETAIN flag on live deliveries; without it the flag is 0', async () => {
    const rap = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('rap') });
    const plain = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('norap') });
    rap.client.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: `${key}/opts/rap/`, qos: 1, rap: true, rh: 2 }],
    });
    plain.client.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: `${key}/opts/rap/`, qos: 1, rh: 2 }],
    });
    await rap.client.expect('suback');
    await plain.client.expect('suback');
    await helper.mqtt.publishAsync(`${key}/opts/rap/`, 'kept', { qos: 1, retain: true });
    assert.equal(((await rap.client.expect('publish')) as IPublishPacket).retain, true);
    assert.equal(((await plain.client.expect('publish')) as IPublishPacket).retain, false);
    rap.client.close();
    plain.client.close();
  });

  test('Retain Handling: 0 sends the retained message, 1 only for a new subscription, 2 never', async () => {
    await helper.mqtt.publishAsync(`${key}/opts/rh/`, 'retained', { qos: 1, retain: true });
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('rh') });
    const subscribe = (rh: 0 | 1 | 2, messageId: number): void =>
      client.send({ cmd: 'subscribe', messageId, subscriptions: [{ topic: `${key}/opts/rh/`, qos: 0, rh }] });
    // Stored messages a subscribe replays are written before its SUBACK.
    subscribe(2, 1);
    await client.expect('suback');
    assert.equal(client.packets.filter((p) => p.cmd === 'publish').length, 0, 'rh 2: nothing');
    client.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: [`${key}/opts/rh/`] });
    await client.expect('unsuback');
    subscribe(1, 3);
    await client.expect('suback');
    assert.equal(((await client.expect('publish')) as IPublishPacket).payload.toString(), 'retained');
    subscribe(1, 4);
    await client.expect('suback');
    assert.equal(client.packets.filter((p) => p.cmd === 'publish').length, 0, 'rh 1, existing: nothing');
    subscribe(0, 5);
    await client.expect('suback');
    assert.equal(((await client.expect('publish')) as IPublishPacket).payload.toString(), 'retained');
    client.close();
  });

  test('Subscription Identifiers come with the deliveries of their subscription, QoS 0 and 1', async () => {
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('sid') });
    client.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: `${key}/opts/sid/a/`, qos: 0, rh: 2 }],
      properties: { subscriptionIdentifier: 42 },
    });
    client.send({
      cmd: 'subscribe',
      messageId: 2,
      subscriptions: [{ topic: `${key}/opts/sid/b/`, qos: 1, rh: 2 }],
      properties: { subscriptionIdentifier: 43 },
    });
    await client.expect('suback');
    await client.expect('suback');
    await helper.mqtt.publishAsync(`${key}/opts/sid/a/`, 'a', { qos: 1 });
    const a = (await client.expect('publish')) as IPublishPacket;
    await helper.mqtt.publishAsync(`${key}/opts/sid/b/`, 'b', { qos: 1 });
    const b = (await client.expect('publish')) as IPublishPacket;
    assert.equal(a.properties?.subscriptionIdentifier, 42);
    assert.equal(b.properties?.subscriptionIdentifier, 43);
    assert.equal(b.qos, 1);
    client.close();
  });

  test('$share/<group>/<filter>: each message to one member; an Emitter KEY/$share/ member is in the same group', async () => {
    // Emitter's shared subscriptions need a key for the `$share/<group>/` channel.
    const shareKey = await keygen(helper, server.secret, '$share/g1/opts/shared/', 'r');
    const members = await Promise.all([1, 2].map(() => connectClient(server.port, { protocolVersion: 5 })));
    await members[0].mqtt.subscribeAsync(`$share/g1/${shareKey}/opts/shared/`);
    await members[1].mqtt.subscribeAsync(`${shareKey}/$share/g1/opts/shared/`);
    for (let i = 0; i < 20; i++) await helper.mqtt.publishAsync(`${key}/opts/shared/`, `m${i}`, { qos: 1 });
    // Everything sent for those publishes arrives before the answer to a later request of each member.
    for (const member of members) await keygen(member, server.secret, 'opts/barrier/', 'r');
    const got = members.flatMap((m) => m.received.filter((x) => x.topic === 'opts/shared/'));
    assert.deepEqual(
      got.map((m) => m.payload.toString()).sort(),
      Array.from({ length: 20 }, (_, i) => `m${i}`).sort(),
      'each message once',
    );
    for (const member of members) await member.end();
  });
});

describe('MQTT 5 will', () => {
  let server: TestBroker;
  let subscriber: TestClient;
  let key: string;
  before(async () => {
    server = await startTestBroker({ sessions: { expiryMs: 60_000 } });
    subscriber = await connectClient(server.port, { protocolVersion: 5 });
    key = await keygen(subscriber, server.secret, 'will/#/', 'rwslp');
    await subscriber.mqtt.subscribeAsync(`${key}/will/`);
  });
  after(async () => {
    await subscriber.end();
    await server.close();
  });

  const willOf = (payload: string, delay: number) => ({
    topic: `${key}/will/`,
    payload: Buffer.from(payload),
    qos: 0 as const,
    retain: false,
    properties: { willDelayInterval: delay, contentType: 'text/plain', userProperties: { why: 'gone' } },
  });

  test('a will waits for its delay and is cancelled when the session resumes within it', async () => {
    const clientId = uniqueId('delay');
    const first = await RawMqtt5Client.connect(server.port, {
      clientId,
      properties: { sessionExpiryInterval: 60 },
      will: willOf('cancelled', 1),
    });
    first.client.close();
    await first.client.closedByBroker();
    const second = await RawMqtt5Client.connect(server.port, {
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      will: willOf('delayed', 1),
    });
    assert.equal(second.connack.sessionPresent, true);
    // Time passing is the point: past the first will's delay, which must not fire.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    second.client.close();
    const will = await subscriber.next((m) => m.topic === 'will/', 5000);
    assert.equal(will.payload.toString(), 'delayed', 'the cancelled will never came');
  });

  test('a session that ends before the delay publishes its will then, with its properties', async () => {
    const properties = new Promise<IPublishPacket>((resolve) =>
      subscriber.mqtt.once('message', (_topic, _payload, packet) => resolve(packet as IPublishPacket)),
    );
    const { client } = await RawMqtt5Client.connect(server.port, {
      clientId: uniqueId('ends'),
      will: willOf('at session end', 600),
    });
    client.close();
    const packet = await properties;
    assert.equal(packet.payload.toString(), 'at session end');
    assert.equal(packet.properties?.contentType, 'text/plain');
    assert.deepEqual({ ...packet.properties?.userProperties }, { why: 'gone' });
    assert.equal((packet.properties as Record<string, unknown>).willDelayInterval, undefined);
  });
});

describe('MQTT 5 server settings', () => {
  test("Server Keep Alive overrides the client's; shutting down sends DISCONNECT 0x8B", async () => {
    const server = await startTestBroker({ mqtt5: { serverKeepAlive: 20 } });
    const client = mqtt.connect(`mqtt://127.0.0.1:${server.port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      keepalive: 60,
    });
    const connack = await firstPacket<IConnackPacket>(client, 'connect');
    assert.equal(connack.properties?.serverKeepAlive, 20);
    const disconnected = firstPacket<IDisconnectPacket>(client, 'disconnect');
    await server.close();
    const packet = await disconnected;
    assert.equal(packet.reasonCode, 0x8b);
    client.end(true);
  });
});
