import mqttPacket from 'mqtt-packet';

/** A PUBLISH to encode for sending. */
export interface OutgoingPublish {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos?: 0 | 1 | 2;
  readonly messageId?: number;
  readonly retain?: boolean;
  readonly dup?: boolean;
}

/**
 * Encodes a PUBLISH packet (MQTT 3.1.1 layout). QoS 0 packets, the hot path of fan-out, are written
 * by hand into one buffer; the rest go through mqtt-packet.
 */
export function encodePublish(message: OutgoingPublish): Buffer {
  const qos = message.qos ?? 0;
  if (qos !== 0) {
    return mqttPacket.generate({
      cmd: 'publish',
      topic: message.topic,
      payload: message.payload,
      qos,
      messageId: message.messageId,
      retain: message.retain ?? false,
      dup: message.dup ?? false,
    });
  }
  const topicLength = Buffer.byteLength(message.topic);
  const remaining = 2 + topicLength + message.payload.length;
  const lengthBytes = remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4;
  const packet = Buffer.allocUnsafe(1 + lengthBytes + remaining);
  packet[0] = 0x30 | (message.retain ? 1 : 0);
  let offset = 1;
  let value = remaining;
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    packet[offset++] = byte;
  } while (value > 0);
  packet.writeUInt16BE(topicLength, offset);
  offset += 2;
  offset += packet.write(message.topic, offset);
  message.payload.copy(packet, offset);
  return packet;
}

/** The acknowledgements a server sends with only a packet id in them (MQTT 3.1.1). */
export type AckType = 'puback' | 'pubrec' | 'pubrel' | 'pubcomp';

const ACK_FIRST_BYTE: Record<AckType, number> = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 };

/** Encodes PUBACK, PUBREC, PUBREL or PUBCOMP: four bytes, one per QoS 1 publish on the hot path. */
export function encodeAck(type: AckType, messageId: number): Buffer {
  const packet = Buffer.allocUnsafe(4);
  packet[0] = ACK_FIRST_BYTE[type];
  packet[1] = 2;
  packet[2] = messageId >> 8;
  packet[3] = messageId & 0xff;
  return packet;
}
