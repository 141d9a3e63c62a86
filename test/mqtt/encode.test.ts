import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { Delivery } from '../../src/mqtt/delivery.js';
import { encodeAck, type AckType } from '../../src/mqtt/encode.js';

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
