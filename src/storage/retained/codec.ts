/**
 * The binary form of a retained message for the `ssd` and `redis` retained stores: [f64 expiresAt] and
 * the session store's message blob (topic, QoS, properties, payload).
 */

import { decodeMessage, encodeMessage } from '../sessions/codec.js';
import { StorageError, StorageErrorCode } from '../storage-error.js';
import type { RetainedMessage } from './retained-store.js';

/** Encodes a retained message into one blob. */
export function encodeRetained(message: RetainedMessage): Buffer {
  const head = Buffer.allocUnsafe(8);
  head.writeDoubleBE(message.expiresAt, 0);
  return Buffer.concat([
    head,
    encodeMessage({
      topic: message.topic,
      payload: message.payload,
      qos: message.qos,
      retain: true,
      ...(message.properties === undefined ? {} : { properties: message.properties }),
    }),
  ]);
}

/** Decodes a blob of `encodeRetained`; throws a `StorageError` (Corrupt) when damaged. */
export function decodeRetained(blob: Buffer): RetainedMessage {
  if (blob.length < 8)
    throw new StorageError(StorageErrorCode.Corrupt, 'retained store: a stored message is damaged');
  const { topic, payload, qos, properties } = decodeMessage(blob.subarray(8));
  return {
    topic,
    payload,
    qos,
    expiresAt: blob.readDoubleBE(0),
    ...(properties === undefined ? {} : { properties }),
  };
}
