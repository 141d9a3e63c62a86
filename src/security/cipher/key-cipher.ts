/** The contract every licence version's key cipher fulfils. */

import type { ChannelKey } from '../key.js';

/** Turns a channel key into the 32 characters clients send, and back. */
export interface KeyCipher {
  /** Which of Emitter's three ciphers this is, for logs. */
  readonly name: 'xtea' | 'xsalsa20' | 'shuffle';
  /** Encrypts the key's 24 bytes and writes them as 32 base64url characters. */
  encrypt(key: ChannelKey): string;
  /** Decodes and decrypts 32 characters; throws a `SecurityError` (`KeyInvalid`) on malformed text. */
  decrypt(text: string): ChannelKey;
}

/** Checks the size of a cipher's key material, so a bad licence fails when parsed rather than on use. */
export function checkKeyMaterial(cipher: string, what: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length)
    throw new RangeError(`${cipher}: the ${what} has ${length} bytes, got ${bytes.length}`);
}
