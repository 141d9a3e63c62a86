/** Types for `snappyjs` 0.7 (snappy block format, no framing); the package ships none. */
declare module 'snappyjs' {
  /**
   * Decompresses a snappy block. The result has the argument's type (Buffer, Uint8Array or ArrayBuffer).
   * Throws on a bad header, a truncated element or an uncompressed length above `maxLength`; it does
   * not check that the elements fill exactly the announced length.
   */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
  /** Compresses into a snappy block; the result has the argument's type. */
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
}
