/**
 * A channel key in clear: 24 bytes with named fields (spec 3.2), its target encoding and the check of a
 * channel against that target (spec 3.5). Ciphers turn it into and out of the 32 characters clients send.
 */

import { timingSafeEqual } from 'node:crypto';
import { hashLevel } from '../channel/hash.js';
import { EmitterError, Errors } from '../errors.js';
import { KEY_LENGTH } from './base64.js';
import { Permission } from './permissions.js';

/** Key expiry is stored as seconds since 2010-01-01T00:00:00Z; this is that instant in unix seconds. */
export const KEY_EPOCH = 1262304000;
/** The most levels a key target can fix (a 24-bit path mask less its strict bit). */
export const MAX_TARGET_LEVELS = 23;
/** The path mask bit saying the key is for exactly its target's depth (no `#/`). */
const STRICT_BIT = 1 << 23;
/** `hashLevel('')`: the target hash of `#/`, the key that opens every channel. */
const OPEN_TARGET_HASH = 1325880984;
const SLASH = 0x2f;

/** The two key fields a target sets: the 24-bit path mask and the hash of the levels. */
export interface TargetEncoding {
  readonly path: number;
  readonly hash: number;
}

/** Encodes a keygen channel (`a/b/`, `a/+/c/`, `a/#/`) as Emitter's `SetTarget` does, or says why not. */
export function encodeTarget(channel: string): TargetEncoding | EmitterError {
  if (channel.charCodeAt(channel.length - 1) !== SLASH) return Errors.TargetInvalid;
  // Every trailing slash goes, as Go's TrimRight does: `a//` is the target `a`. A loop, not /\/+$/,
  // because that regex backtracks quadratically on long slash runs.
  let end = channel.length;
  while (end > 0 && channel.charCodeAt(end - 1) === SLASH) end--;
  const parts = channel.slice(0, end).split('/');
  let path = STRICT_BIT;
  if (parts[parts.length - 1] === '#') {
    parts.pop();
    path = 0;
  }
  if (parts.length > MAX_TARGET_LEVELS) return Errors.TargetTooLong;
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] !== '+' && parts[i] !== '#') path |= 1 << (22 - i);
  }
  return { path, hash: hashLevel(parts.join('/')) };
}

function checkUint(value: number, bits: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new RangeError(`${field} must be an unsigned ${bits}-bit integer, got ${value}`);
  }
}

/** A channel key in clear, over its 24 bytes; `freeze()` makes it read-only for sharing from caches. */
export class ChannelKey {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #frozen = false;

  /** A key of 24 zero bytes, or a copy of the given 24 bytes. */
  constructor(bytes?: Uint8Array) {
    if (bytes && bytes.length !== KEY_LENGTH) {
      throw new RangeError(`a channel key has ${KEY_LENGTH} bytes, got ${bytes.length}`);
    }
    this.#bytes = bytes ? Uint8Array.from(bytes) : new Uint8Array(KEY_LENGTH);
    this.#view = new DataView(this.#bytes.buffer);
  }

  /** Random in [0, 32767) when generated; it varies the ciphertext of otherwise equal keys. */
  get salt(): number {
    return this.#view.getUint16(0);
  }
  set salt(value: number) {
    checkUint(value, 16, 'salt');
    this.#writable().setUint16(0, value);
  }

  /** The master key index it descends from; 1 in every contract Emitter makes. */
  get masterId(): number {
    return this.#view.getUint16(2);
  }
  set masterId(value: number) {
    checkUint(value, 16, 'masterId');
    this.#writable().setUint16(2, value);
  }

  /** The contract (licence user) id. */
  get contract(): number {
    return this.#view.getUint32(4);
  }
  set contract(value: number) {
    checkUint(value, 32, 'contract');
    this.#writable().setUint32(4, value);
  }

  /** The contract's signature; proves the key was made with the licence's secret key. */
  get signature(): number {
    return this.#view.getUint32(8);
  }
  set signature(value: number) {
    checkUint(value, 32, 'signature');
    this.#writable().setUint32(8, value);
  }

  /** The 24-bit target mask: bit 23 strict, bit 22 - i set when level i is fixed; 0 for legacy keys. */
  get targetPath(): number {
    return (this.#view.getUint16(12) << 8) | this.#bytes[14];
  }
  set targetPath(value: number) {
    checkUint(value, 24, 'targetPath');
    this.#writable().setUint16(12, value >>> 8);
    this.#bytes[14] = value & 0xff;
  }

  /** The permission byte (`Permission` bits). */
  get permissions(): number {
    return this.#bytes[15];
  }
  set permissions(value: number) {
    checkUint(value, 8, 'permissions');
    this.#writable().setUint8(15, value);
  }

  /** `hashLevel` of the target levels joined by `/`, wildcard levels written as `+`. */
  get targetHash(): number {
    return this.#view.getUint32(16);
  }
  set targetHash(value: number) {
    checkUint(value, 32, 'targetHash');
    this.#writable().setUint32(16, value);
  }

  /** Expiry in unix seconds, 0 for never. */
  get expires(): number {
    const stored = this.#view.getUint32(20);
    return stored === 0 ? 0 : KEY_EPOCH + stored;
  }
  set expires(unixSeconds: number) {
    // Go would wrap a pre-2010 instant into a far-future expiry; refuse it instead (and the epoch
    // itself, which would be stored as 0 and read back as "never").
    const stored = unixSeconds - KEY_EPOCH;
    if (unixSeconds !== 0 && (!Number.isInteger(stored) || stored < 1 || stored > 0xffffffff)) {
      throw new RangeError(`expires must be 0 or unix seconds after ${KEY_EPOCH}, got ${unixSeconds}`);
    }
    this.#writable().setUint32(20, unixSeconds === 0 ? 0 : unixSeconds - KEY_EPOCH);
  }

  /** Whether the key is read-only (cached keys are frozen; `clone()` one to change it). */
  get frozen(): boolean {
    return this.#frozen;
  }

  /** Makes every setter throw from now on; the bytes are private, so this makes the key immutable. */
  freeze(): this {
    this.#frozen = true;
    return this;
  }

  /** A mutable copy. */
  clone(): ChannelKey {
    return new ChannelKey(this.#bytes);
  }

  /** A copy of the 24 plaintext bytes. */
  toBytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  /** Whether both keys have the same 24 bytes. */
  equals(other: ChannelKey): boolean {
    return Buffer.compare(this.#bytes, other.#bytes) === 0;
  }

  /**
   * Whether both keys carry the same master id, contract and signature (bytes 2..11). The signature is
   * the licence's secret, so this compares in constant time.
   */
  sameOwner(other: ChannelKey): boolean {
    return timingSafeEqual(this.#bytes.subarray(2, 12), other.#bytes.subarray(2, 12));
  }

  /** Whether every bit of `bits` is granted (`(permissions & bits) == bits`, so 0 always is). */
  hasPermission(bits: number): boolean {
    return (this.#bytes[15] & bits) === bits;
  }

  /** Sets or clears permission bits. */
  setPermission(bits: number, granted: boolean): this {
    this.permissions = granted ? this.permissions | bits : this.permissions & ~bits & 0xff;
    return this;
  }

  /** Whether this is a secret (master) key: its permissions are exactly the master bit. */
  isMaster(): boolean {
    return this.#bytes[15] === Permission.Master;
  }

  /** Whether the key has an expiry and it is before `nowSeconds` (default: now). */
  isExpired(nowSeconds: number = Date.now() / 1000): boolean {
    const expires = this.expires;
    return expires !== 0 && expires < nowSeconds;
  }

  /** Sets the target mask and hash from a keygen channel; throws `Errors.TargetInvalid` or `TargetTooLong`. */
  setTarget(channel: string): this {
    const target = encodeTarget(channel);
    if (target instanceof EmitterError) throw target;
    this.targetPath = target.path;
    this.targetHash = target.hash;
    return this;
  }

  /**
   * Whether the key grants the channel (`a/b/c/`, no key, no options): Emitter's `ValidateChannel`,
   * quirks included, so every key keeps opening exactly the channels it opens on the Go broker.
   */
  validateChannel(channel: string): boolean {
    if (channel.length === 0) return false;
    const target = this.targetHash;
    const path = this.targetPath;
    if (path === 0) {
      // Keys from before the path mask (and `#/` keys) only pin the first level, if anything.
      if (target === OPEN_TARGET_HASH) return true;
      const slash = channel.indexOf('/');
      return target === hashLevel(slash < 0 ? channel : channel.slice(0, slash));
    }
    const topic = channel.charCodeAt(channel.length - 1) === SLASH ? channel.slice(0, -1) : channel;
    const parts = topic.split('/');
    // `a/b/#/` is checked like `a/b/`: the wildcard adds no level the key must fix.
    if (parts[parts.length - 1] === '#') parts.pop();
    let maxDepth = 0;
    for (let bit = 0; bit < MAX_TARGET_LEVELS; bit++) {
      if ((path >>> bit) & 1) {
        maxDepth = MAX_TARGET_LEVELS - bit;
        break;
      }
    }
    // An all-`+` target fixes no level: it accepts any channel as deep as it is.
    if (maxDepth === 0) maxDepth = parts.length;
    const strict = (path & STRICT_BIT) !== 0;
    if (parts.length < maxDepth || (strict && parts.length !== maxDepth)) return false;
    for (let i = 0; i < maxDepth; i++) {
      // Levels past 22 have no bit; JS shifts are mod 32, so test the range rather than shift.
      const fixed = i <= 22 && ((path >>> (22 - i)) & 1) === 1;
      if (!fixed) parts[i] = '+';
      else if (parts[i] === '+') return false;
    }
    return hashLevel(parts.slice(0, maxDepth).join('/')) === target;
  }

  #writable(): DataView {
    if (this.#frozen) throw new TypeError('this channel key is frozen; clone() it to change it');
    return this.#view;
  }
}
