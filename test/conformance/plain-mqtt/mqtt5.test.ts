/**
 * MQTT 5 for plain clients (MQTT 5 sections 3.2, 3.3.4, 3.8, 4.8): reason codes of refusals, Clean Start
 * and Session Present, No Local, Subscription Identifiers (on retained messages too), shared
 * subscriptions.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IPubackPacket, ISubackPacket } from 'mqtt-packet';
import type { TestBroker } from '../../helpers/broker.js';
import { connectClient, keygen, type TestClient } from '../../helpers/clients.js';
import { RawMqtt5Client } from '../../helpers/raw-mqtt5.js';
import { within } from '../../helpers/wait.js';
import {
  connectPlain,
  publish,
  startPlainBroker,
  subscribe,
  uniqueTopic,
  type PlainClient,
} from './harness.js';

describe('plain MQTT conformance: MQTT 5', () => {
  let server: TestBroker;
  let publisher: PlainClient;
  let emitter: TestClient;
  before(async () => {
    server = await startPlainBroker({ keyPassword: true });
    publisher = await connectPlain(server.port, { protocolVersion: 5 });
    emitter = await connectClient(server.port);
  });
  after(async () => {
    await publisher.end();
    await emitter.end();
    await server.close();
  });

  test('[MQTT-3.9.3-1] [MQTT-3.9.3-2] [MQTT-3.4.2-1] SUBACK reason 0x87 (not authorized) for a filter the key may not read; PUBACK 0x87 for a topic it may not write', async () => {
    const root = uniqueTopic('v5-auth');
    const readOnly = await keygen(emitter, server.secret, `${root}/#/`, 'r');
    const { client, connack } = await RawMqtt5Client.connect(server.port, {
      clientId: uniqueTopic('v5-ro'),
      username: 'device',
      password: Buffer.from(readOnly),
    });
    try {
      assert.equal(connack.reasonCode, 0);
      client.send({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [
          { topic: `${root}/a`, qos: 1, nl: false, rap: false, rh: 0 },
          { topic: `elsewhere-${root}/a`, qos: 1, nl: false, rap: false, rh: 0 },
        ],
      });
      const suback = (await client.expect('suback')) as ISubackPacket;
      assert.deepEqual(suback.granted, [1, 0x87]);
      client.send({
        cmd: 'publish',
        topic: `${root}/a`,
        payload: Buffer.from('x'),
        qos: 1,
        messageId: 2,
        retain: false,
        dup: false,
      });
      const puback = (await client.expect('puback')) as IPubackPacket;
      assert.equal(puback.messageId, 2);
      assert.equal(puback.reasonCode, 0x87);
    } finally {
      client.close();
    }
  });

  test('[MQTT-3.2.2-2] [MQTT-3.2.2-3] Clean Start 0 with a kept session: Session Present 1; Clean Start 1: 0', async () => {
    const clientId = uniqueTopic('v5-session');
    const first = await RawMqtt5Client.connect(server.port, {
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    });
    assert.equal(first.connack.sessionPresent, false);
    first.client.send({ cmd: 'disconnect' });
    await first.client.closedByBroker();
    const second = await RawMqtt5Client.connect(server.port, {
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    });
    assert.equal(second.connack.sessionPresent, true);
    second.client.send({ cmd: 'disconnect' });
    await second.client.closedByBroker();
    const third = await RawMqtt5Client.connect(server.port, { clientId, clean: true });
    assert.equal(third.connack.sessionPresent, false, '[MQTT-3.2.2-2] Clean Start 1: Session Present 0');
    third.client.close();
  });

  test('[MQTT-3.8.3-3] No Local: a message is not sent back to its own publisher', async () => {
    const root = uniqueTopic('nolocal');
    const self = await connectPlain(server.port, { protocolVersion: 5 });
    try {
      await subscribe(self, root, { qos: 1, nl: true });
      await publish(self, root, 'mine', { qos: 1 });
      await publish(publisher, root, 'theirs', { qos: 1 });
      const first = await self.next();
      assert.equal(first.text, 'theirs');
    } finally {
      await self.end();
    }
  });

  test('[MQTT-3.3.4-3] a delivery carries the Subscription Identifier of its subscription, retained ones included', async () => {
    const root = uniqueTopic('subid');
    await publish(publisher, `${root}/r`, 'retained', { qos: 1, retain: true });
    const subscriber = await connectPlain(server.port, { protocolVersion: 5 });
    try {
      await subscribe(subscriber, `${root}/+`, { qos: 1, properties: { subscriptionIdentifier: 42 } });
      const retained = await subscriber.next();
      assert.equal(retained.text, 'retained');
      assert.deepEqual(retained.packet.properties?.subscriptionIdentifier, 42);
      await publish(publisher, `${root}/l`, 'live', { qos: 1 });
      const live = await subscriber.next();
      assert.equal(live.text, 'live');
      assert.deepEqual(live.packet.properties?.subscriptionIdentifier, 42);
    } finally {
      await subscriber.end();
    }
  });

  test('(5, section 4.8.2) shared subscriptions: each message goes to one member of the group; retained messages are not sent to it', async () => {
    const root = uniqueTopic('share');
    await publish(publisher, root, 'retained', { qos: 1, retain: true });
    const members = [
      await connectPlain(server.port, { protocolVersion: 5 }),
      await connectPlain(server.port, { protocolVersion: 5 }),
    ];
    const watcher = await connectPlain(server.port, { protocolVersion: 5 });
    try {
      const got: string[] = [];
      const all = new Promise<void>((resolve) => {
        for (const member of members)
          member.client.on('message', (_topic, payload) => {
            got.push(payload.toString());
            if (got.length === 20) resolve();
          });
      });
      for (const member of members) await subscribe(member, `$share/g/${root}`, { qos: 1 });
      await subscribe(watcher, root, { qos: 1 });
      assert.equal((await watcher.next()).text, 'retained', 'a plain subscription gets it');
      for (let i = 0; i < 20; i++) await publish(publisher, root, String(i), { qos: 1 });
      await within(all, 5000, 'the group got 20 messages');
      assert.deepEqual(
        got.sort((x, y) => Number(x) - Number(y)),
        Array.from({ length: 20 }, (_, i) => String(i)),
        'each message to one member, and no retained message',
      );
    } finally {
      for (const member of members) await member.end();
      await watcher.end();
    }
  });
});
