/**
 * Writes held while a storage backend is unreachable, so that a short outage does not lose a message
 * whose store is still waiting: bounded in count and bytes, each with a deadline, and written again in
 * sequence order once the backend answers. A held store settles only when its write reached the backend
 * (or was given up), so whatever waits on it (a QoS 1 PUBACK) still means "stored". The redis provider
 * uses it.
 */

import { performance } from 'node:perf_hooks';
import { StorageError, StorageErrorCode } from './storage-error.js';

/** The bounds of a hold buffer. */
export interface HoldLimits {
  /** Most writes held at once; 0 turns holding off (writes fail at once while the backend is down). */
  readonly messages: number;
  /** Most bytes held at once. */
  readonly bytes: number;
  /** Milliseconds a write may wait for the backend, from its store call, before its store rejects. */
  readonly timeoutMs: number;
}

/** How a hold buffer writes to its backend, tells failures apart, and reports what it does. */
export interface HoldBackend<T> {
  /** The provider, for error messages: `redis storage`. */
  readonly label: string;
  /** Writes one item; rejects when the backend fails. Must be idempotent: a write may be sent twice. */
  write(item: T): Promise<void>;
  /** True when a failed write may succeed later (backend unreachable, loading, failing over). */
  isTransient(error: unknown): boolean;
  /** The error a store rejects with when its write failed for good. */
  failure(error: unknown): StorageError;
  /** A hold began: the first write was held, for `reason`. */
  holding?(reason: string): void;
  /** Nothing is held any more: `written` held writes reached the backend, `dropped` did not, over `heldMs`. */
  drained?(written: number, dropped: number, heldMs: number): void;
}

interface HeldWrite<T> {
  readonly seq: number;
  readonly item: T;
  readonly bytes: number;
  readonly deadline: number;
  settled: boolean;
  resolve(): void;
  reject(error: StorageError): void;
}

// Pause between attempts that failed; an attempt itself waits for the driver's reconnection.
const RETRY_DELAY_MS = 100;
// Writes sent together per attempt (one round trip of pipelined commands).
const FLUSH_BATCH = 256;
const EXPIRY_CHECK_MS = 100;

/** An ordered, bounded queue of writes waiting for their backend (see the module comment). */
export class HoldBuffer<T> {
  private entries: HeldWrite<T>[] = [];
  private heldBytes = 0;
  private flushing = false;
  private expiryTimer: NodeJS.Timeout | undefined;
  private waiters: Array<() => void> = [];
  private since = 0;
  private written = 0;
  private dropped = 0;
  private closedWith: StorageError | undefined;

  constructor(
    private readonly limits: HoldLimits,
    private readonly backend: HoldBackend<T>,
  ) {}

  /** True when writes may be held at all. */
  get enabled(): boolean {
    return this.limits.messages > 0 && this.limits.bytes > 0;
  }

  /** Writes held now. */
  get size(): number {
    return this.entries.length;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.heldBytes;
  }

  /**
   * Holds a write until the backend takes it: resolves once written; rejects (Unreachable) at once when
   * the buffer is full, or once `timeoutMs` has passed since `startedAt` (a `performance.now()` time).
   * `seq` orders writes: one held late (after a failed attempt) still goes before later ones.
   */
  hold(seq: number, item: T, bytes: number, startedAt: number, reason: string): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const { messages, bytes: maxBytes } = this.limits;
    if (this.entries.length >= messages || this.heldBytes + bytes > maxBytes) {
      this.dropped++;
      return Promise.reject(
        new StorageError(
          StorageErrorCode.Unreachable,
          `${this.backend.label} unreachable (${reason}) and its hold buffer is full ` +
            `(${this.entries.length} of ${messages} messages, ${this.heldBytes} of ${maxBytes} bytes held): message not stored`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      if (!this.flushing && this.entries.length === 0) {
        this.since = performance.now();
        this.written = 0;
        this.dropped = 0;
        this.backend.holding?.(reason);
      }
      const entry: HeldWrite<T> = {
        seq,
        item,
        bytes,
        deadline: startedAt + this.limits.timeoutMs,
        settled: false,
        resolve,
        reject,
      };
      let at = this.entries.length;
      while (at > 0 && this.entries[at - 1].seq > seq) at--;
      this.entries.splice(at, 0, entry);
      this.heldBytes += bytes;
      this.expiryTimer ??= setInterval(() => this.expire(), Math.min(EXPIRY_CHECK_MS, this.limits.timeoutMs));
      void this.flush();
    });
  }

  /** Resolves once nothing is held, or after the next attempt to write the held ones fails. */
  settledOrFailed(): Promise<void> {
    if (this.entries.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Rejects every held write with `error` and every later `hold` too (the storage is closing). */
  close(error: StorageError): void {
    this.closedWith = error;
    for (const entry of this.entries) this.settle(entry, error);
    this.compact();
  }

  // One loop at a time, while anything is held: write the oldest batch, settle what went through or
  // failed for good, and try again after a pause while the backend is still down.
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    while (this.entries.length > 0) {
      const batch = this.entries.slice(0, FLUSH_BATCH);
      const outcomes = await Promise.allSettled(batch.map((entry) => this.backend.write(entry.item)));
      let failed = false;
      for (let i = 0; i < batch.length; i++) {
        const outcome = outcomes[i];
        if (outcome.status === 'fulfilled') {
          if (this.settle(batch[i])) this.written++;
        } else if (!this.backend.isTransient(outcome.reason)) {
          this.settle(batch[i], this.backend.failure(outcome.reason));
        } else {
          failed = true;
        }
      }
      this.compact();
      if (failed && this.entries.length > 0) {
        this.wake();
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
    this.flushing = false;
    if (!this.closedWith) {
      this.backend.drained?.(this.written, this.dropped, Math.round(performance.now() - this.since));
    }
  }

  // Deadlines grow with `seq` (both follow the store calls), so the expired ones are at the head.
  private expire(): void {
    const now = performance.now();
    for (const entry of this.entries) {
      if (entry.deadline > now) break;
      this.settle(
        entry,
        new StorageError(
          StorageErrorCode.Unreachable,
          `${this.backend.label} unreachable for ${this.limits.timeoutMs} ms (holdTimeoutMs): message not stored`,
        ),
      );
    }
    this.compact();
  }

  private settle(entry: HeldWrite<T>, error?: StorageError): boolean {
    if (entry.settled) return false;
    entry.settled = true;
    this.heldBytes -= entry.bytes;
    if (error) {
      this.dropped++;
      entry.reject(error);
    } else {
      entry.resolve();
    }
    return true;
  }

  private compact(): void {
    if (this.entries.some((entry) => entry.settled)) {
      this.entries = this.entries.filter((entry) => !entry.settled);
    }
    if (this.entries.length > 0) return;
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
