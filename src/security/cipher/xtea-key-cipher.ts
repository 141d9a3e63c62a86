/**
 * V1 licences' key cipher: the key is whitened with its own salt (bytes 0 and 1, XORed into every later
 * byte pair), then its three 8-byte blocks are XTEA-encrypted on their own (spec 3.3).
 */

import { decodeKeyText, encodeKeyText } from '../base64.js';
import { ChannelKey } from '../key.js';
import { checkKeyMaterial, type KeyCipher } from './key-cipher.js';
import { xteaDecrypt, xteaEncrypt, xteaKey } from './xtea.js';

/** Emitter's V1 cipher over a 16-byte XTEA key. */
export class XteaKeyCipher implements KeyCipher {
  readonly name = 'xtea';
  readonly #key: Uint32Array;

  /** Takes the 16 key bytes of a V1 licence. */
  constructor(key: Uint8Array) {
    checkKeyMaterial('xtea', 'key', key, 16);
    this.#key = xteaKey(key);
  }

  /** Whitens, then encrypts. */
  encrypt(key: ChannelKey): string {
    const bytes = key.toBytes();
    whiten(bytes);
    xteaEncrypt(bytes, this.#key);
    return encodeKeyText(bytes);
  }

  /** Decrypts, then removes the whitening with the salt the decryption revealed. */
  decrypt(text: string): ChannelKey {
    const bytes = decodeKeyText(text);
    xteaDecrypt(bytes, this.#key);
    whiten(bytes);
    return new ChannelKey(bytes);
  }
}

// XOR with the salt pair is its own inverse, so one function whitens and unwhitens.
function whiten(bytes: Uint8Array): void {
  for (let i = 2; i < bytes.length; i += 2) {
    bytes[i] ^= bytes[0];
    bytes[i + 1] ^= bytes[1];
  }
}
