/**
 * Failures of the storage layer. The broker reports them to clients as Emitter's 500 (subscribe replay,
 * history); the code is stable for logs and tests, the message names the provider and, for files, the path.
 */

/** Stable codes of `StorageError`. */
export const StorageErrorCode = {
  /** A configuration value out of range, or an unknown provider name. */
  Config: 'ERR_EMITTER_STORAGE_CONFIG',
  /** The storage directory cannot be created or written. */
  Unavailable: 'ERR_EMITTER_STORAGE_UNAVAILABLE',
  /** The database file is not a database, or is damaged. */
  Corrupt: 'ERR_EMITTER_STORAGE_CORRUPT',
  /** Another process (another broker) holds the database. */
  Locked: 'ERR_EMITTER_STORAGE_LOCKED',
  /** A read or write failed (disk full, I/O error). */
  Io: 'ERR_EMITTER_STORAGE_IO',
  /**
   * The backend (Redis) stayed unreachable: a write could not be held for later (the hold buffer was
   * full or holding is off) or was held past its deadline.
   */
  Unreachable: 'ERR_EMITTER_STORAGE_UNREACHABLE',
  /** A message that cannot be stored (an SSID without a channel level). */
  InvalidMessage: 'ERR_EMITTER_STORAGE_INVALID_MESSAGE',
  /** The storage was closed. */
  Closed: 'ERR_EMITTER_STORAGE_CLOSED',
} as const;

/** One of the `StorageErrorCode` values. */
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

/** A typed storage failure; `code` is stable, `message` is for humans, `cause` keeps the driver error. */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}
