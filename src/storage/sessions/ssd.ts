/**
 * The `ssd` session store: sessions in their own SQLite file (`sessions.sqlite`, see `ssd-schema.ts`)
 * in `storage.config.dir`, in WAL mode like the message storage, so persistent sessions and their queued
 * messages survive a broker restart and `kill -9`.
 *
 * Group commit: every call runs its statements at once, in call order, inside a transaction that stays
 * open until the end of the event-loop turn (or `batchDelayMs`, or `maxBatch` calls), then commits once;
 * the calls' promises resolve after that commit. In WAL mode a commit is in the WAL file (the OS has it)
 * when it returns, so a resolved call survives `kill -9` with `synchronous = normal`; `full` also fsyncs
 * each commit against an OS crash or power loss. A write that fails (I/O error, disk full) rolls the
 * whole batch back and every call of the batch rejects: none had resolved, so each call is still all or
 * nothing, without a savepoint per call (which cost a tenth of the QoS 1 path for a failure that only
 * a sick disk causes).
 *
 * Bookkeeping commits late: a batch holding only `acknowledge` and QoS 1 `markSent` calls (what a
 * queue draining to its client writes, two per message, with nobody waiting on them) commits within
 * `LAZY_COMMIT_MS` instead of at the end of the turn, so a drain pays one commit per few hundred messages
 * rather than per read of the client's PUBACKs. A QoS 1 `markSent` (one that says its QoS) is not even written at once: it waits
 * in memory for the commit, and an `acknowledge` that comes first (the client's PUBACK is usually
 * quicker than that) deletes the entry with one statement, so the row is never updated. Any other call
 * writes the waiting ones first, so it sees them. Any other call (an enqueue a PUBACK waits on, a read, a
 * QoS 2 `markSent`) brings the commit back to the end of its turn. A crash loses at most those last
 * milliseconds of bookkeeping, which only re-sends the messages concerned on reconnect (QoS 1 allows
 * the duplicate; a QoS 2 exchange goes on from its last durable state).
 *
 * Per-client ordering comes free: better-sqlite3 is synchronous and there is one connection, so calls
 * take effect exactly in the order they are made. A statement holds the event loop while it runs (a few
 * microseconds for the QoS 1 path; see bench/session-store.bench.ts).
 */

import type Database from 'better-sqlite3';
import { resolve } from 'node:path';
import { nonNegativeInteger, positiveInteger } from '../config.js';
import { openDatabase, sqliteError, type Synchronous } from '../ssd-schema.js';
import { StorageError, StorageErrorCode } from '../storage-error.js';
import { decodeOptions, decodeQueuedMessage, decodeWill, encodeMessage, encodeOptions } from './codec.js';
import {
  OutgoingState,
  queuedBytes,
  type EnqueueResult,
  type OutgoingEntry,
  type QoS,
  type QueuedMessage,
  type SessionRecord,
  type SessionStore,
  type SessionStoreConfig,
  type StoredSubscription,
  type StoredWill,
} from './session-store.js';
import { sessionStoreSettings, type SessionStoreSettings } from './settings.js';
import { SessionSql, SESSIONS_FILE, SESSIONS_SCHEMA } from './ssd-schema.js';

/** Where and how the `ssd` session store keeps its file: the `storage.config` fields it reads. */
export interface SsdSessionPlace {
  /** The directory (`storage.config.dir`); default `/data` like the message storage. */
  readonly dir?: string;
  readonly synchronous?: 'normal' | 'full';
  /** ms a call waits for others to share its commit; 0 (default): the end of this event-loop turn. */
  readonly batchDelayMs?: number;
  /** Most calls per commit; default 1000. */
  readonly maxBatch?: number;
}

const DEFAULT_DIR = '/data';
const DEFAULT_MAX_BATCH = 1000;
/** How long a batch of bookkeeping calls only may wait for its commit. */
export const LAZY_COMMIT_MS = 2;

// Session rows this process has read or written, so the QoS 1 path does not read its row back for
// every call: only this process writes the file (exclusive lock). Forgotten after a rollback.
const MAX_CACHED_ROWS = 65_536;

interface SessionRow {
  expires_at: number | null;
  next_seq: number;
  queued_count: number;
  queued_bytes: number;
}

interface Waiting {
  readonly value: unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

type Statement = Database.Statement<unknown[]>;

/** Sessions in a SQLite file on disk. */
export class SsdSessionStore implements SessionStore {
  readonly name = 'ssd';
  /** The database file. */
  readonly path: string;
  private readonly settings: SessionStoreSettings;
  private readonly batchDelayMs: number;
  private readonly maxBatch: number;
  private readonly db: Database.Database;
  private readonly sql: Record<keyof typeof SessionSql, Statement>;
  private readonly begin: Statement;
  private readonly commitStatement: Statement;
  private readonly rollback: Statement;
  private waiting: Waiting[] = [];
  /** client id -> its row, or null when it has none. */
  private readonly rows = new Map<string, SessionRow | null>();
  /** Rows whose counts changed in the open batch: written once each, just before it commits. */
  private readonly dirty = new Map<string, SessionRow>();
  /** QoS 1 `markSent` calls of the open batch not written yet: client id -> packet id -> seq. */
  private readonly unsent = new Map<string, Map<number, number>>();
  private commitScheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  /** The scheduled commit is the late one of a bookkeeping-only batch. */
  private commitLate = false;
  private closed = false;

  constructor(config: SessionStoreConfig = {}, place: SsdSessionPlace = {}) {
    this.settings = sessionStoreSettings(config);
    this.batchDelayMs = nonNegativeInteger('batchDelayMs', place.batchDelayMs, 0);
    this.maxBatch = positiveInteger('maxBatch', place.maxBatch, DEFAULT_MAX_BATCH);
    const synchronous = place.synchronous ?? 'normal';
    if (synchronous !== 'normal' && synchronous !== 'full') {
      throw new StorageError(
        StorageErrorCode.Config,
        `storage.config.synchronous must be "normal" or "full", got ${JSON.stringify(synchronous)}`,
      );
    }
    if (place.dir !== undefined && typeof place.dir !== 'string') {
      throw new StorageError(StorageErrorCode.Config, 'storage.config.dir must be a directory path');
    }
    const dir = resolve(place.dir ?? DEFAULT_DIR);
    this.path = resolve(dir, SESSIONS_FILE);
    this.db = openDatabase(dir, synchronous as Synchronous, SESSIONS_SCHEMA);
    const db = this.db;
    const sql = {} as Record<keyof typeof SessionSql, Statement>;
    for (const [name, text] of Object.entries(SessionSql)) {
      sql[name as keyof typeof SessionSql] = db.prepare(text);
    }
    for (const name of ['live', 'expired', 'will', 'incoming'] as const) sql[name].pluck();
    this.sql = sql;
    this.begin = db.prepare('BEGIN');
    this.commitStatement = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
  }

  open(clientId: string): Promise<SessionRecord | undefined> {
    return this.write(() => {
      const record = this.record(clientId);
      const session = this.ensure(clientId);
      if (record?.expiresAt !== undefined) this.setExpiryOf(clientId, session, null);
      return record;
    });
  }

  load(clientId: string): Promise<SessionRecord | undefined> {
    return this.read(() => this.record(clientId));
  }

  setExpiry(clientId: string, expiresAt: number | undefined): Promise<void> {
    return this.write(() => {
      this.setExpiryOf(clientId, this.ensure(clientId), expiresAt ?? null);
    });
  }

  delete(clientId: string): Promise<void> {
    return this.write(() => this.deleteAll(clientId));
  }

  list(): Promise<string[]> {
    return this.read(() => this.sql.live.all(this.settings.now()) as string[]);
  }

  purgeExpired(): Promise<string[]> {
    return this.write(() => {
      const gone = this.sql.expired.all(this.settings.now()) as string[];
      for (const clientId of gone) this.deleteAll(clientId);
      return gone;
    });
  }

  addSubscriptions(clientId: string, subscriptions: readonly StoredSubscription[]): Promise<void> {
    return this.write(() => {
      this.ensure(clientId);
      for (const { topic, qos, options } of subscriptions) {
        this.sql.addSubscription.run(clientId, topic, qos, encodeOptions(options) ?? null);
      }
    });
  }

  removeSubscriptions(clientId: string, topics: readonly string[]): Promise<void> {
    return this.write(() => {
      if (this.live(clientId) === undefined) return;
      for (const topic of topics) this.sql.removeSubscription.run(clientId, topic);
    });
  }

  subscriptions(clientId: string): Promise<StoredSubscription[]> {
    return this.read(() => (this.live(clientId) === undefined ? [] : this.readSubscriptions(clientId)));
  }

  enqueue(clientId: string, message: QueuedMessage, packetId?: number): Promise<EnqueueResult> {
    return this.write(() => {
      const session = this.ensure(clientId);
      const seq = session.next_seq;
      const bytes = queuedBytes(message);
      const blob = encodeMessage(message);
      if (packetId !== undefined) {
        this.sql.enqueue.run(clientId, seq, packetId, OutgoingState.Sent, message.qos, bytes, blob);
        this.setCounts(clientId, session, seq + 1, session.queued_count, session.queued_bytes);
        return { seq, dropped: 0 };
      }
      this.sql.enqueue.run(clientId, seq, 0, OutgoingState.Queued, message.qos, bytes, blob);
      let count = session.queued_count + 1;
      let total = session.queued_bytes + bytes;
      let dropped = 0;
      let keptNew = true;
      const { maxQueuedMessages, maxQueuedBytes } = this.settings;
      while (count > maxQueuedMessages || total > maxQueuedBytes) {
        // Enough of the oldest to fix the count at once; more pages only when bytes need it.
        const rows = this.sql.oldestQueued.all(clientId, Math.max(16, count - maxQueuedMessages)) as {
          seq: number;
          bytes: number;
        }[];
        if (rows.length === 0) break;
        for (const row of rows) {
          if (count <= maxQueuedMessages && total <= maxQueuedBytes) break;
          this.sql.deleteEntry.run(clientId, row.seq);
          count--;
          total -= row.bytes;
          dropped++;
          if (row.seq === seq) keptNew = false;
        }
      }
      this.setCounts(clientId, session, seq + 1, count, total);
      return { seq: keptNew ? seq : undefined, dropped };
    });
  }

  markSent(clientId: string, seq: number, packetId: number, qos?: 1 | 2): Promise<void> {
    if (qos === 1) {
      return this.call(() => {
        if (this.live(clientId) === undefined) return;
        let waiting = this.unsent.get(clientId);
        if (waiting === undefined) this.unsent.set(clientId, (waiting = new Map()));
        // The same packet id twice in one batch: the first is written, so the two keep their order.
        else if (waiting.has(packetId)) this.writeUnsent();
        waiting.set(packetId, seq);
      }, true);
    }
    // A QoS 2 message must not be sent again as a new one after a crash: its state commits promptly.
    return this.write(() => {
      const session = this.live(clientId);
      if (session !== undefined) this.setSent(clientId, session, seq, packetId);
    });
  }

  release(clientId: string, packetId: number): Promise<boolean> {
    return this.write(() => {
      const entry = this.inFlight(clientId, packetId);
      if (entry === undefined || entry.qos !== 2) return false;
      this.sql.setReleased.run(clientId, entry.seq);
      return true;
    });
  }

  acknowledge(clientId: string, packetId: number): Promise<boolean> {
    return this.call(() => {
      const session = this.live(clientId);
      if (session === undefined) return false;
      const waiting = this.unsent.get(clientId);
      const seq = waiting?.get(packetId);
      if (waiting === undefined || seq === undefined) {
        return this.sql.acknowledge.run(clientId, packetId).changes > 0;
      }
      // Sent and acknowledged within one batch: the row goes without ever being marked sent.
      waiting.delete(packetId);
      if (waiting.size === 0) this.unsent.delete(clientId);
      const row = this.sql.deleteEntryReturning.get(clientId, seq) as
        { state: number; bytes: number } | undefined;
      if (row === undefined) return false;
      if (row.state === OutgoingState.Queued) {
        const { next_seq, queued_count, queued_bytes } = session;
        this.setCounts(clientId, session, next_seq, queued_count - 1, queued_bytes - row.bytes);
      }
      return true;
    }, true);
  }

  outgoing(clientId: string): Promise<OutgoingEntry[]> {
    return this.read(() => (this.live(clientId) === undefined ? [] : this.readOutgoing(clientId)));
  }

  incomingStore(clientId: string, packetId: number): Promise<void> {
    return this.write(() => {
      this.ensure(clientId);
      this.sql.incomingStore.run(clientId, packetId);
    });
  }

  incomingRelease(clientId: string, packetId: number): Promise<boolean> {
    return this.write(() => {
      if (this.live(clientId) === undefined) return false;
      return this.sql.incomingRelease.run(clientId, packetId).changes > 0;
    });
  }

  incoming(clientId: string): Promise<number[]> {
    return this.read(() => (this.live(clientId) === undefined ? [] : this.readIncoming(clientId)));
  }

  setWill(clientId: string, will: StoredWill | undefined): Promise<void> {
    return this.write(() => {
      this.ensure(clientId);
      this.sql.setWill.run(will === undefined ? null : encodeMessage(will), clientId);
    });
  }

  /** Commits pending calls and closes the database (which checkpoints the WAL). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.commit();
    this.closed = true;
    this.db.close();
  }

  // ---- batching

  private write<T>(work: () => T): Promise<T> {
    return this.call(work);
  }

  private read<T>(work: () => T): Promise<T> {
    return this.call(work, false, false);
  }

  // Runs `work` now inside the open batch transaction; settles when the batch commits (`bookkeeping`:
  // within LAZY_COMMIT_MS, unless another call of the batch or `work` itself asks for it sooner).
  private call<T>(work: () => T, bookkeeping = false, writes = true): Promise<T> {
    if (this.closed) {
      return Promise.reject(
        new StorageError(StorageErrorCode.Closed, `ssd session store ${this.path} is closed`),
      );
    }
    let value: T;
    try {
      if (!this.db.inTransaction) this.begin.run();
      if (!bookkeeping) {
        this.commitSoon();
        // Every other call sees the QoS 1 markSent calls made before it.
        if (this.unsent.size > 0) this.writeUnsent();
      } else if (this.commitScheduled === undefined) this.scheduleLateCommit();
      value = work();
    } catch (err) {
      const error = sqliteError(err, this.path);
      // A write may have done part of its work: undo the batch. SQLite may also have rolled it back
      // itself (I/O error, disk full). Either way the earlier calls of the batch are undone too.
      if (writes && this.db.inTransaction) {
        try {
          this.rollback.run();
          this.forgetRows();
        } catch {
          // the connection is broken; the batch is lost either way
        }
      }
      if (!this.db.inTransaction) {
        this.forgetRows();
        this.fail(error);
      }
      return Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ value, resolve: resolve as (value: unknown) => void, reject });
      if (this.waiting.length >= this.maxBatch) this.commit();
    });
  }

  // The batch commits at the end of this turn (or after batchDelayMs), sooner than a late commit.
  private commitSoon(): void {
    if (this.commitScheduled !== undefined) {
      if (!this.commitLate) return;
      clearTimeout(this.commitScheduled as NodeJS.Timeout);
    }
    this.commitLate = false;
    this.commitScheduled =
      this.batchDelayMs > 0
        ? setTimeout(() => this.commit(), this.batchDelayMs)
        : setImmediate(() => this.commit());
  }

  private scheduleLateCommit(): void {
    this.commitLate = true;
    this.commitScheduled = setTimeout(() => this.commit(), Math.max(LAZY_COMMIT_MS, this.batchDelayMs));
  }

  private commit(): void {
    if (this.commitScheduled !== undefined) {
      clearTimeout(this.commitScheduled as NodeJS.Timeout);
      clearImmediate(this.commitScheduled as NodeJS.Immediate);
      this.commitScheduled = undefined;
      this.commitLate = false;
    }
    if (!this.db.inTransaction) return;
    try {
      if (this.unsent.size > 0) this.writeUnsent();
      for (const [clientId, row] of this.dirty) this.writeCounts(clientId, row);
      this.dirty.clear();
      this.commitStatement.run();
    } catch (err) {
      if (this.db.inTransaction) this.rollback.run();
      this.forgetRows();
      this.fail(sqliteError(err, this.path));
      return;
    }
    const settled = this.waiting;
    this.waiting = [];
    for (const call of settled) call.resolve(call.value);
  }

  // After a rollback the cached rows may hold what was undone: read them again.
  private forgetRows(): void {
    this.rows.clear();
    this.dirty.clear();
    this.unsent.clear();
  }

  // Writes the QoS 1 markSent calls waiting for the commit, in the order made per session.
  private writeUnsent(): void {
    for (const [clientId, waiting] of this.unsent) {
      const session = this.live(clientId);
      if (session === undefined) continue;
      for (const [packetId, seq] of waiting) this.setSent(clientId, session, seq, packetId);
    }
    this.unsent.clear();
  }

  private setSent(clientId: string, session: SessionRow, seq: number, packetId: number): void {
    const queued = this.sql.setQueuedSent.get(packetId, clientId, seq) as { bytes: number } | undefined;
    if (queued === undefined) {
      // Not queued: already in flight (a new packet id), or gone.
      this.sql.setSent.run(packetId, clientId, seq);
      return;
    }
    const { next_seq, queued_count, queued_bytes } = session;
    this.setCounts(clientId, session, next_seq, queued_count - 1, queued_bytes - queued.bytes);
  }

  private fail(error: StorageError): void {
    const failed = this.waiting;
    this.waiting = [];
    for (const call of failed) call.reject(error);
  }

  // ---- rows

  // The session row if stored and unexpired.
  private live(clientId: string): SessionRow | undefined {
    const row = this.row(clientId);
    return row === undefined || expired(row, this.settings.now()) ? undefined : row;
  }

  // The stored row, expired or not: from the cache, else read (and cached).
  private row(clientId: string): SessionRow | undefined {
    let row = this.rows.get(clientId);
    if (row === undefined) {
      row = (this.sql.session.get(clientId) as SessionRow | undefined) ?? null;
      this.cache(clientId, row);
    }
    return row ?? undefined;
  }

  private cache(clientId: string, row: SessionRow | null): void {
    // Oldest first out: a Map iterates in insertion order.
    if (this.rows.size >= MAX_CACHED_ROWS && !this.rows.has(clientId)) {
      for (const [oldest, row] of this.rows) {
        // Its counts go to the file first: the next read of it comes from there.
        if (row !== null && this.dirty.delete(oldest)) this.writeCounts(oldest, row);
        this.rows.delete(oldest);
        break;
      }
    }
    this.rows.set(clientId, row);
  }

  private setExpiryOf(clientId: string, session: SessionRow, expiresAt: number | null): void {
    this.sql.setExpiry.run(expiresAt, clientId);
    session.expires_at = expiresAt;
  }

  // The row's counts change now in memory, in the file when the batch commits (once per row per batch).
  private setCounts(clientId: string, session: SessionRow, next: number, count: number, bytes: number): void {
    session.next_seq = next;
    session.queued_count = count;
    session.queued_bytes = bytes;
    this.dirty.set(clientId, session);
  }

  private writeCounts(clientId: string, row: SessionRow): void {
    this.sql.setCounts.run(row.next_seq, row.queued_count, row.queued_bytes, clientId);
  }

  // The session row, made (connected, empty) when missing; an expired one is replaced.
  private ensure(clientId: string): SessionRow {
    const row = this.row(clientId);
    if (row !== undefined && !expired(row, this.settings.now())) return row;
    if (row !== undefined) this.deleteAll(clientId);
    this.sql.createSession.run(clientId);
    const created: SessionRow = { expires_at: null, next_seq: 1, queued_count: 0, queued_bytes: 0 };
    this.cache(clientId, created);
    return created;
  }

  private deleteAll(clientId: string): void {
    this.dirty.delete(clientId);
    this.unsent.delete(clientId);
    this.cache(clientId, null);
    this.sql.deleteSession.run(clientId);
    this.sql.deleteSubscriptions.run(clientId);
    this.sql.deleteOutgoing.run(clientId);
    this.sql.deleteIncoming.run(clientId);
  }

  private record(clientId: string): SessionRecord | undefined {
    const row = this.live(clientId);
    if (row === undefined) return undefined;
    const will = this.sql.will.get(clientId) as Buffer | null;
    return {
      clientId,
      expiresAt: row.expires_at ?? undefined,
      subscriptions: this.readSubscriptions(clientId),
      outgoing: this.readOutgoing(clientId),
      incoming: this.readIncoming(clientId),
      will: will === null ? undefined : decodeWill(will),
    };
  }

  private readSubscriptions(clientId: string): StoredSubscription[] {
    const rows = this.sql.subscriptions.all(clientId) as {
      topic: string;
      qos: QoS;
      options: string | null;
    }[];
    return rows.map(({ topic, qos, options }) =>
      options === null ? { topic, qos } : { topic, qos, options: decodeOptions(options) },
    );
  }

  private readOutgoing(clientId: string): OutgoingEntry[] {
    const rows = this.sql.outgoing.all(clientId) as {
      seq: number;
      packet_id: number;
      state: OutgoingState;
      message: Buffer;
    }[];
    return rows.map((row) => ({
      seq: row.seq,
      message: decodeQueuedMessage(row.message),
      packetId: row.packet_id,
      state: row.state,
    }));
  }

  private readIncoming(clientId: string): number[] {
    return this.sql.incoming.all(clientId) as number[];
  }

  private inFlight(clientId: string, packetId: number): { seq: number; qos: number } | undefined {
    if (this.live(clientId) === undefined) return undefined;
    return this.sql.inFlight.get(clientId, packetId) as { seq: number; qos: number } | undefined;
  }
}

function expired(row: SessionRow, now: number): boolean {
  return row.expires_at !== null && row.expires_at <= now;
}
