/**
 * Retained messages (MQTT 3.1.1 and 5 section 3.3.1.3, Retain Handling and Retain As Published of 3.8.3.1,
 * Message Expiry of 3.3.2.3.3) for plain MQTT clients, one channel space with Emitter clients.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IPublishPacket, ISubackPacket } from 'mqtt-packet';
import { InMemoryRetainedStore } from '../../../src/storage/index.js';
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

describe('plain MQTT conformance: retained messages', () => {
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

  test('[MQTT-3.3.1-5] a retained message is stored and [MQTT-3.3.1-6] sent to a new matching subscription', async () => {
    const root = uniqueTopic('keep');
    await publish(publisher, `${root}/a`, 'stored', { qos: 1, retain: true });
    const subscriber = await connectPlain(server.port);
    try {
      await subscribe(subscriber, `${root}/a`, { qos: 1 });
      const message = await subscriber.next();
      assert.equal(message.topic, `${root}/a`, 'delivered under the topic as published');
      assert.equal(message.text, 'stored');
    } finally {
      await subscriber.end();
    }
  });

  test('[MQTT-3.3.1-8] (3.1.1) a message sent because of a new subscription has RETAIN=1', async () => {
    const root = uniqueTopic('flag');
    await publish(publisher, root, 'r', { qos: 1, retain: true });
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      await client.subscribe(root, 1);
      const packet = await client.publish();
      assert.equal(packet.retain, true);
      assert.equal(packet.topic, root);
    } finally {
      client.drop();
    }
  });

  test('[MQTT-3.3.1-9] (3.1.1) a message matching an established subscription has RETAIN=0, however published', async () => {
    const root = uniqueTopic('live');
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      await client.subscribe(root, 1);
      await publish(publisher, root, 'live and retained', { qos: 1, retain: true });
      const packet = await client.publish();
      assert.equal(packet.payload.toString(), 'live and retained');
      assert.equal(packet.retain, false);
    } finally {
      client.drop();
    }
  });

  test('[MQTT-3.3.1-7] (3.1.1) a new retained message replaces the previous one: one per topic', async () => {
    const root = uniqueTopic('replace');
    await publish(publisher, root, 'first', { qos: 1, retain: true });
    await publish(publisher, root, 'second', { qos: 0, retain: true });
    await publish(publisher, root, 'third', { qos: 1, retain: true });
    const subscriber = await connectPlain(server.port);
    try {
      await subscribe(subscriber, root, { qos: 1 });
      assert.equal((await subscriber.next()).text, 'third');
      await expectNothingBefore(subscriber, publisher, root, 'only the latest retained message');
    } finally {
      await subscriber.end();
    }
  });

  test('[MQTT-3.3.1-10] [MQTT-3.3.1-11] an empty retained payload clears the topic, is delivered live as normal, and is not stored', async () => {
    const root = uniqueTopic('clear');
    const watcher = await connectPlain(server.port);
    const late = await connectPlain(server.port);
    try {
      await publish(publisher, root, 'to clear', { qos: 1, retain: true });
      await subscribe(watcher, root, { qos: 1 });
      assert.equal((await watcher.next()).text, 'to clear');
      await publish(publisher, root, '', { qos: 1, retain: true });
      const cleared = await watcher.next();
      assert.equal(cleared.text, '', 'existing subscribers get the empty message');
      assert.equal(cleared.packet.retain, false, '"as normal": RETAIN is 0 for them');
      await subscribe(late, root, { qos: 1 });
      await expectNothingBefore(late, publisher, root, 'no retained message after a clear');
    } finally {
      await watcher.end();
      await late.end();
    }
  });

  test('[MQTT-3.3.1-12] (3.1.1) a PUBLISH with RETAIN=0 neither stores nor replaces the retained message', async () => {
    const root = uniqueTopic('plain');
    await publish(publisher, root, 'kept', { qos: 1, retain: true });
    await publish(publisher, root, 'not retained', { qos: 1 });
    await publish(publisher, `${root}/other`, 'never retained', { qos: 1 });
    const subscriber = await connectPlain(server.port);
    try {
      await subscribe(subscriber, `${root}/#`, { qos: 1 });
      const first = await subscriber.next();
      assert.deepEqual([first.topic, first.text], [root, 'kept']);
      await expectNothingBefore(subscriber, publisher, root, 'no other retained message');
    } finally {
      await subscriber.end();
    }
  });

  test('[MQTT-3.3.1-6] every topic matching a wildcard filter sends its retained message, and [MQTT-4.7.2-1] a leading wildcard skips $ topics', async () => {
    const root = uniqueTopic('wild');
    for (const topic of [`${root}`, `${root}/a`, `${root}/a/b`, `${root}/c`, `${root}x/a`])
      await publish(publisher, topic, topic, { qos: 1, retain: true });
    const dollar = `$${root}/status`;
    await publish(publisher, dollar, 'dollar', { qos: 1, retain: true });
    const subscriber = await connectPlain(server.port);
    try {
      await subscribe(subscriber, `${root}/#`, { qos: 1 });
      const got = [];
      for (let i = 0; i < 4; i++) got.push((await subscriber.next()).topic);
      assert.deepEqual(got.sort(), [root, `${root}/a`, `${root}/a/b`, `${root}/c`].sort());
      await subscribe(subscriber, `${root}/+`, { qos: 1 });
      const plus = [(await subscriber.next()).topic, (await subscriber.next()).topic];
      assert.deepEqual(plus.sort(), [`${root}/a`, `${root}/c`]);
      await subscribe(subscriber, `+/status`, { qos: 1 });
      await subscribe(subscriber, `$${root}/+`, { qos: 1 });
      const named = await subscriber.next();
      assert.deepEqual([named.topic, named.text], [dollar, 'dollar'], 'an explicit $ filter gets it');
      await expectNothingBefore(subscriber, publisher, `${root}/a`, '+/status did not match the $ topic');
    } finally {
      await subscriber.end();
    }
  });

  test('[MQTT-3.8.4-6] a retained message goes at the minimum of its QoS and the granted QoS', async () => {
    const root = uniqueTopic('qos');
    await publish(publisher, `${root}/one`, 'q1', { qos: 1, retain: true });
    await publish(publisher, `${root}/two`, 'q2', { qos: 2, retain: true });
    await publish(publisher, `${root}/zero`, 'q0', { qos: 0, retain: true });
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      await client.subscribe(`${root}/two`, 1);
      assert.equal((await client.publish()).qos, 1, 'QoS 2 retained, granted 1: QoS 1');
      await client.subscribe(`${root}/one`, 2, 2);
      assert.equal((await client.publish()).qos, 1, 'QoS 1 retained, granted 2: QoS 1');
      await client.subscribe(`${root}/zero`, 2, 3);
      assert.equal((await client.publish()).qos, 0, 'QoS 0 retained, granted 2: QoS 0');
    } finally {
      client.drop();
    }
  });

  test('[MQTT-3.8.4-3] subscribing again to the same filter sends the retained messages again (3.1.1)', async () => {
    const root = uniqueTopic('again');
    await publish(publisher, root, 'again', { qos: 1, retain: true });
    const subscriber = await connectPlain(server.port);
    try {
      await subscribe(subscriber, root, { qos: 1 });
      assert.equal((await subscriber.next()).text, 'again');
      await subscribe(subscriber, root, { qos: 1 });
      const repeat = await subscriber.next();
      assert.equal(repeat.text, 'again');
      assert.equal(repeat.packet.retain, true);
    } finally {
      await subscriber.end();
    }
  });

  test('[MQTT-3.3.1-9] (5) Retain Handling 0 sends retained messages at every subscribe', async () => {
    const root = uniqueTopic('rh0');
    await publish(publisher, root, 'rh0', { qos: 1, retain: true });
    const subscriber = await connectPlain(server.port, { protocolVersion: 5 });
    try {
      await subscribe(subscriber, root, { qos: 1, rh: 0 });
      assert.equal((await subscriber.next()).text, 'rh0');
      await subscribe(subscriber, root, { qos: 1, rh: 0 });
      assert.equal((await subscriber.next()).text, 'rh0');
    } finally {
      await subscriber.end();
    }
  });

  test('[MQTT-3.3.1-10] (5) Retain Handling 1 sends them only when the subscription is new', async () => {
    const root = uniqueTopic('rh1');
    await publish(publisher, root, 'rh1', { qos: 1, retain: true });
    const subscriber = await connectPlain(server.port, { protocolVersion: 5 });
    try {
      await subscribe(subscriber, root, { qos: 1, rh: 1 });
      assert.equal((await subscriber.next()).text, 'rh1');
      await subscribe(subscriber, root, { qos: 1, rh: 1 });
      await expectNothingBefore(subscriber, publisher, root, 'not again for an existing subscription');
    } finally {
      await subscriber.end();
    }
  });

  test('[MQTT-3.3.1-11] (5) Retain Handling 2 sends none', async () => {
    const root = uniqueTopic('rh2');
    await publish(publisher, root, 'rh2', { qos: 1, retain: true });
    const subscriber = await connectPlain(server.port, { protocolVersion: 5 });
    try {
      await subscribe(subscriber, root, { qos: 1, rh: 2 });
      await expectNothingBefore(subscriber, publisher, root, 'no retained message with Retain Handling 2');
    } finally {
      await subscriber.end();
    }
  });

  test("[MQTT-3.3.1-12] [MQTT-3.3.1-13] (5) Retain As Published keeps the publisher's RETAIN flag on live messages", async () => {
    const root = uniqueTopic('rap');
    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueTopic('raw5') });
    try {
      client.send({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [
          { topic: `${root}/kept`, qos: 0, rap: true, nl: false, rh: 0 },
          { topic: `${root}/cleared`, qos: 0, rap: false, nl: false, rh: 0 },
        ],
      });
      const suback = (await client.expect('suback')) as ISubackPacket;
      assert.deepEqual(suback.granted, [0, 0]);
      await publish(publisher, `${root}/kept`, 'rap1', { qos: 1, retain: true });
      const kept = (await client.expect('publish')) as IPublishPacket;
      assert.equal(kept.retain, true, 'Retain As Published 1: RETAIN as published');
      await publish(publisher, `${root}/cleared`, 'rap0', { qos: 1, retain: true });
      const cleared = (await client.expect('publish')) as IPublishPacket;
      assert.equal(cleared.retain, false, 'Retain As Published 0: RETAIN 0');
    } finally {
      client.close();
    }
  });

  test('[MQTT-3.3.2-6] (5) a retained message carries what is left of its Message Expiry Interval; [MQTT-3.3.2-5] an expired one is not sent', async () => {
    // The retained store's clock runs `skew` ms ahead of the broker's when the test says so: expiry without waiting.
    let skew = 0;
    const own = await startPlainBroker({ retained: new InMemoryRetainedStore(() => Date.now() + skew) });
    const v5 = await connectPlain(own.port, { protocolVersion: 5 });
    const subscriber = await connectPlain(own.port, { protocolVersion: 5 });
    const root = uniqueTopic('expiry');
    try {
      await publish(v5, `${root}/long`, 'long', {
        qos: 1,
        retain: true,
        properties: { messageExpiryInterval: 3600, contentType: 'text/plain' },
      });
      await publish(v5, `${root}/short`, 'short', {
        qos: 1,
        retain: true,
        properties: { messageExpiryInterval: 2 },
      });
      skew = 2000;
      await subscribe(subscriber, `${root}/#`, { qos: 1 });
      const long = await subscriber.next();
      assert.equal(long.topic, `${root}/long`);
      const left = long.packet.properties?.messageExpiryInterval ?? 0;
      assert.ok(left > 0 && left <= 3600, `expiry left: ${left}`);
      assert.equal(long.packet.properties?.contentType, 'text/plain', 'properties kept');
      await expectNothingBefore(subscriber, v5, `${root}/long`, 'the expired message is not sent');
    } finally {
      await subscriber.end();
      await v5.end();
      await own.close();
    }
  });
});
