/** The fixed header of an MQTT packet: its type and how many bytes follow. */
export interface FixedHeader {
  readonly type: number;
  /** Bytes of the fixed header itself (1 + length bytes). */
  readonly headerLength: number;
  readonly remainingLength: number;
}

/**
 * Reads the fixed header at `offset`; undefined when more bytes are needed, -1 when the
 * remaining-length varint is longer than the 4 bytes MQTT allows.
 */
export function readFixedHeader(buffer: Buffer, offset: number): FixedHeader | undefined | -1 {
  let multiplier = 1;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    if (offset + i >= buffer.length) return undefined;
    const byte = buffer[offset + i];
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0)
      return { type: buffer[offset] >> 4, headerLength: i + 1, remainingLength: value };
    multiplier *= 128;
  }
  return -1;
}
