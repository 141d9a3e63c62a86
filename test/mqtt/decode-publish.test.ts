import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { decodePublish, decodePublishV5 } from '../../src/mqtt/decode-publish.js';
import { readFixedHeader } from '../../src/mqtt/framing.js';

const runs = Number(process.env.FUZZ_RUNS ?? 500);

// What mqtt-packet's parser makes of one whole frame: the packet, or its error.
function oracle(frame: Buffer): Packet | Error {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let result: Packet | Error = new Error('incomplete packet');
  parser.on('packet', (packet: Packet) => (result = packet));
  parser.on('error', (error: Error) => (result = error));
  parser.parse(frame);
  return result;
}

function decode(frame: Buffer): ReturnType<typeof decodePublish> {
  const header = readFixedHeader(frame, 0);
  assert.ok(header !== undefined && header !== -1);
  return decodePublish(frame, header.headerLength);
}

const fields = (packet: Packet) => {
  assert.equal(packet.cmd, 'publish');
  return {
    topic: packet.topic,
    payload: Buffer.from(packet.payload as Buffer).toString('hex'),
    qos: packet.qos,
    dup: packet.dup,
    retain: packet.retain,
    messageId: packet.qos > 0 ? packet.messageId : undefined,
    length: packet.length,
  };
};

test('decodePublish reads every valid PUBLISH exactly as mqtt-packet does', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 2000 }),
      fc.constantFrom(0, 1, 2),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 1, max: 65535 }),
      (topic, payload, qos, dup, retain, messageId) => {
        const frame = mqttPacket.generate({
          cmd: 'publish',
          topic,
          payload: Buffer.from(payload),
          qos: qos as 0 | 1 | 2,
          dup,
          retain,
          messageId,
        });
        const ours = decode(frame);
        const theirs = oracle(frame);
        assert.ok(!(ours instanceof Error) && !(theirs instanceof Error));
        assert.deepEqual(fields(ours), fields(theirs));
      },
    ),
    { numRuns: runs },
  );
});

test('decodePublish fails where mqtt-packet fails on arbitrary PUBLISH frames, and agrees otherwise', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 300 }), (flags, body) => {
      const frame = Buffer.concat([
        Buffer.from([0x30 | flags]),
        remainingLength(body.length),
        Buffer.from(body),
      ]);
      const ours = decode(frame);
      const theirs = oracle(frame);
      if (theirs instanceof Error) {
        assert.ok(ours instanceof Error, `mqtt-packet refused (${theirs.message}); so must we`);
        return;
      }
      if (theirs.cmd === 'publish' && theirs.qos > 0 && theirs.messageId === -1) {
        // Our one deliberate difference: a QoS 1/2 frame with no room for its packet id is an error.
        assert.ok(ours instanceof Error);
        return;
      }
      assert.ok(!(ours instanceof Error), `we refused what mqtt-packet read: ${String(ours)}`);
      assert.deepEqual(fields(ours), fields(theirs));
    }),
    { numRuns: runs * 4 },
  );
});

function remainingLength(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

test('decodePublishV5 reads every valid MQTT 5 PUBLISH, properties included, exactly as mqtt-packet does', () => {
  const text = fc.string({ maxLength: 30 });
  // mqtt-packet drops a repeated user property whose first value is '' (it tests the value's truth):
  // non-empty values keep the oracle right.
  const value = fc.string({ minLength: 1, maxLength: 30 });
  fc.assert(
    fc.property(
      // An empty topic needs a topic alias: mqtt-packet makes nothing of it otherwise.
      fc.string({ minLength: 1, maxLength: 60 }),
      fc.uint8Array({ maxLength: 500 }),
      fc.constantFrom(0, 1, 2),
      fc.integer({ min: 1, max: 65535 }),
      fc.record(
        {
          payloadFormatIndicator: fc.boolean(),
          messageExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
          topicAlias: fc.integer({ min: 1, max: 65535 }),
          responseTopic: text,
          correlationData: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
          contentType: text,
          userProperties: fc.dictionary(
            text,
            fc.oneof(value, fc.array(value, { minLength: 2, maxLength: 3 })),
            { minKeys: 1, maxKeys: 4 },
          ),
        },
        { requiredKeys: [] },
      ),
      (topic, payload, qos, messageId, properties) => {
        const frame = mqttPacket.generate(
          {
            cmd: 'publish',
            topic,
            payload: Buffer.from(payload),
            qos: qos as 0 | 1 | 2,
            dup: false,
            retain: false,
            messageId,
            properties,
          },
          { protocolVersion: 5 },
        );
        const header = readFixedHeader(frame, 0);
        assert.ok(header !== undefined && header !== -1);
        const ours = decodePublishV5(frame, header.headerLength);
        const parser = mqttPacket.parser({ protocolVersion: 5 });
        let theirs: Packet | Error = new Error('incomplete packet');
        parser.on('packet', (packet: Packet) => (theirs = packet));
        parser.on('error', (error: Error) => (theirs = error));
        parser.parse(frame);
        assert.ok(!(ours instanceof Error), String(ours));
        assert.ok(!(theirs instanceof Error));
        assert.deepEqual(fields(ours), fields(theirs));
        assert.deepEqual(
          JSON.parse(JSON.stringify(ours.properties ?? {})),
          JSON.parse(JSON.stringify((theirs as IPublishPacket).properties ?? {})),
        );
      },
    ),
    { numRuns: runs },
  );
});

test('decodePublishV5 refuses an unknown property and a property length past the frame', () => {
  const frame = mqttPacket.generate(
    {
      cmd: 'publish',
      topic: 't',
      payload: Buffer.from('x'),
      qos: 0,
      dup: false,
      retain: false,
      properties: { contentType: 'a' },
    },
    { protocolVersion: 5 },
  );
  // fixed header (2), topic (3), property length (1), then the property identifier
  const unknown = Buffer.from(frame);
  unknown[6] = 0x7f;
  assert.ok(decodePublishV5(unknown, 2) instanceof Error);
  const long = Buffer.from(frame);
  long[5] = 0x40;
  assert.ok(decodePublishV5(long, 2) instanceof Error);
});
