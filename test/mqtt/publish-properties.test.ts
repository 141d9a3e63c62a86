import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { decodePublishV5 } from '../../src/mqtt/decode-publish.js';
import { readFixedHeader } from '../../src/mqtt/framing.js';
import { decodePublishProperties, encodePublishProperties } from '../../src/mqtt/publish-properties.js';
import type { PublishProperties } from '../../src/mqtt/delivery.js';

const runs = Number(process.env.FUZZ_RUNS ?? 300);
const text = fc.string({ maxLength: 30 });
// mqtt-packet drops a repeated user property whose first value is '' (see decode-publish.test.ts).
const value = fc.string({ minLength: 1, maxLength: 30 });
const propertiesArbitrary = fc.record(
  {
    payloadFormatIndicator: fc.boolean(),
    messageExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
    responseTopic: text,
    correlationData: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    contentType: text,
    userProperties: fc.dictionary(text, fc.oneof(value, fc.array(value, { minLength: 2, maxLength: 3 })), {
      minKeys: 1,
      maxKeys: 4,
    }),
  },
  { requiredKeys: [] },
);

// The property block mqtt-packet writes into a v5 PUBLISH (between the topic and the payload).
function mqttPacketBlock(properties: PublishProperties): Buffer {
  const frame = mqttPacket.generate(
    { cmd: 'publish', topic: 't', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false, properties },
    { protocolVersion: 5 },
  );
  const header = readFixedHeader(frame, 0);
  assert.ok(header !== undefined && header !== -1);
  let at = header.headerLength + 3; // topic length + 't'
  let length = 0;
  let multiplier = 1;
  for (;;) {
    const byte = frame[at++];
    length += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) break;
  }
  return frame.subarray(at, at + length);
}

test('encodePublishProperties writes the block mqtt-packet writes, and decodes back to the same properties', () => {
  fc.assert(
    fc.property(propertiesArbitrary, (properties) => {
      const ours = encodePublishProperties(properties);
      const theirs = mqttPacketBlock(properties);
      if (theirs.length === 0) {
        assert.equal(ours, undefined);
        return;
      }
      assert.ok(ours !== undefined);
      // mqtt-packet writes properties in the object's order, ours in identifier order: same size, same meaning.
      assert.equal(ours.length, theirs.length);
      const decoded = decodePublishProperties(ours);
      assert.ok(!(decoded instanceof Error));
      assert.deepEqual(decoded, decodePublishProperties(theirs));
      // And a v5 PUBLISH carrying our block reads as mqtt-packet reads it.
      const frame = mqttPacket.generate(
        {
          cmd: 'publish',
          topic: 't',
          payload: Buffer.from('x'),
          qos: 0,
          retain: false,
          dup: false,
          properties,
        },
        { protocolVersion: 5 },
      );
      const header = readFixedHeader(frame, 0);
      assert.ok(header !== undefined && header !== -1);
      const packet = decodePublishV5(frame, header.headerLength);
      assert.ok(!(packet instanceof Error));
      assert.deepEqual(packet.properties, decoded);
    }),
    { numRuns: runs },
  );
});

test('user properties keep their order and repeated names; alias and subscription identifier are left out', () => {
  const block = encodePublishProperties({
    userProperties: { b: ['2', '1'], a: 'x', c: ['', 'z'] },
    topicAlias: 3,
    subscriptionIdentifier: 7,
    contentType: 'é',
  });
  assert.ok(block !== undefined);
  const decoded = decodePublishProperties(block);
  assert.ok(!(decoded instanceof Error));
  assert.deepEqual(Object.entries(decoded.userProperties ?? {}), [
    ['b', ['2', '1']],
    ['a', 'x'],
    ['c', ['', 'z']],
  ]);
  assert.equal(decoded.contentType, 'é');
  assert.equal(decoded.topicAlias, undefined);
  assert.equal(decoded.subscriptionIdentifier, undefined);
  assert.equal(encodePublishProperties({ topicAlias: 1 }), undefined);
  assert.equal(encodePublishProperties(undefined), undefined);
});

test('a damaged block is an error, not a throw', () => {
  assert.ok(decodePublishProperties(Buffer.from([0x03, 0x00, 0x09, 0x61])) instanceof Error);
  assert.ok(decodePublishProperties(Buffer.from([0x7f])) instanceof Error);
});
