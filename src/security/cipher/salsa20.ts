/**
 * Salsa20/20 and HSalsa20 (Bernstein), as `golang.org/x/crypto/salsa20/salsa` exposes them. Emitter's
 * V2 and V3 key ciphers are built from these; the V3 one needs the 16-byte input block (nonce and
 * initial counter) to be settable, which no packaged XSalsa20 offers.
 */

/** `"expand 32-byte k"` as four little-endian words. */
const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] as const;

/** Bytes of one Salsa20 keystream block. */
export const SALSA20_BLOCK = 64;

function readLE(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24);
}

function writeLE(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value;
  out[offset + 1] = value >>> 8;
  out[offset + 2] = value >>> 16;
  out[offset + 3] = value >>> 24;
}

function checkSizes(input: Uint8Array, key: Uint8Array): void {
  if (input.length !== 16) throw new RangeError(`salsa20: the input block has 16 bytes, got ${input.length}`);
  if (key.length !== 32) throw new RangeError(`salsa20: the key has 32 bytes, got ${key.length}`);
}

// The initial state: constants on the diagonal, key around them, input block in the middle.
function initialState(state: Int32Array, input: Uint8Array, key: Uint8Array): void {
  state[0] = SIGMA[0];
  state[5] = SIGMA[1];
  state[10] = SIGMA[2];
  state[15] = SIGMA[3];
  for (let i = 0; i < 4; i++) {
    state[1 + i] = readLE(key, 4 * i);
    state[11 + i] = readLE(key, 16 + 4 * i);
    state[6 + i] = readLE(input, 4 * i);
  }
}

function quarter(x: Int32Array, a: number, b: number, c: number, d: number): void {
  let u = x[a] + x[d];
  x[b] ^= (u << 7) | (u >>> 25);
  u = x[b] + x[a];
  x[c] ^= (u << 9) | (u >>> 23);
  u = x[c] + x[b];
  x[d] ^= (u << 13) | (u >>> 19);
  u = x[d] + x[c];
  x[a] ^= (u << 18) | (u >>> 14);
}

// 20 rounds: 10 pairs of a column round and a row round.
function rounds(x: Int32Array): void {
  for (let i = 0; i < 10; i++) {
    quarter(x, 0, 4, 8, 12);
    quarter(x, 5, 9, 13, 1);
    quarter(x, 10, 14, 2, 6);
    quarter(x, 15, 3, 7, 11);
    quarter(x, 0, 1, 2, 3);
    quarter(x, 5, 6, 7, 4);
    quarter(x, 10, 11, 8, 9);
    quarter(x, 15, 12, 13, 14);
  }
}

const state = new Int32Array(16);
const working = new Int32Array(16);

/** Writes the 64-byte Salsa20 block for a 16-byte input (nonce ‖ 64-bit LE counter) and a 32-byte key. */
export function salsa20Block(out: Uint8Array, input: Uint8Array, key: Uint8Array): void {
  checkSizes(input, key);
  initialState(state, input, key);
  working.set(state);
  rounds(working);
  for (let i = 0; i < 16; i++) writeLE(out, 4 * i, working[i] + state[i]);
}

/** HSalsa20: derives a 32-byte subkey from a 32-byte key and a 16-byte input (XSalsa20's first step). */
export function hsalsa20(input: Uint8Array, key: Uint8Array): Uint8Array {
  checkSizes(input, key);
  initialState(working, input, key);
  rounds(working);
  // No feed-forward: the output is the diagonal and the input-block words, as the XSalsa20 paper defines.
  const out = new Uint8Array(32);
  const words = [0, 5, 10, 15, 6, 7, 8, 9];
  for (let i = 0; i < 8; i++) writeLE(out, 4 * i, working[words[i]]);
  return out;
}

/**
 * XORs `data` with the Salsa20 keystream into `out` (which may be `data`). `counter` is the whole
 * 16-byte input block: bytes 0..7 the nonce, bytes 8..15 the little-endian block counter to start from,
 * which is what Go's `salsa.XORKeyStream` takes and what Emitter's Shuffle cipher relies on.
 */
export function salsa20XorKeyStream(
  out: Uint8Array,
  data: Uint8Array,
  counter: Uint8Array,
  key: Uint8Array,
): void {
  checkSizes(counter, key);
  if (out.length < data.length) throw new RangeError('salsa20: the output is shorter than the input');
  const block = new Uint8Array(SALSA20_BLOCK);
  const input = Uint8Array.from(counter);
  for (let offset = 0; offset < data.length; offset += SALSA20_BLOCK) {
    salsa20Block(block, input, key);
    const end = Math.min(SALSA20_BLOCK, data.length - offset);
    for (let i = 0; i < end; i++) out[offset + i] = data[offset + i] ^ block[i];
    // Carry through the 64-bit counter the way Go does, so a counter near 2^64 wraps identically.
    let carry = 1;
    for (let i = 8; i < 16 && carry > 0; i++) {
      carry += input[i];
      input[i] = carry;
      carry >>>= 8;
    }
  }
}

/** XSalsa20 (NaCl `crypto_stream_xsalsa20_xor`): a 24-byte nonce, the block counter starting at 0. */
export function xsalsa20Xor(out: Uint8Array, data: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  if (nonce.length !== 24) throw new RangeError(`xsalsa20: the nonce has 24 bytes, got ${nonce.length}`);
  const subkey = hsalsa20(nonce.subarray(0, 16), key);
  const counter = new Uint8Array(16);
  counter.set(nonce.subarray(16, 24));
  salsa20XorKeyStream(out, data, counter, subkey);
}
