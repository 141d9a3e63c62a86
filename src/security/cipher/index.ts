/** Emitter's key ciphers and the primitives they are made of. */

export { type KeyCipher } from './key-cipher.js';
export { XteaKeyCipher } from './xtea-key-cipher.js';
export { XSalsa20KeyCipher } from './xsalsa20-key-cipher.js';
export { ShuffleKeyCipher } from './shuffle-key-cipher.js';
export { hsalsa20, salsa20Block, salsa20XorKeyStream, xsalsa20Xor, SALSA20_BLOCK } from './salsa20.js';
export { xteaDecrypt, xteaEncrypt, xteaKey } from './xtea.js';
