/**
 * Emitter's level hash: MurmurHash3 x86 32-bit with seed 37, whose result is byte-swapped.
 * Every channel level is hashed on its own; the sequence of hashes (after the contract id) is the SSID.
 */

const SEED = 37;
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const encoder = new TextEncoder();

/** Hashes a channel level (or any text) the way Emitter does; returns an unsigned 32-bit integer. */
export function hashLevel(input: string | Uint8Array): number {
  const data = typeof input === 'string' ? asciiOrUtf8(input) : input;
  const length = data.length;
  const blocks = length & ~3;
  let h = SEED;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail > 0) {
    let k = data[blocks];
    if (tail > 1) k ^= data[blocks + 1] << 8;
    if (tail > 2) k ^= data[blocks + 2] << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  // Emitter reads the murmur digest as big-endian bytes: swap to match its numbers.
  return (((h & 0xff) << 24) | ((h & 0xff00) << 8) | ((h >>> 8) & 0xff00) | ((h >>> 24) & 0xff)) >>> 0;
}

// Channel levels are ASCII by grammar; skip the encoder for them (this runs on every publish).
const scratch = new Uint8Array(256);
function asciiOrUtf8(text: string): Uint8Array {
  if (text.length > scratch.length) return encoder.encode(text);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return encoder.encode(text);
    scratch[i] = code;
  }
  return scratch.subarray(0, text.length);
}

/** Well-known hashes used to build internal SSIDs. */
export const WellKnownHash = {
  wildcard: hashLevel('+'),
  multiWildcard: hashLevel('#'),
  share: hashLevel('$share'),
  presence: hashLevel('presence'),
  empty: hashLevel(''),
} as const;

/**
 * Levels that mark plain MQTT subscriptions in an SSID (README "Plain MQTT clients"). Their texts hold a
 * NUL, which no topic level can (MQTT forbids U+0000, Emitter's grammar too), so no published level is ever
 * one of them: a walk reaches them only where it looks for them.
 */
export const PlainMark = {
  /** Ends the SSID of a plain filter without `#`: it matches topics of exactly its depth. */
  exact: hashLevel('\u0000='),
  /** A plain `#` after at least one level: matches its parent and everything below. */
  multi: hashLevel('\u0000#'),
  /** A plain `+` as first level: as `+`, but not a topic whose first level starts with `$` [MQTT-4.7.2-1]. */
  rootWildcard: hashLevel('\u0000+'),
  /** A plain `#` alone: every topic of the contract but those whose first level starts with `$`. */
  rootMulti: hashLevel('\u0000$#'),
} as const;
