import { randomBytes } from 'node:crypto';

const ALPHABET_CODES = Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', (c) => c.charCodeAt(0));

/**
 * A new 26-character connection id in Emitter's format (base32, no padding, over 16 bytes).
 * Emitter derives it with PBKDF2 from a node id and counter; clients treat it as opaque, and 16
 * random bytes give the same shape and uniqueness without spending milliseconds per connection.
 */
export function newConnectionId(): string {
  const bytes = randomBytes(16);
  // Character codes first, one string at the end: appending char by char would keep a 26-node rope
  // (about 1 KiB) alive for every connection.
  const codes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      codes.push(ALPHABET_CODES[(buffer >>> bits) & 31]);
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) codes.push(ALPHABET_CODES[(buffer << (5 - bits)) & 31]);
  return String.fromCharCode(...codes);
}
