import type { IPublishPacket } from 'mqtt-packet';

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

type Properties = NonNullable<IPublishPacket['properties']>;

// PUBLISH property identifiers (MQTT 5.0, 3.3.2.3) and their wire types, as mqtt-packet names them.
const PROPERTY_IDS: Readonly<Record<string, number>> = {
  payloadFormatIndicator: 0x01,
  messageExpiryInterval: 0x02,
  contentType: 0x03,
  responseTopic: 0x08,
  correlationData: 0x09,
  subscriptionIdentifier: 0x0b,
  topicAlias: 0x23,
  userProperties: 0x26,
};

/**
 * Encodes an MQTT 5 PUBLISH by hand into one buffer: properties in the order of their keys (as mqtt-packet
 * writes them, byte for byte), then the payload. Going through mqtt-packet cost more than the rest of a
 * v5 message's way through the broker. Undefined when `properties` holds something this encoder does not
 * write (a property a PUBLISH cannot carry, a value of the wrong type): the caller then asks mqtt-packet.
 */
export function encodePublishV5(message: OutgoingPublish, properties?: Properties): Buffer | undefined {
  const qos = message.qos ?? 0;
  const topicLength = Buffer.byteLength(message.topic);
  const propertiesLength = properties === undefined ? 0 : propertiesSize(properties);
  if (propertiesLength < 0) return undefined;
  const remaining =
    2 +
    topicLength +
    (qos > 0 ? 2 : 0) +
    variableIntegerSize(propertiesLength) +
    propertiesLength +
    message.payload.length;
  const packet = Buffer.allocUnsafe(1 + variableIntegerSize(remaining) + remaining);
  packet[0] = 0x30 | (message.dup ? 8 : 0) | (qos << 1) | (message.retain ? 1 : 0);
  let offset = writeVariableInteger(packet, 1, remaining);
  packet.writeUInt16BE(topicLength, offset);
  offset += 2;
  offset += packet.write(message.topic, offset);
  if (qos > 0) {
    packet.writeUInt16BE(message.messageId ?? 0, offset);
    offset += 2;
  }
  offset = writeVariableInteger(packet, offset, propertiesLength);
  if (properties !== undefined && propertiesLength > 0) offset = writeProperties(packet, offset, properties);
  message.payload.copy(packet, offset);
  return packet;
}

const variableIntegerSize = (value: number): number =>
  value < 128 ? 1 : value < 16384 ? 2 : value < 2097152 ? 3 : 4;

function writeVariableInteger(packet: Buffer, at: number, value: number): number {
  let offset = at;
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    packet[offset++] = byte;
  } while (rest > 0);
  return offset;
}

// Bytes of one property value after its identifier; -1 for a value of the wrong type or range.
function valueSize(id: number, value: unknown): number {
  switch (id) {
    case 0x01:
      return typeof value === 'boolean' ? 1 : -1;
    case 0x02:
      return typeof value === 'number' && value >= 0 && value <= 0xffffffff ? 4 : -1;
    case 0x23:
      return typeof value === 'number' && value >= 0 && value <= 0xffff ? 2 : -1;
    case 0x0b:
      return typeof value === 'number' && value >= 0 && value <= 0x0fffffff ? variableIntegerSize(value) : -1;
    case 0x09:
      return Buffer.isBuffer(value) || typeof value === 'string' ? 2 + Buffer.byteLength(value) : -1;
    default:
      return typeof value === 'string' ? 2 + Buffer.byteLength(value) : -1;
  }
}

// Bytes of the properties (their length prefix not included); -1 when they cannot be written here.
function propertiesSize(properties: Properties): number {
  let size = 0;
  const all = properties as Record<string, unknown>;
  for (const name in all) {
    const value = all[name];
    if (value === undefined) continue;
    const id = PROPERTY_IDS[name];
    if (id === undefined) return -1;
    if (id === 0x26) {
      if (typeof value !== 'object' || value === null) return -1;
      const pairs = value as Record<string, unknown>;
      for (const key of Object.getOwnPropertyNames(pairs)) {
        const entry = pairs[key];
        const keySize = 1 + 2 + Buffer.byteLength(key) + 2;
        if (Array.isArray(entry)) for (const one of entry) size += keySize + Buffer.byteLength(String(one));
        else size += keySize + Buffer.byteLength(String(entry));
      }
      continue;
    }
    for (const one of Array.isArray(value) ? (value as unknown[]) : [value]) {
      const bytes = valueSize(id, one);
      if (bytes < 0) return -1;
      size += 1 + bytes;
    }
  }
  return size;
}

function writeString(packet: Buffer, at: number, text: string): number {
  const written = packet.write(text, at + 2);
  packet.writeUInt16BE(written, at);
  return at + 2 + written;
}

function writeProperties(packet: Buffer, at: number, properties: Properties): number {
  let offset = at;
  const all = properties as Record<string, unknown>;
  for (const name in all) {
    const value = all[name];
    if (value === undefined) continue;
    const id = PROPERTY_IDS[name];
    if (id === 0x26) {
      const pairs = value as Record<string, unknown>;
      for (const key of Object.getOwnPropertyNames(pairs)) {
        const entry = pairs[key];
        for (const one of Array.isArray(entry) ? (entry as unknown[]) : [entry]) {
          packet[offset++] = id;
          offset = writeString(packet, offset, key);
          offset = writeString(packet, offset, String(one));
        }
      }
      continue;
    }
    for (const one of Array.isArray(value) ? (value as unknown[]) : [value]) {
      packet[offset++] = id;
      switch (id) {
        case 0x01:
          packet[offset++] = one === true ? 1 : 0;
          break;
        case 0x02:
          packet.writeUInt32BE(one as number, offset);
          offset += 4;
          break;
        case 0x23:
          packet.writeUInt16BE(one as number, offset);
          offset += 2;
          break;
        case 0x0b:
          offset = writeVariableInteger(packet, offset, one as number);
          break;
        case 0x09:
          if (typeof one === 'string') offset = writeString(packet, offset, one);
          else {
            packet.writeUInt16BE((one as Buffer).length, offset);
            offset += 2 + (one as Buffer).copy(packet, offset + 2);
          }
          break;
        default:
          offset = writeString(packet, offset, one as string);
      }
    }
  }
  return offset;
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
