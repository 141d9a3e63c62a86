import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
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
