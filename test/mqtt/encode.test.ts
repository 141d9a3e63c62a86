import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { Delivery } from '../../src/mqtt/delivery.js';
import { encodeAck, encodePublishV5, type AckType } from '../../src/mqtt/encode.js';

const runs = Number(process.env.FUZZ_RUNS ?? 500);

test('encodeAck writes the same bytes as mqtt-packet for every ack type and packet id', () => {
  const ids = [1, 2, 127, 128, 255, 256, 4095, 32768, 65534, 65535];
  for (let i = 0; i < 200; i++) ids.push(1 + Math.floor(Math.random() * 65535));
  for (const type of ['puback', 'pubrec', 'pubrel', 'pubcomp'] as AckType[]) {
    for (const messageId of ids) {
      assert.deepEqual(
        encodeAck(type, messageId),
        mqttPacket.generate({ cmd: type, messageId }),
        `${type} ${messageId}`,
      );
    }
  }
});

test('encodePublishV5 writes the same bytes as mqtt-packet for every MQTT 5 PUBLISH property', () => {
  const text = fc.string({ maxLength: 30 });
  const value = fc.string({ minLength: 1, maxLength: 30 });
  fc.assert(
    fc.property(
      fc.string({ maxLength: 60 }),
      fc.uint8Array({ maxLength: 500 }),
      fc.constantFrom(0, 1, 2),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 1, max: 65535 }),
      fc.option(
        fc.record(
          {
            payloadFormatIndicator: fc.boolean(),
            messageExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
            topicAlias: fc.integer({ min: 1, max: 65535 }),
            responseTopic: text,
            correlationData: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
            contentType: text,
            subscriptionIdentifier: fc.oneof(
              fc.integer({ min: 1, max: 0x0fffffff }),
              fc.array(fc.integer({ min: 1, max: 0x0fffffff }), { minLength: 1, maxLength: 3 }),
            ),
            userProperties: fc.dictionary(
              text,
              fc.oneof(value, fc.array(value, { minLength: 2, maxLength: 3 })),
              { minKeys: 1, maxKeys: 4 },
            ),
          },
          { requiredKeys: [] },
        ),
        { nil: undefined },
      ),
      (topic, payload, qos, dup, retain, messageId, properties) => {
        const message = {
          topic,
          payload: Buffer.from(payload),
          qos: qos as 0 | 1 | 2,
          dup,
          retain,
          messageId,
        };
        const ours = encodePublishV5(message, properties);
        const theirs = mqttPacket.generate(
          { cmd: 'publish', ...message, properties },
          { protocolVersion: 5 },
        );
        assert.ok(ours !== undefined);
        assert.equal(ours.toString('hex'), theirs.toString('hex'));
      },
    ),
    { numRuns: runs },
  );
});

test('encodePublishV5 leaves to mqtt-packet what a PUBLISH cannot carry or a value of the wrong type', () => {
  const message = { topic: 't', payload: Buffer.from('x') };
  assert.equal(encodePublishV5(message, { reasonString: 'no' } as never), undefined);
  assert.equal(encodePublishV5(message, { topicAlias: 70000 }), undefined);
  assert.equal(encodePublishV5(message, { contentType: 5 } as never), undefined);
  // An empty property list is one 0 byte after the topic.
  assert.deepEqual(encodePublishV5(message, {}), Buffer.from([0x30, 5, 0, 1, 0x74, 0, 0x78]));
  assert.deepEqual(encodePublishV5(message), Buffer.from([0x30, 5, 0, 1, 0x74, 0, 0x78]));
});

test('Delivery.encodeOnce writes the same PUBLISH as the shared form with the packet id patched in', () => {
  const properties = { contentType: 'text/plain', userProperties: { a: 'b' } };
  for (const protocolVersion of [4, 5]) {
    for (const qos of [1, 2] as const) {
      for (const retain of [false, true]) {
        const once = new Delivery('a/b/', Buffer.from('payload'), qos, retain, undefined, properties);
        const shared = new Delivery('a/b/', Buffer.from('payload'), qos, retain, undefined, properties);
        assert.deepEqual(
          once.encodeOnce(qos, 4242, protocolVersion, retain),
          shared.withPacketId(qos, 4242, false, protocolVersion, retain),
          `v${protocolVersion} qos ${qos} retain ${retain}`,
        );
      }
    }
  }
  const plain = new Delivery('t/', Buffer.alloc(300, 1), 1);
  assert.deepEqual(
    plain.encodeOnce(1, 65535),
    mqttPacket.generate({
      cmd: 'publish',
      topic: 't/',
      payload: Buffer.alloc(300, 1),
      qos: 1,
      messageId: 65535,
      retain: false,
      dup: false,
    }),
  );
});
