import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { encodePublishProperties } from '../../src/mqtt/publish-properties.js';
import { storedDelivery } from '../../src/services/pubsub/pubsub.js';
import { encodeMessageId, type StoredMessage } from '../../src/storage/message.js';

function stored(ageMs: number, properties?: Buffer): StoredMessage {
  const time = Date.now() - ageMs;
  return {
    id: encodeMessageId({ time, sequence: 1, instance: 1 }),
    ssid: [1, 2],
    channel: 'a/',
    payload: Buffer.from('x'),
    time,
    expires: 0,
    ...(properties && { properties }),
  };
}

function v5Properties(packet: Buffer): IPublishPacket['properties'] {
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  let parsed: Packet | undefined;
  parser.on('packet', (p: Packet) => (parsed = p));
  parser.parse(packet);
  assert.equal(parsed?.cmd, 'publish');
  return (parsed as IPublishPacket).properties;
}

test('storedDelivery: the expiry interval counts from the publish time; past it, no delivery', () => {
  const block = encodePublishProperties({ messageExpiryInterval: 10, contentType: 'text/plain' });
  // Storage may still return a message up to a second past its interval (it keeps whole seconds).
  assert.equal(storedDelivery(stored(10_500, block), 0), undefined);
  const delivery = storedDelivery(stored(3_200, block), 1);
  assert.ok(delivery !== undefined);
  assert.equal(delivery.qos, 1);
  const properties = v5Properties(delivery.packet(0, 5));
  assert.equal(properties?.messageExpiryInterval, 7);
  assert.equal(properties?.contentType, 'text/plain');
});

test('storedDelivery: no properties, or a damaged block, still delivers the message', () => {
  assert.equal(storedDelivery(stored(0), 0)?.properties, undefined);
  const damaged = storedDelivery(stored(0, Buffer.from([0x03, 0x00, 0x09])), 0);
  assert.ok(damaged !== undefined);
  assert.equal(damaged.properties, undefined);
  assert.equal(damaged.payload.toString(), 'x');
});
