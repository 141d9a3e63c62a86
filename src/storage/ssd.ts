/**
 * The `ssd` provider: one SQLite file (better-sqlite3) in WAL mode under `storage.config.dir`.
 *
 * Durability: `store()` resolves after the transaction holding the message has committed. In WAL mode a
 * commit has been written to the WAL file before it returns, so an acknowledged message survives a crash
 * or `kill -9` of the broker process with `synchronous = NORMAL` (the default); `full` also fsyncs every
 * commit, to survive an OS crash or power loss, at a cost in throughput.
 *
 * Throughput: `store()` calls made in the same event-loop turn (or within `batchDelayMs`) share one
 * transaction, up to `maxBatch` messages, so a burst of publishes costs one commit. Queries first commit
 * pending writes, so a query sees every message stored before it. Expired rows are hidden from queries
 * and deleted in bounded batches by a background timer.
 *
 * better-sqlite3 is synchronous: a commit or a query holds the event loop while it runs (a fraction of a
 * millisecond for `last=100` on a channel; see bench/storage.bench.ts).
 */

import type Database from 'better-sqlite3';
import { resolve } from 'node:path';
import type { Ssid } from '../channel/ssid.js';
import { commonSettings, nonNegativeInteger, positiveInteger, type StorageConfig } from './config.js';
import { isExpired, type StoredMessage } from './message.js';
import { planQuery, ResultCollector, type StorageQuery } from './query.js';
import { DATABASE_FILE, openDatabase, sqliteError, SsdSql, type Synchronous } from './ssd-schema.js';
import { encodeSsid, runQuery, type QueryStatements, type Row } from './ssd-query.js';
import type { Storage, StorageHealth } from './storage.js';
import { StorageError, StorageErrorCode } from './storage-error.js';
import { checkMessage } from './validate.js';

/** Emitter's default `storage.config.dir`. */
export const DEFAULT_SSD_DIR = '/data';
const DEFAULT_PURGE_INTERVAL_MS = 10_000;
const DEFAULT_MAX_BATCH = 1000;
/** Rows deleted per purge statement; each is its own short transaction. */
export const PURGE_BATCH = 1000;
// Statements a background purge tick runs before yielding to the event loop.
const PURGE_BATCHES_PER_TURN = 10;

interface PendingWrite {
  readonly message: StoredMessage;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

// How long a failed commit keeps the storage reported unhealthy (see health()).
const FAILURE_HEALTH_WINDOW_MS = 30_000;

/** Messages in a SQLite database on disk. */
export class SsdStorage implements Storage {
  readonly name = 'ssd';
  readonly retain: number;
  /** The database file. */
  readonly path: string;
  private readonly maxQueryBytes: number;
  private readonly now: () => number;
  private readonly batchDelayMs: number;
  private readonly maxBatch: number;
  private readonly db: Database.Database;
  private readonly insertBatch: (batch: readonly PendingWrite[]) => void;
  private readonly purgeStatement: Database.Statement<[number, number]>;
  private readonly statements: QueryStatements;
  private pending: PendingWrite[] = [];
  private flushScheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private purgeContinuation: NodeJS.Immediate | undefined;
  private closed = false;
  // The last failed commit (time and cause), for health(); a later successful commit clears it.
  private lastFailure: { at: number; error: string } | undefined;

  constructor(config: StorageConfig = {}) {
    const common = commonSettings(config);
    this.retain = common.retain;
    this.maxQueryBytes = common.maxQueryBytes;
    this.now = common.now;
    this.batchDelayMs = nonNegativeInteger('batchDelayMs', config.batchDelayMs, 0);
    this.maxBatch = positiveInteger('maxBatch', config.maxBatch, DEFAULT_MAX_BATCH);
    const interval = nonNegativeInteger('purgeIntervalMs', config.purgeIntervalMs, DEFAULT_PURGE_INTERVAL_MS);
    const synchronous = config.synchronous ?? 'normal';
    if (synchronous !== 'normal' && synchronous !== 'full') {
      throw new StorageError(
        StorageErrorCode.Config,
        `storage.config.synchronous must be "normal" or "full", got ${JSON.stringify(synchronous)}`,
      );
    }
    const dir = resolve(config.dir ?? DEFAULT_SSD_DIR);
    this.path = resolve(dir, DATABASE_FILE);
    this.db = openDatabase(dir, synchronous as Synchronous);

    const db = this.db;
    const insert = db.prepare<[Buffer, number, number, Buffer, string, Buffer, number, Buffer | null]>(
      SsdSql.insert,
    );
    this.insertBatch = db.transaction((batch: readonly PendingWrite[]) => {
      for (const { message } of batch) {
        const { ssid } = message;
        insert.run(
          message.id,
          ssid[0],
          ssid[1],
          encodeSsid(ssid),
          message.channel,
          message.payload,
          message.expires,
          message.properties ?? null,
        );
      }
    });
    this.purgeStatement = db.prepare<[number, number]>(SsdSql.purge);
    this.statements = {
      channelPage: db.prepare<unknown[], Row>(SsdSql.channelPage).raw(true),
      partitionPage: db.prepare<unknown[], Row>(SsdSql.partitionPage).raw(true),
      firstSsid: db.prepare<unknown[], Buffer>(SsdSql.firstSsid).pluck(true),
      nextSsid: db.prepare<unknown[], Buffer>(SsdSql.nextSsid).pluck(true),
      nextLevel1: db.prepare<unknown[], number>(SsdSql.nextLevel1).pluck(true),
    };
    if (interval > 0) {
      this.purgeTimer = setInterval(() => {
        if (this.purgeContinuation === undefined) this.purgeInBackground();
      }, interval);
      this.purgeTimer.unref();
    }
  }

  /** Queues the message for the next commit; resolves once that commit is done. */
  store(message: StoredMessage): Promise<void> {
    try {
      this.checkOpen();
      checkMessage(message);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (isExpired(message.expires, this.now())) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.scheduleFlush();
    });
  }

  /** The newest `limit` messages matching `ssid` in the window, oldest first (see `Storage.query`). */
  async query(ssid: Ssid, query: StorageQuery): Promise<StoredMessage[]> {
    this.checkOpen();
    this.flush();
    const plan = planQuery(ssid, query, this.maxQueryBytes);
    if (plan === undefined) return [];
    const collector = new ResultCollector(plan.limit, plan.maxBytes);
    try {
      runQuery(this.statements, plan, Math.floor(this.now() / 1000), collector);
    } catch (err) {
      throw sqliteError(err, this.path);
    }
    return collector.result();
  }

  /** Deletes every expired message now, in batches; resolves to how many. */
  async purgeExpired(): Promise<number> {
    this.checkOpen();
    let total = 0;
    for (let deleted = PURGE_BATCH; deleted === PURGE_BATCH;) {
      deleted = this.purgeBatch();
      total += deleted;
    }
    return total;
  }

  /**
   * Not ok when closed, or when a commit failed (disk full, file gone read-only) in the last 30 s and
   * none has succeeded since: long enough for a load balancer to act, short enough that a node taken
   * out of rotation (so writing nothing) is tried again rather than kept out forever.
   */
  health(): StorageHealth {
    if (this.closed) return { ok: false, error: `ssd storage ${this.path} is closed` };
    const failure = this.lastFailure;
    if (failure && Date.now() - failure.at < FAILURE_HEALTH_WINDOW_MS)
      return { ok: false, error: failure.error };
    return { ok: true };
  }

  /** Commits pending writes, stops the timers and closes the database (which checkpoints the WAL). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.purgeTimer);
    if (this.purgeContinuation !== undefined) clearImmediate(this.purgeContinuation);
    this.db.close();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled !== undefined) return;
    this.flushScheduled =
      this.batchDelayMs > 0
        ? setTimeout(() => this.flush(), this.batchDelayMs)
        : setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.flushScheduled !== undefined) {
      clearTimeout(this.flushScheduled as NodeJS.Timeout);
      clearImmediate(this.flushScheduled as NodeJS.Immediate);
      this.flushScheduled = undefined;
    }
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      this.insertBatch(batch);
    } catch (err) {
      const error = sqliteError(err, this.path);
      this.lastFailure = { at: Date.now(), error: error.message };
      for (const write of batch) write.reject(error);
      return;
    }
    this.lastFailure = undefined;
    for (const write of batch) write.resolve();
  }

  private purgeBatch(): number {
    try {
      return this.purgeStatement.run(Math.floor(this.now() / 1000), PURGE_BATCH).changes;
    } catch (err) {
      throw sqliteError(err, this.path);
    }
  }

  // A timer tick: a few batches, then again on the next turn while batches come back full.
  private purgeInBackground(): void {
    this.purgeContinuation = undefined;
    if (this.closed) return;
    try {
      for (let i = 0; i < PURGE_BATCHES_PER_TURN; i++) {
        if (this.purgeBatch() < PURGE_BATCH) return;
      }
    } catch {
      return; // the next tick retries; queries and stores report errors to their callers
    }
    this.purgeContinuation = setImmediate(() => this.purgeInBackground());
    this.purgeContinuation.unref();
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.Closed, `ssd storage ${this.path} is closed`);
  }
}
