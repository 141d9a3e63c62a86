/**
 * Connections of plain MQTT clients (MQTT 3.1.1 and 5 sections 3.1, 3.2, 3.12, 3.14, 4.1): CONNECT and
 * CONNACK with authentication, clean session / session present, wills, keep-alive and PINGREQ.
 */

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import mqttPacket, { type IConnackPacket } from 'mqtt-packet';
import type { TestBroker } from '../../helpers/broker.js';
import { RawMqttClient } from '../../helpers/raw-mqtt.js';
import { RawMqtt5Client } from '../../helpers/raw-mqtt5.js';
import {
  connectPlain,
  expectNothingBefore,
  publish,
  startPlainBroker,
  subscribe,
  uniqueTopic,
  type PlainClient,
} from './harness.js';

// A raw 3.1.1 CONNECT with a password, and the CONNACK (or the close) it gets.
async function connectWithPassword(
  port: number,
  password: string,
): Promise<{ returnCode: number; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const connack = new Promise<IConnackPacket>((resolve, reject) => {
    parser.on('packet', (packet) => {
      if (packet.cmd === 'connack') resolve(packet);
    });
    socket.once('close', () => reject(new Error('closed before CONNACK')));
  });
  socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  socket.write(
    mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: uniqueTopic('pw'),
      clean: true,
      keepalive: 0,
      username: 'device',
      password: Buffer.from(password),
    }),
  );
  const packet = await connack;
  return { returnCode: packet.returnCode ?? -1, closed };
}

describe('plain MQTT conformance: connections', () => {
  let server: TestBroker;
  let publisher: PlainClient;
  before(async () => {
    server = await startPlainBroker({ keyPassword: true });
    publisher = await connectPlain(server.port);
  });
  after(async () => {
    await publisher.end();
    await server.close();
  });

  test('[MQTT-3.2.2-5] (3.1.1) a client that is not authorised gets CONNACK return code 5, then the connection is closed', async () => {
    const { returnCode, closed } = await connectWithPassword(server.port, 'not-a-channel-key');
    assert.equal(returnCode, 5);
    await closed;
  });

  test('[MQTT-3.2.2-7] (5) a client that is not authorised gets CONNACK reason 0x87, then the connection is closed', async () => {
    const { client, connack } = await RawMqtt5Client.connect(server.port, {
      clientId: uniqueTopic('v5-refused'),
      username: 'device',
      password: Buffer.from('not-a-channel-key'),
    });
    assert.equal(connack.reasonCode, 0x87);
    await client.closedByBroker();
  });

  test('an anonymous client (no password) is accepted with return code 0', async () => {
    const { client, returnCode } = await RawMqttClient.connect(server.port, uniqueTopic('anon'));
    assert.equal(returnCode, 0);
    client.disconnect();
  });

  test('[MQTT-3.1.0-1] a first packet other than CONNECT closes the connection', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 0 }] }),
    );
    await closed;
  });

  test('[MQTT-3.1.0-2] a second CONNECT is a protocol violation: the connection is closed', async () => {
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('twice'));
    client.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: 'again',
      clean: true,
      keepalive: 0,
    });
    await client.closedByBroker();
  });

  test('[MQTT-3.2.2-1] CleanSession=1: Session Present is 0, [MQTT-3.1.2-6] and nothing of an earlier session is kept', async () => {
    const id = uniqueTopic('clean');
    const root = uniqueTopic('clean-topic');
    const first = await RawMqttClient.connect(server.port, id, false);
    await first.client.subscribe(root, 1);
    first.client.disconnect();
    await first.client.closedByBroker();
    const second = await RawMqttClient.connect(server.port, id, true);
    assert.equal(second.sessionPresent, false);
    second.client.disconnect();
    const third = await RawMqttClient.connect(server.port, id, false);
    assert.equal(third.sessionPresent, false, 'the clean connection discarded the stored session');
    third.client.disconnect();
  });

  test('[MQTT-3.2.2-3] CleanSession=0 without a stored session: Session Present 0; [MQTT-3.2.2-2] with one: 1, and [MQTT-3.1.2-4] [MQTT-3.1.2-5] its subscriptions and QoS 1 messages are kept', async () => {
    const id = uniqueTopic('persist');
    const root = uniqueTopic('persist-topic');
    const first = await RawMqttClient.connect(server.port, id, false);
    assert.equal(first.sessionPresent, false);
    await first.client.subscribe(root, 1);
    first.client.disconnect();
    await first.client.closedByBroker();
    await publish(publisher, root, 'while away', { qos: 1 });
    const second = await RawMqttClient.connect(server.port, id, false);
    try {
      assert.equal(second.sessionPresent, true);
      const queued = await second.client.publish();
      assert.deepEqual([queued.topic, queued.payload.toString(), queued.qos], [root, 'while away', 1]);
      second.client.send({ cmd: 'puback', messageId: queued.messageId });
      await publish(publisher, root, 'live', { qos: 1 });
      assert.equal(
        (await second.client.publish()).payload.toString(),
        'live',
        'the subscription is still there',
      );
    } finally {
      second.client.disconnect();
      const cleanup = await RawMqttClient.connect(server.port, id, true);
      cleanup.client.disconnect();
    }
  });

  test('[MQTT-3.1.3-6] [MQTT-3.1.3-7] (3.1.1) an empty client id with CleanSession=1 is accepted', async () => {
    const { client, returnCode } = await RawMqttClient.connect(server.port, '', true);
    assert.equal(returnCode, 0);
    client.disconnect();
  });

  test('[MQTT-3.1.3-8] (3.1.1) an empty client id with CleanSession=0 gets return code 2, then the connection is closed', async () => {
    const { client, returnCode } = await RawMqttClient.connect(server.port, '', false);
    assert.equal(returnCode, 2);
    await client.closedByBroker();
  });

  test('[MQTT-3.1.2-8] the will is published when the connection is lost', async () => {
    const root = uniqueTopic('will');
    const watcher = await connectPlain(server.port);
    try {
      await subscribe(watcher, root, { qos: 1 });
      const dying = await connectPlain(server.port, {
        will: { topic: root, payload: Buffer.from('gone'), qos: 1, retain: false },
      });
      dying.client.stream.destroy();
      const will = await watcher.next();
      assert.deepEqual([will.topic, will.text], [root, 'gone']);
      await dying.end().catch(() => undefined);
    } finally {
      await watcher.end();
    }
  });

  test('[MQTT-3.1.2-10] [MQTT-3.14.4-3] after DISCONNECT the will is discarded, not published', async () => {
    const root = uniqueTopic('will-off');
    const watcher = await connectPlain(server.port);
    try {
      await subscribe(watcher, root, { qos: 1 });
      const leaving = await connectPlain(server.port, {
        will: { topic: root, payload: Buffer.from('no'), qos: 1, retain: false },
      });
      await leaving.end();
      await expectNothingBefore(watcher, publisher, root, 'no will after a clean DISCONNECT');
    } finally {
      await watcher.end();
    }
  });

  test('[MQTT-3.1.2-17] a will with Will Retain=1 is published as a retained message', async () => {
    const root = uniqueTopic('will-retain');
    const dying = await connectPlain(server.port, {
      will: { topic: root, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    const watcher = await connectPlain(server.port);
    try {
      await subscribe(watcher, root, { qos: 1 });
      dying.client.stream.destroy();
      assert.equal((await watcher.next()).text, 'offline');
      const late = await connectPlain(server.port);
      try {
        await subscribe(late, root, { qos: 1 });
        const retained = await late.next();
        assert.deepEqual([retained.text, retained.packet.retain], ['offline', true]);
      } finally {
        await late.end();
      }
    } finally {
      await dying.end().catch(() => undefined);
      await watcher.end();
    }
  });

  test('[MQTT-3.12.4-1] PINGREQ is answered with PINGRESP', async () => {
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('ping'));
    try {
      client.send({ cmd: 'pingreq' });
      await client.expect('pingresp');
    } finally {
      client.drop();
    }
  });

  test('[MQTT-3.1.2-24] a client silent for 1.5 x its keep-alive is disconnected', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    const start = Date.now();
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clientId: uniqueTopic('ka'),
        clean: true,
        keepalive: 1,
      }),
    );
    const at = await closed;
    assert.ok(at - start >= 1000, `closed after ${at - start} ms, not before the keep-alive`);
    assert.ok(at - start < 10_000, 'closed within a bounded time');
  });
});
