/**
 * V3 licences' key cipher, "Shuffle" (spec 3.3): the key's salt (bytes 0 and 1) stays in clear and is
 * mixed into the licence's 16-byte salt; that block derives a subkey with HSalsa20 and is also the
 * Salsa20 input block (nonce and starting counter) whose keystream covers bytes 2..23. Each salt thus
 * gets its own keystream, unlike V2.
 */

import { decodeKeyText, encodeKeyText } from '../base64.js';
import { ChannelKey } from '../key.js';
import { checkKeyMaterial, type KeyCipher } from './key-cipher.js';
import { hsalsa20, salsa20XorKeyStream } from './salsa20.js';

/** Emitter's V3 cipher over a 32-byte key and a 16-byte salt. */
export class ShuffleKeyCipher implements KeyCipher {
  readonly name = 'shuffle';
  readonly #key: Uint8Array;
  readonly #salt: Uint8Array;

  /** Takes the key and salt of a V3 licence. */
  constructor(key: Uint8Array, salt: Uint8Array) {
    checkKeyMaterial('shuffle', 'key', key, 32);
    checkKeyMaterial('shuffle', 'salt', salt, 16);
    this.#key = Uint8Array.from(key);
    this.#salt = Uint8Array.from(salt);
  }

  /** Encrypts bytes 2..23 under the key's own salt. */
  encrypt(key: ChannelKey): string {
    const bytes = key.toBytes();
    this.#crypt(bytes);
    return encodeKeyText(bytes);
  }

  /** Decodes, then applies the same keystream (XOR is its own inverse). */
  decrypt(text: string): ChannelKey {
    const bytes = decodeKeyText(text);
    this.#crypt(bytes);
    return new ChannelKey(bytes);
  }

  #crypt(bytes: Uint8Array): void {
    const block = new Uint8Array(16);
    for (let i = 0; i < 16; i++) block[i] = this.#salt[i] ^ bytes[i & 1];
    const subkey = hsalsa20(block, this.#key);
    const body = bytes.subarray(2);
    salsa20XorKeyStream(body, body, block, subkey);
  }
}
