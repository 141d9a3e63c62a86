/**
 * `storage.config` (spec 7.1): one flat object for every provider, as in Emitter's config file. Each
 * provider reads the fields it knows and ignores the others; values are checked when a provider starts.
 */

import { DEFAULT_RETAIN_SECONDS } from './message.js';
import { StorageError, StorageErrorCode } from './storage-error.js';

/** Settings of the storage providers; every field is optional. */
export interface StorageConfig {
  /** Seconds a retained message (ttl RETAINED_TTL) is kept; default 2,592,000 (30 days). */
  readonly retain?: number;
  /** Cap on Σ(payload + id + channel) bytes of one query's result; default 1 MiB (Emitter: 64 KiB). */
  readonly maxQueryBytes?: number;
  /** The clock expiry is judged by, unix ms; default `Date.now`. Tests inject one. */
  readonly now?: () => number;
  /** Period of the background purge of expired messages in ms, 0 for none; default 1 s memory, 10 s ssd. */
  readonly purgeIntervalMs?: number;
  /** inmemory: bound on the bytes messages take; oldest stored are evicted past it. Default 64 MiB. */
  readonly maxBytes?: number;
  /** ssd: the directory of the database file, created when missing; default `/data` like Emitter. */
  readonly dir?: string;
  /** ssd: SQLite `synchronous` in WAL mode; `normal` (default) survives process crashes, `full` OS crashes too. */
  readonly synchronous?: 'normal' | 'full';
  /** ssd: ms a write waits for others to share its commit; 0 (default) means the end of this event-loop turn. */
  readonly batchDelayMs?: number;
  /** ssd: most messages per commit; a fuller batch commits at once. Default 1000. */
  readonly maxBatch?: number;
  /** redis: a Redis URL (`redis://host:port/db`, `rediss://` for TLS). */
  readonly url?: string;
  /** redis: seed URLs of a Redis Cluster (instead of `url`). */
  readonly cluster?: readonly string[];
  /** redis: prefix of every key, so several deployments can share one Redis; default `emitter:`. */
  readonly prefix?: string;
  /** redis: most writes held in memory while Redis is unreachable; 0 turns holding off. Default 10,000. */
  readonly holdMessages?: number;
  /** redis: most bytes of writes held while Redis is unreachable; 0 turns holding off. Default 16 MiB. */
  readonly holdBytes?: number;
  /** redis: ms a held write (and the PUBACK waiting on it) waits for Redis before it is dropped. Default 10,000. */
  readonly holdTimeoutMs?: number;
}

/**
 * The `storage.config` keys a configuration may set: every `StorageConfig` field but the injected clock
 * (the config loader refuses others as typos). A field added above must be added here, or this fails to compile.
 */
export const STORAGE_CONFIG_KEYS: readonly string[] = Object.keys({
  retain: true,
  maxQueryBytes: true,
  purgeIntervalMs: true,
  maxBytes: true,
  dir: true,
  synchronous: true,
  batchDelayMs: true,
  maxBatch: true,
  url: true,
  cluster: true,
  prefix: true,
  holdMessages: true,
  holdBytes: true,
  holdTimeoutMs: true,
} satisfies Record<Exclude<keyof StorageConfig, 'now'>, true>);

/** The settings every provider shares, with defaults applied. */
export interface CommonSettings {
  readonly retain: number;
  readonly maxQueryBytes: number;
  readonly now: () => number;
}

/** Default of `maxQueryBytes`: 1 MiB. */
export const DEFAULT_MAX_QUERY_BYTES = 1024 * 1024;

/** Reads and checks the shared settings; throws a `StorageError` (Config) on a bad value. */
export function commonSettings(config: StorageConfig): CommonSettings {
  return {
    retain: positiveInteger('retain', config.retain, DEFAULT_RETAIN_SECONDS),
    maxQueryBytes: positiveInteger('maxQueryBytes', config.maxQueryBytes, DEFAULT_MAX_QUERY_BYTES),
    now: config.now ?? Date.now,
  };
}

/** `value` when it is an integer > 0, `fallback` when unset; a `StorageError` otherwise. */
export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new StorageError(
      StorageErrorCode.Config,
      `storage.config.${name} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

/** `value` when it is an integer >= 0, `fallback` when unset; a `StorageError` otherwise. */
export function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === 0) return 0;
  return positiveInteger(name, value, fallback);
}
