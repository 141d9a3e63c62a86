/**
 * Stored messages and their ids (spec 7.2). Emitter's id puts the partition first and inverts time so
 * Badger scans newest first; ours keeps time first, not inverted, so that comparing two ids byte by byte
 * orders them by (time, sequence) across every channel. That makes an id a valid `startFromID` bound
 * for any query, wildcards included, and lets SQLite compare ids as BLOBs.
 *
 * Id layout, 16 bytes, big-endian:
 * | bytes  | content                                                                     |
 * |--------|-----------------------------------------------------------------------------|
 * | 0..7   | unix time in milliseconds (uint64; the top two bytes stay 0 until year 10889) |
 * | 8..11  | sequence: a per-generator counter, +1 per message (wraps at 2^32)            |
 * | 12..15 | instance: random, chosen once per generator (breaks ties between processes)  |
 */

import { randomInt } from 'node:crypto';
import { RETAINED_TTL } from '../channel/options.js';
import type { Ssid } from '../channel/ssid.js';

export type { Ssid } from '../channel/ssid.js';

/** A message as storage keeps it; order is by `id`, which is the order of (time, sequence). */
export interface StoredMessage {
  /** Opaque 16-byte id (see the module comment); base64 in history JSON, the `startFromID` of a page. */
  readonly id: Buffer;
  /** `[contract, hash(level1), ...]` of the channel the message was published on. */
  readonly ssid: Ssid;
  /** The channel text without key or options, with its trailing slash: `a/b/c/`. */
  readonly channel: string;
  /** The payload bytes as published. */
  readonly payload: Buffer;
  /** Publish time, unix milliseconds (the same value as in the id). */
  readonly time: number;
  /** Unix seconds after which the message is gone; 0 means it never expires. */
  readonly expires: number;
  /**
   * MQTT 5 PUBLISH properties it was published with, as their wire block (`encodePublishProperties`):
   * opaque to storage, kept and returned byte for byte; absent for a message without any.
   */
  readonly properties?: Buffer;
}

/** Size of a message id in bytes. */
export const MESSAGE_ID_LENGTH = 16;

/** Emitter's retention for retained messages when `storage.config.retain` is not set (30 days). */
export const DEFAULT_RETAIN_SECONDS = 2_592_000;

const UINT32 = 0x1_0000_0000;

/** The fields of a message id. */
export interface MessageIdFields {
  /** Unix milliseconds. */
  readonly time: number;
  /** Per-generator counter. */
  readonly sequence: number;
  /** Random per-generator instance number. */
  readonly instance: number;
}

/** Options of a `MessageIdGenerator`. */
export interface MessageIdGeneratorOptions {
  /** Clock in unix milliseconds; default `Date.now`. */
  readonly now?: () => number;
  /** Instance number written in every id; default random. */
  readonly instance?: number;
}

/**
 * Makes ids that strictly increase: the sequence grows by one per id and the time never goes back,
 * even when the clock does, so ids from one generator sort in creation order.
 */
export class MessageIdGenerator {
  private readonly now: () => number;
  private readonly instance: number;
  private sequence = 0;
  private lastTime = 0;

  constructor(options: MessageIdGeneratorOptions = {}) {
    this.now = options.now ?? Date.now;
    this.instance = (options.instance ?? randomInt(0, 0xffff_ffff)) >>> 0;
  }

  /** A new id; `time` (unix ms) replaces the clock, for imports and tests, and may go back. */
  next(time?: number): Buffer {
    let at: number;
    if (time === undefined) {
      at = Math.max(Math.floor(this.now()), this.lastTime);
      this.lastTime = at;
    } else {
      at = Math.floor(time);
    }
    this.sequence = (this.sequence + 1) % UINT32;
    return encodeMessageId({ time: at, sequence: this.sequence, instance: this.instance });
  }
}

/** Writes the 16-byte id of the given fields. */
export function encodeMessageId(fields: MessageIdFields): Buffer {
  const id = Buffer.allocUnsafe(MESSAGE_ID_LENGTH);
  writeTime(id, fields.time);
  id.writeUInt32BE(fields.sequence >>> 0, 8);
  id.writeUInt32BE(fields.instance >>> 0, 12);
  return id;
}

/** The fields of an id, or `undefined` when it is not one of ours (wrong length or time out of range). */
export function parseMessageId(id: Uint8Array): MessageIdFields | undefined {
  if (id.length !== MESSAGE_ID_LENGTH || id[0] !== 0 || id[1] !== 0) return undefined;
  const view = Buffer.from(id.buffer, id.byteOffset, id.byteLength);
  return { time: messageIdTime(view), sequence: view.readUInt32BE(8), instance: view.readUInt32BE(12) };
}

/** The unix-ms time in an id (no validation: use `parseMessageId` on untrusted input). */
export function messageIdTime(id: Buffer): number {
  return id.readUIntBE(2, 6);
}

/** Orders ids: negative when `a` is older than `b`. Plain byte order, like the ssd provider's BLOBs. */
export function compareMessageIds(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** The smallest id at `time` (unix ms): every id at or after `time` compares >= it. */
export function messageIdAt(time: number): Buffer {
  const id = Buffer.alloc(MESSAGE_ID_LENGTH);
  writeTime(id, time);
  return id;
}

/** Standard base64 of an id, as the history reply carries it. */
export function messageIdToBase64(id: Buffer): string {
  return id.toString('base64');
}

/** The id in a history request's `startFromID`, or `undefined` when the text is not one of our ids. */
export function messageIdFromBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const id = Buffer.from(text, 'base64');
  return parseMessageId(id) === undefined ? undefined : id;
}

/**
 * The `expires` of a message published at `time` (unix ms) with `ttl` seconds: 0 for no ttl, the
 * storage's `retain` period for Emitter's RETAINED_TTL. Rounds up, so a message lives at least `ttl` s.
 */
export function expiresAt(time: number, ttl: number, retain: number = DEFAULT_RETAIN_SECONDS): number {
  if (!(ttl > 0)) return 0;
  const seconds = ttl >= RETAINED_TTL ? retain : ttl;
  return Math.ceil(time / 1000) + Math.floor(seconds);
}

/** True when a message with this `expires` is gone at `now` (unix ms). */
export function isExpired(expires: number, now: number): boolean {
  return expires !== 0 && expires <= Math.floor(now / 1000);
}

/** What a publish provides to build a stored message. */
export interface NewMessage {
  readonly ssid: Ssid;
  readonly channel: string;
  readonly payload: Buffer;
  /** Seconds to keep it (`messageTtl(options, retainFlag)`); RETAINED_TTL means the `retain` setting. */
  readonly ttl: number;
  /** Publish time in unix ms; default the generator's clock. */
  readonly time?: number;
  /** MQTT 5 properties as their wire block, when it has any. */
  readonly properties?: Buffer;
}

/** Context of `createMessage`. */
export interface CreateMessageOptions {
  /** The storage's retention for RETAINED_TTL, in seconds (`storage.retain`); default 30 days. */
  readonly retain?: number;
  /** Where ids come from; default one generator per process. */
  readonly ids?: MessageIdGenerator;
}

const defaultIds = new MessageIdGenerator();

/**
 * Builds the message to `store()`: a new id, its time, and `expires` from `ttl` (pass the storage's
 * `retain` so RETAINED_TTL becomes that period).
 */
export function createMessage(init: NewMessage, options: CreateMessageOptions = {}): StoredMessage {
  const id = (options.ids ?? defaultIds).next(init.time);
  const time = messageIdTime(id);
  const message = {
    id,
    ssid: init.ssid,
    channel: init.channel,
    payload: init.payload,
    time,
    expires: expiresAt(time, init.ttl, options.retain),
  };
  return init.properties === undefined ? message : { ...message, properties: init.properties };
}

/** Bytes a message counts for against a query's `maxQueryBytes` (Emitter: payload + id + channel). */
export function messageQueryBytes(message: StoredMessage): number {
  return message.payload.length + message.id.length + message.channel.length;
}

function writeTime(id: Buffer, time: number): void {
  if (!Number.isSafeInteger(time) || time < 0 || time > 0xffff_ffff_ffff) {
    throw new RangeError(`message time ${time} is not a unix millisecond time`);
  }
  id[0] = 0;
  id[1] = 0;
  id.writeUIntBE(time, 2, 6);
}
