/**
 * V2 licences' key cipher: XSalsa20 with the licence's fixed 24-byte nonce, counter 0 (spec 3.3). Every
 * key is XORed with the same 24 keystream bytes, so they are computed once.
 */

import { decodeKeyText, encodeKeyText, KEY_LENGTH } from '../base64.js';
import { ChannelKey } from '../key.js';
import { checkKeyMaterial, type KeyCipher } from './key-cipher.js';
import { xsalsa20Xor } from './salsa20.js';

/** Emitter's V2 cipher over a 32-byte key and a 24-byte nonce. */
export class XSalsa20KeyCipher implements KeyCipher {
  readonly name = 'xsalsa20';
  readonly #keystream: Uint8Array;

  /** Takes the key and salt (used as the nonce) of a V2 licence. */
  constructor(key: Uint8Array, nonce: Uint8Array) {
    checkKeyMaterial('xsalsa20', 'key', key, 32);
    checkKeyMaterial('xsalsa20', 'nonce', nonce, 24);
    this.#keystream = new Uint8Array(KEY_LENGTH);
    xsalsa20Xor(this.#keystream, new Uint8Array(KEY_LENGTH), nonce, key);
  }

  /** XORs the key with the licence keystream. */
  encrypt(key: ChannelKey): string {
    const bytes = key.toBytes();
    this.#xor(bytes);
    return encodeKeyText(bytes);
  }

  /** The same XOR, after decoding. */
  decrypt(text: string): ChannelKey {
    const bytes = decodeKeyText(text);
    this.#xor(bytes);
    return new ChannelKey(bytes);
  }

  #xor(bytes: Uint8Array): void {
    for (let i = 0; i < KEY_LENGTH; i++) bytes[i] ^= this.#keystream[i];
  }
}
