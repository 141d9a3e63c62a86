/**
 * Topic names and filters (MQTT 3.1.1 and 5 section 4.7) for plain MQTT clients: wildcard matching,
 * `$` topics, no normalisation, topics delivered verbatim, and invalid names and filters refused.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
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

describe('plain MQTT conformance: topic names and filters', () => {
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

  // Subscribes `filter` on a fresh client, publishes each topic in turn, and returns the topics received
  // (a barrier on `barrierTopic`, which the filter must match, ends the wait).
  async function received(filter: string, topics: string[], barrierTopic: string): Promise<string[]> {
    const subscriber = await connectPlain(server.port);
    try {
      assert.deepEqual(await subscribe(subscriber, filter, { qos: 1 }), [1]);
      for (const topic of topics) await publish(publisher, topic, topic, { qos: 1 });
      await publish(publisher, barrierTopic, 'barrier', { qos: 1 });
      const got: string[] = [];
      for (;;) {
        const message = await subscriber.next();
        if (message.text === 'barrier') return got;
        got.push(message.topic);
      }
    } finally {
      await subscriber.end();
    }
  }

  test('[MQTT-4.7.1-2] # matches the parent level and every level below it', async () => {
    const root = uniqueTopic('multi');
    const topics = [root, `${root}/a`, `${root}/a/b/c`, `${root}/`, `${root}x`, `x/${root}`];
    assert.deepEqual(await received(`${root}/#`, topics, `${root}/z`), [
      root,
      `${root}/a`,
      `${root}/a/b/c`,
      `${root}/`,
    ]);
  });

  test('[MQTT-4.7.1-3] + matches exactly one level, an empty one included', async () => {
    const root = uniqueTopic('single');
    const topics = [root, `${root}/a`, `${root}/`, `${root}/a/b`, `${root}//x`];
    assert.deepEqual(await received(`${root}/+`, topics, `${root}/z`), [`${root}/a`, `${root}/`]);
    assert.deepEqual(await received(`${root}/+/x`, topics, `${root}/z/x`), [`${root}//x`]);
  });

  test('[MQTT-4.7.1-3] + and # combine: +/+ matches /finance (an empty first level)', async () => {
    const root = uniqueTopic('combo');
    assert.deepEqual(await received(`+/${root}/#`, [`/${root}`, `a/${root}/b`, `${root}`], `z/${root}`), [
      `/${root}`,
      `a/${root}/b`,
    ]);
  });

  test('[MQTT-4.7.2-1] a filter starting with a wildcard does not match a topic starting with $', async () => {
    const root = uniqueTopic('dollar');
    const subscriber = await connectPlain(server.port);
    try {
      await subscribe(subscriber, ['#', `+/${root}`], { qos: 1 });
      await publish(publisher, `$SYS/${root}`, 'hidden', { qos: 1 });
      await publish(publisher, `$x/${root}`, 'hidden', { qos: 1 });
      const barrier = `${root}/barrier`;
      await publish(publisher, barrier, 'barrier', { qos: 1 });
      const first = await subscriber.next();
      assert.deepEqual([first.topic, first.text], [barrier, 'barrier'], 'no $ topic before the barrier');
    } finally {
      await subscriber.end();
    }
  });

  test('[MQTT-4.7.2-1] a filter naming the $ level matches it', async () => {
    const root = uniqueTopic('dollar-explicit');
    assert.deepEqual(await received(`$SYS/${root}/+`, [`$SYS/${root}/a`], `$SYS/${root}/z`), [
      `$SYS/${root}/a`,
    ]);
  });

  test('[MQTT-4.7.3-4] no normalisation: case, trailing slash and empty levels make different topics', async () => {
    const root = uniqueTopic('exact');
    const topics = [`${root}/a`, `${root}/A`, `${root}/a/`, `${root}//a`];
    assert.deepEqual(await received(`${root}/a`, topics, `${root}/a`), [`${root}/a`]);
    assert.deepEqual(await received(`${root}/a/`, topics, `${root}/a/`), [`${root}/a/`]);
  });

  test('topic names are delivered verbatim, as published (no trailing slash added), spaces and UTF-8 kept', async () => {
    const root = uniqueTopic('verbatim');
    const topics = [`${root}/room 1/température`, `${root}/😀`];
    assert.deepEqual(await received(`${root}/#`, topics, `${root}/z`), topics);
  });

  test('[MQTT-4.7.1-1] [MQTT-3.3.2-2] a PUBLISH topic with a wildcard is not delivered', async () => {
    const root = uniqueTopic('pubwild');
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    const subscriber = await connectPlain(server.port);
    try {
      await subscribe(subscriber, `${root}/#`, { qos: 1 });
      client.send({
        cmd: 'publish',
        topic: `${root}/+`,
        payload: Buffer.from('bad'),
        qos: 0,
        retain: false,
        dup: false,
      });
      client.send({
        cmd: 'publish',
        topic: `${root}/#`,
        payload: Buffer.from('bad'),
        qos: 0,
        retain: false,
        dup: false,
      });
      await expectNothingBefore(
        subscriber,
        publisher,
        `${root}/ok`,
        'wildcard topic names are not delivered',
      );
    } finally {
      client.drop();
      await subscriber.end();
    }
  });

  test('[MQTT-4.7.1-2] [MQTT-4.7.1-3] a filter with a wildcard that is not a whole level, or # not last, is refused (SUBACK 0x80)', async () => {
    const root = uniqueTopic('badfilter');
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      for (const [i, filter] of [`${root}/a#`, `${root}/#/a`, `${root}/a+`, `${root}+/b`].entries()) {
        client.send({ cmd: 'subscribe', messageId: i + 1, subscriptions: [{ topic: filter, qos: 0 }] });
        const suback = await client.expect('suback');
        assert.ok(suback.cmd === 'suback');
        assert.deepEqual(suback.granted, [0x80], filter);
      }
    } finally {
      client.drop();
    }
  });

  test('[MQTT-4.7.3-1] an empty topic filter is refused (SUBACK 0x80)', async () => {
    const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
    try {
      client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '', qos: 0 }] });
      const suback = await client.expect('suback');
      assert.ok(suback.cmd === 'suback');
      assert.deepEqual(suback.granted, [0x80]);
    } finally {
      client.drop();
    }
  });

  test('[MQTT-4.7.3-2] [MQTT-1.5.3-2] U+0000 in a topic filter or topic name closes that connection, and only it', async () => {
    const root = uniqueTopic('nul');
    const bystander = await connectPlain(server.port);
    try {
      await subscribe(bystander, `${root}/ok`, { qos: 0 });
      const packets = [
        { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${root}/a\u0000b`, qos: 0 }] },
        { cmd: 'unsubscribe', messageId: 2, unsubscriptions: [`${root}/a\u0000b`] },
        {
          cmd: 'publish',
          topic: `${root}/a\u0000b`,
          payload: Buffer.from('x'),
          qos: 0,
          retain: false,
          dup: false,
        },
      ] as const;
      for (const packet of packets) {
        const { client } = await RawMqttClient.connect(server.port, uniqueTopic('raw'));
        try {
          client.send(packet as never);
          await client.closedByBroker();
          assert.equal(client.closed, true, packet.cmd);
        } finally {
          client.drop();
        }
      }
      // Nothing else was harmed: the other client still gets its messages.
      await publish(bystander, `${root}/ok`, 'still here', { qos: 0 });
      const received = await bystander.next();
      assert.equal(received.topic, `${root}/ok`);
      assert.equal(received.text, 'still here');
    } finally {
      await bystander.end();
    }
  });
});
