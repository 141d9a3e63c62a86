/**
 * Emitter's text codecs: channel keys and licences are base64url without padding. Node's own
 * `base64url` decoder skips characters it does not know, which would let `aaaa*` pass as a key, so
 * decoding here is by table and rejects anything outside the alphabet.
 */

import { SecurityError, SecurityErrorCode } from './security-error.js';

/** Characters of an encrypted channel key: 24 bytes, base64url without padding. */
export const KEY_TEXT_LENGTH = 32;
/** Bytes of a channel key, encrypted or not. */
export const KEY_LENGTH = 24;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const INVALID = 0xff;
const DECODE = new Uint8Array(128).fill(INVALID);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function sextet(text: string, index: number, code: SecurityErrorCode): number {
  const c = text.charCodeAt(index);
  const value = c < 128 ? DECODE[c] : INVALID;
  if (value === INVALID) throw new SecurityError(code, `illegal base64 data at input byte ${index}`);
  return value;
}

/** Encodes bytes as base64url without padding (the form of keys and licences). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes base64url without padding, rejecting padding, foreign characters and impossible lengths.
 * Like Go's `RawURLEncoding`, the unused low bits of the last character are not checked, so every
 * licence the Go broker accepts is accepted here.
 */
export function decodeBase64Url(
  text: string,
  code: SecurityErrorCode = SecurityErrorCode.LicenseInvalid,
): Uint8Array {
  const tail = text.length % 4;
  if (tail === 1) throw new SecurityError(code, `illegal base64 data at input byte ${text.length - 1}`);
  const out = new Uint8Array(((text.length - tail) / 4) * 3 + (tail === 0 ? 0 : tail - 1));
  let o = 0;
  let i = 0;
  for (; i + 4 <= text.length; i += 4) {
    const v =
      (sextet(text, i, code) << 18) | (sextet(text, i + 1, code) << 12) | (sextet(text, i + 2, code) << 6);
    const w = v | sextet(text, i + 3, code);
    out[o++] = w >>> 16;
    out[o++] = (w >>> 8) & 0xff;
    out[o++] = w & 0xff;
  }
  if (tail >= 2) {
    const v = (sextet(text, i, code) << 18) | (sextet(text, i + 1, code) << 12);
    out[o++] = v >>> 16;
    if (tail === 3) out[o++] = ((v | (sextet(text, i + 2, code) << 6)) >>> 8) & 0xff;
  }
  return out;
}

/** Decodes the text of a channel key: exactly 32 base64url characters giving 24 bytes. */
export function decodeKeyText(text: string): Uint8Array {
  if (text.length !== KEY_TEXT_LENGTH) {
    throw new SecurityError(SecurityErrorCode.KeyInvalid, 'cipher: the key provided is not valid');
  }
  return decodeBase64Url(text, SecurityErrorCode.KeyInvalid);
}

/** Encodes 24 key bytes as the 32 characters clients put in front of a channel. */
export function encodeKeyText(bytes: Uint8Array): string {
  if (bytes.length !== KEY_LENGTH)
    throw new RangeError(`a channel key has ${KEY_LENGTH} bytes, got ${bytes.length}`);
  return encodeBase64Url(bytes);
}
