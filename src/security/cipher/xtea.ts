/**
 * XTEA (Needham and Wheeler), 32 cycles, big-endian words: the block cipher of Emitter's V1 licences.
 * Only whole 8-byte blocks in ECB, in place, because that is all a 24-byte key needs.
 */

const DELTA = 0x9e3779b9;
const CYCLES = 32;
/** `DELTA * CYCLES` modulo 2^32: where the decryption sum starts. */
const DECRYPT_SUM = 0xc6ef3720;

/** Reads a 16-byte XTEA key as its four big-endian words. */
export function xteaKey(bytes: Uint8Array): Uint32Array {
  if (bytes.length !== 16) throw new RangeError(`xtea: the key has 16 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  return Uint32Array.of(view.getUint32(0), view.getUint32(4), view.getUint32(8), view.getUint32(12));
}

function checkBlocks(data: Uint8Array): DataView {
  if (data.length % 8 !== 0)
    throw new RangeError(`xtea: data must be whole 8-byte blocks, got ${data.length} bytes`);
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

/** Encrypts `data` in place, each 8-byte block on its own (ECB). */
export function xteaEncrypt(data: Uint8Array, key: Uint32Array): void {
  const view = checkBlocks(data);
  for (let offset = 0; offset < data.length; offset += 8) {
    let y = view.getUint32(offset);
    let z = view.getUint32(offset + 4);
    let sum = 0;
    for (let r = 0; r < CYCLES; r++) {
      y = (y + (((((z << 4) ^ (z >>> 5)) + z) ^ (sum + key[sum & 3])) >>> 0)) >>> 0;
      sum = (sum + DELTA) >>> 0;
      z = (z + (((((y << 4) ^ (y >>> 5)) + y) ^ (sum + key[(sum >>> 11) & 3])) >>> 0)) >>> 0;
    }
    view.setUint32(offset, y);
    view.setUint32(offset + 4, z);
  }
}

/** Decrypts `data` in place, each 8-byte block on its own (ECB). */
export function xteaDecrypt(data: Uint8Array, key: Uint32Array): void {
  const view = checkBlocks(data);
  for (let offset = 0; offset < data.length; offset += 8) {
    let y = view.getUint32(offset);
    let z = view.getUint32(offset + 4);
    let sum = DECRYPT_SUM;
    for (let r = 0; r < CYCLES; r++) {
      z = (z - (((((y << 4) ^ (y >>> 5)) + y) ^ (sum + key[(sum >>> 11) & 3])) >>> 0)) >>> 0;
      sum = (sum - DELTA) >>> 0;
      y = (y - (((((z << 4) ^ (z >>> 5)) + z) ^ (sum + key[sum & 3])) >>> 0)) >>> 0;
    }
    view.setUint32(offset, y);
    view.setUint32(offset + 4, z);
  }
}
