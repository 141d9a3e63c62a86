/**
 * The text of Emitter licences (spec 3.1): V1 is 32 fixed bytes; V2 and V3 are a kelindar/binary
 * struct (uvarint-prefixed byte slices, uvarint integers) in a snappy block. This module only converts
 * between text and fields; `license.ts` gives the fields meaning.
 */

import { compress, uncompress } from 'snappyjs';
import { decodeBase64Url, encodeBase64Url } from './base64.js';
import { SecurityError, SecurityErrorCode } from './security-error.js';

/** The three licence formats, named by the suffix that selects them. */
export const LicenseVersion = { V1: 1, V2: 2, V3: 3 } as const;
/** One of the `LicenseVersion` values. */
export type LicenseVersion = (typeof LicenseVersion)[keyof typeof LicenseVersion];

/** Everything a licence string holds; fields a version lacks are empty or 0. */
export interface LicenseFields {
  readonly version: LicenseVersion;
  /** Cipher key: 16 bytes (V1), 32 bytes (V2, V3). */
  readonly key: Uint8Array;
  /** Cipher nonce or salt: none (V1), 24 bytes (V2), 16 bytes (V3). */
  readonly salt: Uint8Array;
  /** Contract id (Go: `User`). */
  readonly contract: number;
  /** Contract signature (Go: `Sign`). */
  readonly signature: number;
  /** Master key index (V2, V3; V1 has none and reads as 1). */
  readonly index: number;
  /** V1 only: expiry in unix seconds, 0 for none (parsed, never enforced, as in Emitter). */
  readonly expires: number;
  /** V1 only: 1 cloud, 2 on-premise (parsed, never enforced). */
  readonly type: number;
}

/** The message Emitter prints when there is no licence at all. */
export const NO_LICENSE_MESSAGE =
  "No license was found, please provide a valid license key through the configuration file, an EMITTER_LICENSE environment variable or a valid vault key 'secrets/emitter/license'";

const V1_LENGTH = 32;
const KEY_EPOCH = 1262304000;
// A V2/V3 body is about 70 bytes; the cap keeps a forged length header from allocating megabytes.
const MAX_BODY = 1024;

function invalid(message: string): SecurityError {
  return new SecurityError(SecurityErrorCode.LicenseInvalid, `license: ${message}`);
}

/** Decodes a licence string of any version; throws a `SecurityError` when it is missing or malformed. */
export function decodeLicenseText(text: string): LicenseFields {
  if (text.length < 5) throw new SecurityError(SecurityErrorCode.LicenseMissing, NO_LICENSE_MESSAGE);
  const suffix = text.slice(-2);
  if (suffix === ':2') return decodeBody(LicenseVersion.V2, text.slice(0, -2));
  if (suffix === ':3') return decodeBody(LicenseVersion.V3, text.slice(0, -2));
  // No suffix is V1 too: the first licences were written without one.
  return decodeV1(suffix === ':1' ? text.slice(0, -2) : text);
}

/** Writes a licence string with its version suffix, as Emitter's `String()` does. */
export function encodeLicenseText(fields: LicenseFields): string {
  if (fields.version === LicenseVersion.V1) return encodeV1(fields);
  const body = new BodyWriter();
  body.bytes(fields.key);
  body.bytes(fields.salt);
  body.uint(fields.contract);
  body.uint(fields.signature);
  body.uint(fields.index);
  return `${encodeBase64Url(compress(body.finish()))}:${fields.version}`;
}

function decodeV1(text: string): LicenseFields {
  const raw = decodeBase64Url(text);
  // Go reads the first 32 bytes and ignores any more, so a longer string still parses.
  if (raw.length < V1_LENGTH) throw invalid(`a v1 licence has ${V1_LENGTH} bytes, got ${raw.length}`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const expiry = view.getUint32(24);
  return {
    version: LicenseVersion.V1,
    key: raw.slice(0, 16),
    salt: new Uint8Array(0),
    contract: view.getUint32(16),
    signature: view.getUint32(20),
    index: 1,
    expires: expiry === 0 ? 0 : KEY_EPOCH + expiry,
    type: view.getUint32(28),
  };
}

function encodeV1(fields: LicenseFields): string {
  if (fields.key.length !== 16)
    throw new RangeError(`a v1 licence key has 16 bytes, got ${fields.key.length}`);
  const raw = new Uint8Array(V1_LENGTH);
  const view = new DataView(raw.buffer);
  raw.set(fields.key);
  view.setUint32(16, fields.contract);
  view.setUint32(20, fields.signature);
  view.setUint32(24, fields.expires === 0 ? 0 : fields.expires - KEY_EPOCH);
  view.setUint32(28, fields.type);
  return `${encodeBase64Url(raw)}:1`;
}

function decodeBody(version: LicenseVersion, text: string): LicenseFields {
  const compressed = decodeBase64Url(text);
  const length = snappyBlockLength(compressed);
  if (length === undefined || length > MAX_BODY) throw invalid('the snappy block is corrupt');
  let raw: Uint8Array;
  try {
    raw = uncompress(compressed, MAX_BODY);
  } catch (error) {
    throw invalid(`the snappy block is corrupt (${(error as Error).message})`);
  }
  // Like kelindar/binary's Unmarshal, bytes after the last field are ignored.
  const body = new BodyReader(raw);
  return {
    version,
    key: body.bytes(),
    salt: body.bytes(),
    contract: body.uint(),
    signature: body.uint(),
    index: body.uint(),
    expires: 0,
    type: 0,
  };
}

/**
 * Walks a snappy block's elements and returns the length they produce, or undefined when an element is
 * truncated, a copy reaches before the start, or the total differs from the header. `snappyjs` checks
 * neither of the last two, and Go's decoder rejects both.
 */
export function snappyBlockLength(block: Uint8Array): number | undefined {
  const header = readUvarint(block, 0);
  if (header === undefined || header.value > 0xffffffff) return undefined;
  let pos = header.next;
  let out = 0;
  while (pos < block.length) {
    const tag = block[pos++];
    let length = tag >>> 2;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        if (length >= 60) {
          const extra = length - 59;
          if (pos + extra > block.length) return undefined;
          length = 0;
          for (let i = extra - 1; i >= 0; i--) length = length * 256 + block[pos + i];
          pos += extra;
        }
        length += 1;
        if (pos + length > block.length) return undefined;
        pos += length;
        out += length;
        continue;
      }
      case 1:
        if (pos + 1 > block.length) return undefined;
        length = 4 + (length & 7);
        offset = ((tag >>> 5) << 8) | block[pos];
        pos += 1;
        break;
      case 2:
        if (pos + 2 > block.length) return undefined;
        length += 1;
        offset = block[pos] | (block[pos + 1] << 8);
        pos += 2;
        break;
      default:
        if (pos + 4 > block.length) return undefined;
        length += 1;
        offset = (block[pos] | (block[pos + 1] << 8) | (block[pos + 2] << 16) | (block[pos + 3] << 24)) >>> 0;
        pos += 4;
    }
    if (offset === 0 || offset > out) return undefined;
    out += length;
  }
  return out === header.value ? out : undefined;
}

function readUvarint(bytes: Uint8Array, start: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let pos = start; pos < bytes.length && pos - start < 10; pos++) {
    const byte = bytes[pos];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: pos + 1 };
    scale *= 128;
  }
  return undefined;
}

class BodyReader {
  #pos = 0;
  constructor(readonly raw: Uint8Array) {}

  uint(): number {
    const read = readUvarint(this.raw, this.#pos);
    if (read === undefined) throw invalid('the licence body is truncated');
    // Go would truncate a wider value into the uint32 field; no licence it writes has one.
    if (read.value > 0xffffffff) throw invalid('a licence field is wider than 32 bits');
    this.#pos = read.next;
    return read.value;
  }

  bytes(): Uint8Array {
    const length = this.uint();
    if (this.#pos + length > this.raw.length) throw invalid('the licence body is truncated');
    const out = this.raw.slice(this.#pos, this.#pos + length);
    this.#pos += length;
    return out;
  }
}

class BodyWriter {
  readonly #out: number[] = [];

  uint(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw new RangeError(`not a uint32: ${value}`);
    let rest = value;
    while (rest >= 0x80) {
      this.#out.push((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    this.#out.push(rest);
  }

  bytes(value: Uint8Array): void {
    this.uint(value.length);
    for (const byte of value) this.#out.push(byte);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.#out);
  }
}
