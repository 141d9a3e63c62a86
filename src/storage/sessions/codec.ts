/**
 * The binary form of a queued message or a will, shared by the `ssd` and `redis` session stores: one
 * blob per message, so a provider writes it with one value and reads the payload without a copy.
 *
 * Layout: [u8 flags][u16 topic length][topic utf8]([u16 stored id length][stored id])?
 * ([u32 properties length][properties JSON])?([f64 expiresAt])?[payload], flags = qos (bits 0-1), retain
 * (bit 2), stored id present (bit 3), properties present (bit 4), expiry time present (bit 5).
 */

import { StorageError, StorageErrorCode } from '../storage-error.js';
import type { QoS, QueuedMessage, StoredSubscriptionOptions, StoredWill } from './session-store.js';

const RETAIN = 0x04;
const HAS_STORED_ID = 0x08;
const HAS_PROPERTIES = 0x10;
const HAS_EXPIRES_AT = 0x20;

/** What a blob holds: a queued message or a will (whose QoS may be 0). */
export interface MessageFields {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly storedId?: Buffer;
  readonly properties?: Readonly<Record<string, unknown>>;
  /** Unix ms after which a queued message is not delivered. */
  readonly expiresAt?: number;
}

/** Encodes a message or a will into one blob. */
export function encodeMessage(message: MessageFields): Buffer {
  const topicLength = Buffer.byteLength(message.topic);
  const storedId = message.storedId;
  const properties = message.properties === undefined ? undefined : encodeProperties(message.properties);
  let flags = message.qos & 0x03;
  if (message.retain) flags |= RETAIN;
  let size = 3 + topicLength + message.payload.length;
  if (storedId !== undefined) {
    flags |= HAS_STORED_ID;
    size += 2 + storedId.length;
  }
  if (properties !== undefined) {
    flags |= HAS_PROPERTIES;
    size += 4 + properties.length;
  }
  const expiresAt = message.expiresAt;
  if (expiresAt !== undefined) {
    flags |= HAS_EXPIRES_AT;
    size += 8;
  }
  const blob = Buffer.allocUnsafe(size);
  blob[0] = flags;
  blob.writeUInt16BE(topicLength, 1);
  let at = 3 + blob.write(message.topic, 3, 'utf8');
  if (storedId !== undefined) {
    at = blob.writeUInt16BE(storedId.length, at);
    at += storedId.copy(blob, at);
  }
  if (properties !== undefined) {
    at = blob.writeUInt32BE(properties.length, at);
    at += properties.copy(blob, at);
  }
  if (expiresAt !== undefined) at = blob.writeDoubleBE(expiresAt, at);
  message.payload.copy(blob, at);
  return blob;
}

/** Decodes a blob of `encodeMessage`; the payload shares the blob's memory. Throws `Corrupt` when damaged. */
export function decodeMessage(blob: Buffer): MessageFields {
  const damaged = (): StorageError =>
    new StorageError(StorageErrorCode.Corrupt, 'session store: a stored message is damaged');
  if (blob.length < 3) throw damaged();
  const flags = blob[0];
  const topicEnd = 3 + blob.readUInt16BE(1);
  if (blob.length < topicEnd) throw damaged();
  const topic = blob.toString('utf8', 3, topicEnd);
  let at = topicEnd;
  let storedId: Buffer | undefined;
  if ((flags & HAS_STORED_ID) !== 0) {
    if (blob.length < at + 2) throw damaged();
    const end = at + 2 + blob.readUInt16BE(at);
    if (blob.length < end) throw damaged();
    storedId = blob.subarray(at + 2, end);
    at = end;
  }
  let properties: Record<string, unknown> | undefined;
  if ((flags & HAS_PROPERTIES) !== 0) {
    if (blob.length < at + 4) throw damaged();
    const end = at + 4 + blob.readUInt32BE(at);
    if (blob.length < end) throw damaged();
    properties = decodeProperties(blob.toString('utf8', at + 4, end));
    at = end;
  }
  let expiresAt: number | undefined;
  if ((flags & HAS_EXPIRES_AT) !== 0) {
    if (blob.length < at + 8) throw damaged();
    expiresAt = blob.readDoubleBE(at);
    at += 8;
  }
  const message: {
    topic: string;
    payload: Buffer;
    qos: QoS;
    retain: boolean;
    storedId?: Buffer;
    properties?: Record<string, unknown>;
    expiresAt?: number;
  } = { topic, payload: blob.subarray(at), qos: (flags & 0x03) as QoS, retain: (flags & RETAIN) !== 0 };
  if (storedId !== undefined) message.storedId = storedId;
  if (properties !== undefined) message.properties = properties;
  if (expiresAt !== undefined) message.expiresAt = expiresAt;
  return message;
}

/** A queued message from its blob. */
export function decodeQueuedMessage(blob: Buffer): QueuedMessage {
  return decodeMessage(blob) as QueuedMessage;
}

/** A will from its blob. */
export function decodeWill(blob: Buffer): StoredWill {
  const { storedId: _unused, expiresAt: _none, ...will } = decodeMessage(blob);
  return will;
}

/** Subscription options as text (JSON), undefined when there are none. */
export function encodeOptions(options: StoredSubscriptionOptions | undefined): string | undefined {
  return options === undefined ? undefined : JSON.stringify(options);
}

/** Subscription options from `encodeOptions`' text. */
export function decodeOptions(text: string): StoredSubscriptionOptions {
  return JSON.parse(text) as StoredSubscriptionOptions;
}

// Properties are JSON values and Buffers (MQTT 5 correlation and authentication data): a Buffer is
// written as {"$buffer": "<base64>"}, a shape no MQTT 5 property has.
function encodeProperties(properties: Readonly<Record<string, unknown>>): Buffer {
  return Buffer.from(
    JSON.stringify(properties, function (this: Record<string, unknown>, key: string, value: unknown) {
      const raw = this[key];
      return Buffer.isBuffer(raw) ? { $buffer: raw.toString('base64') } : value;
    }),
  );
}

function decodeProperties(text: string): Record<string, unknown> {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      const encoded = (value as { $buffer?: unknown }).$buffer;
      if (keys.length === 1 && typeof encoded === 'string') return Buffer.from(encoded, 'base64');
    }
    return value;
  }) as Record<string, unknown>;
}
