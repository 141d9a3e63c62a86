/**
 * Failures of the security layer's codecs (key text, licence text, cipher setup). They never reach a
 * client as such: the authority turns every one of them into Emitter's 401, so these carry stable codes
 * for logs and tests rather than wire texts.
 */

/** Stable codes of `SecurityError`. */
export const SecurityErrorCode = {
  /** A channel key that is not 32 base64url characters, or does not decrypt to 24 bytes. */
  KeyInvalid: 'ERR_EMITTER_KEY_INVALID',
  /** A licence string that is missing or too short to be one. */
  LicenseMissing: 'ERR_EMITTER_LICENSE_MISSING',
  /** A licence string that does not decode (base64url, snappy, field layout). */
  LicenseInvalid: 'ERR_EMITTER_LICENSE_INVALID',
  /** A cipher built with key material of the wrong size. */
  CipherKeyInvalid: 'ERR_EMITTER_CIPHER_KEY_INVALID',
} as const;

/** One of the `SecurityErrorCode` values. */
export type SecurityErrorCode = (typeof SecurityErrorCode)[keyof typeof SecurityErrorCode];

/** A typed failure of key or licence decoding; `code` is stable, `message` is for humans. */
export class SecurityError extends Error {
  constructor(
    readonly code: SecurityErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SecurityError';
  }
}
