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
 * Encodes a PUBLISH packet (MQTT 3.1.1 layout) by hand into one buffer: it is the hot path of fan-out.
 * A QoS > 0 packet carries `messageId` (0 when unset: a form whose id is patched per recipient).
 */
export function encodePublish(message: OutgoingPublish): Buffer {
  const qos = message.qos ?? 0;
  const topicLength = Buffer.byteLength(message.topic);
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + message.payload.length;
  const lengthBytes = remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4;
  const packet = Buffer.allocUnsafe(1 + lengthBytes + remaining);
  packet[0] = 0x30 | (message.dup ? 8 : 0) | (qos << 1) | (message.retain ? 1 : 0);
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
  if (qos > 0) {
    packet.writeUInt16BE(message.messageId ?? 0, offset);
    offset += 2;
  }
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
