/**
 * Delivery for plain MQTT clients (MQTT 3.1.1 and 5 sections 3.3-3.11, 4.3, 4.6): QoS 0/1/2 flows both
 * ways, delivery at min(published, granted) QoS, SUBACK and UNSUBACK, unsubscribe, ordering per topic.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IPublishPacket } from 'mqtt-packet';
import type { TestBroker } from '../../helpers/broker.js';
import { RawMqttClient } from '../../helpers/raw-mqtt.js';
import {
  connectPlain,
  expectNothingBefore,
  publish,
  startPlainBroker,
  subscribe,
  uniqueTopic,
  type PlainClient,
} from './harness.js';

describe('plain MQTT conformance: delivery', () => {
  let server: TestBroker;
  let publisher: PlainClient;
  before(async () => {
    server = await startPlainBroker();
    publisher = await connectPlain(server.port);
  });
  after(async () => {
    await publisher.end();
    await server.close();
  });

  test('[MQTT-3.8.4-1] [MQTT-3.8.4-5] SUBACK has the packet id and one return code per filter, the QoS asked', async () => {
    const root = uniqueTopic('suback');
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      client.send({
        cmd: 'subscribe',
        messageId: 4242,
        subscriptions: [
          { topic: `${root}/0`, qos: 0 },
          { topic: `${root}/1`, qos: 1 },
          { topic: `${root}/2`, qos: 2 },
        ],
      });
      const suback = await client.expect('suback');
      assert.ok(suback.cmd === 'suback');
      assert.equal(suback.messageId, 4242);
      assert.deepEqual(suback.granted, [0, 1, 2]);
    } finally {
      client.drop();
    }
  });

  test('[MQTT-3.8.4-6] messages go at the minimum of the published and granted QoS (every pair)', async () => {
    const root = uniqueTopic('minqos');
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      for (const granted of [0, 1, 2] as const)
        await client.subscribe(`${root}/${granted}`, granted, granted + 1);
      for (const granted of [0, 1, 2] as const) {
        for (const published of [0, 1, 2] as const) {
          await publish(publisher, `${root}/${granted}`, `${published}`, { qos: published });
          const packet = await client.publish();
          assert.equal(
            packet.qos,
            Math.min(granted, published),
            `published ${published}, granted ${granted}`,
          );
          if (packet.qos === 1) client.send({ cmd: 'puback', messageId: packet.messageId });
          if (packet.qos === 2) {
            client.send({ cmd: 'pubrec', messageId: packet.messageId });
            const pubrel = await client.expect('pubrel');
            assert.ok(pubrel.cmd === 'pubrel');
            assert.equal(pubrel.messageId, packet.messageId, '[MQTT-2.3.1-6] PUBREL has the PUBLISH id');
            client.send({ cmd: 'pubcomp', messageId: packet.messageId });
          }
        }
      }
    } finally {
      client.drop();
    }
  });

  test('[MQTT-3.3.4-1] [MQTT-4.3.2-2] a QoS 1 PUBLISH is answered with PUBACK carrying its packet id', async () => {
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      client.send({
        cmd: 'publish',
        topic: uniqueTopic('q1'),
        payload: Buffer.from('x'),
        qos: 1,
        messageId: 77,
        retain: false,
        dup: false,
      });
      const puback = await client.expect('puback');
      assert.ok(puback.cmd === 'puback');
      assert.equal(puback.messageId, 77);
    } finally {
      client.drop();
    }
  });

  test('[MQTT-4.3.3-2] QoS 2 inbound: PUBREC, then PUBCOMP after PUBREL, delivered exactly once even when re-sent with DUP', async () => {
    const root = uniqueTopic('q2in');
    const subscriber = await connectPlain(server.port);
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      await subscribe(subscriber, root, { qos: 2 });
      const packet = {
        cmd: 'publish',
        topic: root,
        payload: Buffer.from('once'),
        qos: 2,
        messageId: 9,
        retain: false,
      } as const;
      client.send({ ...packet, dup: false });
      const pubrec = await client.expect('pubrec');
      assert.ok(pubrec.cmd === 'pubrec');
      assert.equal(pubrec.messageId, 9);
      client.send({ ...packet, dup: true });
      await client.expect('pubrec');
      client.send({ cmd: 'pubrel', messageId: 9 });
      const pubcomp = await client.expect('pubcomp');
      assert.ok(pubcomp.cmd === 'pubcomp');
      assert.equal(pubcomp.messageId, 9);
      assert.equal((await subscriber.next()).text, 'once');
      await expectNothingBefore(
        subscriber,
        publisher,
        root,
        'the re-sent QoS 2 PUBLISH is not delivered twice',
      );
    } finally {
      client.drop();
      await subscriber.end();
    }
  });

  test('[MQTT-4.3.2-1] [MQTT-4.3.3-1] outbound QoS 1 and 2 use a non-zero packet id and wait for the acknowledgement', async () => {
    const root = uniqueTopic('out');
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      await client.subscribe(root, 2);
      await publish(publisher, root, 'two', { qos: 2 });
      const packet: IPublishPacket = await client.publish();
      assert.equal(packet.qos, 2);
      assert.ok((packet.messageId ?? 0) > 0);
      client.send({ cmd: 'pubrec', messageId: packet.messageId });
      const pubrel = await client.expect('pubrel');
      assert.ok(pubrel.cmd === 'pubrel');
      client.send({ cmd: 'pubcomp', messageId: packet.messageId });
    } finally {
      client.drop();
    }
  });

  test('[MQTT-4.6.0-6] a topic is ordered: messages of one publisher and one QoS arrive in the order published', async () => {
    const root = uniqueTopic('order');
    const subscriber = await connectPlain(server.port);
    try {
      await subscribe(subscriber, root, { qos: 2 });
      const sent: string[][] = [[], [], []];
      const acks: Promise<void>[] = [];
      for (let i = 0; i < 90; i++) {
        const qos = (i % 3) as 0 | 1 | 2;
        sent[qos].push(String(i));
        acks.push(publish(publisher, root, String(i), { qos }));
      }
      await Promise.all(acks);
      const got: string[][] = [[], [], []];
      for (let i = 0; i < 90; i++) {
        const message = await subscriber.next();
        got[message.packet.qos].push(message.text);
      }
      assert.deepEqual(got, sent);
    } finally {
      await subscriber.end();
    }
  });

  test('[MQTT-3.10.4-1] [MQTT-3.10.4-2] [MQTT-3.10.4-4] UNSUBSCRIBE stops deliveries and is answered with UNSUBACK', async () => {
    const root = uniqueTopic('unsub');
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      await client.subscribe(`${root}/gone`, 0, 1);
      await client.subscribe(`${root}/kept`, 0, 2);
      client.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: [`${root}/gone`] });
      const unsuback = await client.expect('unsuback');
      assert.ok(unsuback.cmd === 'unsuback');
      assert.equal(unsuback.messageId, 3);
      await publish(publisher, `${root}/gone`, 'no', { qos: 1 });
      await publish(publisher, `${root}/kept`, 'yes', { qos: 1 });
      const next = await client.publish();
      assert.deepEqual([next.topic, next.payload.toString()], [`${root}/kept`, 'yes']);
    } finally {
      client.drop();
    }
  });

  test('[MQTT-3.10.4-5] UNSUBACK also answers a filter that matches no subscription; [MQTT-3.10.4-1] the filter is compared as written', async () => {
    const root = uniqueTopic('unsub-none');
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      await client.subscribe(`${root}/+`, 0, 1);
      client.send({ cmd: 'unsubscribe', messageId: 5, unsubscriptions: [`${root}/a`, `${root}/never`] });
      const unsuback = await client.expect('unsuback');
      assert.ok(unsuback.cmd === 'unsuback');
      assert.equal(unsuback.messageId, 5);
      await publish(publisher, `${root}/a`, 'still', { qos: 1 });
      assert.equal(
        (await client.publish()).payload.toString(),
        'still',
        `${root}/+ was not removed by ${root}/a`,
      );
    } finally {
      client.drop();
    }
  });

  test('[MQTT-3.3.5-1] overlapping subscriptions: the message is delivered once, at the highest granted QoS (3.1.1)', async () => {
    const root = uniqueTopic('overlap');
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      await client.subscribe(`${root}/#`, 0, 1);
      await client.subscribe(`${root}/+`, 1, 2);
      await publish(publisher, `${root}/x`, 'one', { qos: 1 });
      const packet = await client.publish();
      assert.equal(packet.qos, 1);
      client.send({ cmd: 'puback', messageId: packet.messageId });
      await publish(publisher, `${root}/x`, 'two', { qos: 1 });
      assert.equal((await client.publish()).payload.toString(), 'two', 'no second copy of "one"');
    } finally {
      client.drop();
    }
  });
});
