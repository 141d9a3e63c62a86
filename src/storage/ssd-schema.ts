/**
 * The `ssd` provider's SQLite file: opening it safely, the schema and every statement's SQL.
 *
 * One table, one row per message. Three indexes serve the three ways a query reads (see `ssd-query.ts`):
 * - `messages_by_channel (ssid, id)`: the messages of one channel newest first, so `last=N` on a channel
 *   is a seek plus N index steps; also lists the distinct channels under an SSID prefix by seeking;
 * - `messages_by_partition (contract, level1, id)`: Emitter's partition (contract + first level) newest
 *   first, for patterns that match too many channels to read one by one;
 * - `messages_by_expiry (expires) WHERE expires > 0`: the background purge finds expired rows directly.
 */

import Database from 'better-sqlite3';
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError, StorageErrorCode } from './storage-error.js';

/** Name of the database file inside `storage.config.dir`. */
export const DATABASE_FILE = 'messages.sqlite';
const BUSY_TIMEOUT_MS = 500;
/** Schema version, kept in `PRAGMA user_version` (2: the `properties` column). */
export const SCHEMA_VERSION = 2;

/** The schema; every statement is idempotent. */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS messages (
  id       BLOB    NOT NULL, -- 16-byte message id: unix ms, sequence, instance; sorts by (time, sequence)
  contract INTEGER NOT NULL, -- ssid[0]
  level1   INTEGER NOT NULL, -- ssid[1]: with contract, Emitter's partition
  ssid     BLOB    NOT NULL, -- the whole SSID, 4 bytes big-endian per element
  channel  TEXT    NOT NULL, -- 'a/b/c/'
  payload  BLOB    NOT NULL,
  expires  INTEGER NOT NULL, -- unix seconds, 0 = never
  properties BLOB            -- MQTT 5 PUBLISH properties (their wire block), NULL for none
);
CREATE INDEX IF NOT EXISTS messages_by_channel ON messages (ssid, id);
CREATE INDEX IF NOT EXISTS messages_by_partition ON messages (contract, level1, id);
CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages (expires) WHERE expires > 0;
`;

const COLUMNS = 'id, ssid, channel, payload, expires, properties';
const LIVE_IN_RANGE = 'id >= ? AND id < ? AND (expires = 0 OR expires > ?)';

/** The SQL of each prepared statement (exported so tests can check their query plans). */
export const SsdSql = {
  insert:
    'INSERT INTO messages (id, contract, level1, ssid, channel, payload, expires, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  /** (ssid, lower, upper, nowSeconds, limit): one channel's live messages in [lower, upper), newest first. */
  channelPage: `SELECT ${COLUMNS} FROM messages WHERE ssid = ? AND ${LIVE_IN_RANGE} ORDER BY id DESC LIMIT ?`,
  /** (contract, level1, lower, upper, nowSeconds, limit): the same for a whole partition. */
  partitionPage: `SELECT ${COLUMNS} FROM messages WHERE contract = ? AND level1 = ? AND ${LIVE_IN_RANGE} ORDER BY id DESC LIMIT ?`,
  /** The first stored SSID >= the given one. */
  firstSsid: 'SELECT ssid FROM messages WHERE ssid >= ? ORDER BY ssid LIMIT 1',
  /** The first stored SSID > the given one (skips every message of that channel in one seek). */
  nextSsid: 'SELECT ssid FROM messages WHERE ssid > ? ORDER BY ssid LIMIT 1',
  /** The next first-level hash of a contract after the given one. */
  nextLevel1: 'SELECT level1 FROM messages WHERE contract = ? AND level1 > ? ORDER BY level1 LIMIT 1',
  /** (nowSeconds, batch): deletes up to `batch` expired messages. */
  purge:
    'DELETE FROM messages WHERE rowid IN (SELECT rowid FROM messages WHERE expires > 0 AND expires <= ? LIMIT ?)',
} as const;

/** Bounds that hold every id: below and above any 16-byte id whose first byte is 0. */
export const ID_MIN = Buffer.alloc(0);
/** See `ID_MIN`. */
export const ID_MAX = Buffer.from([0xff]);

/** Durability level of commits. */
export type Synchronous = 'normal' | 'full';

/** A database file of the `ssd` provider: its name in the directory, schema and version. */
export interface DatabaseSchema {
  readonly file: string;
  /** Idempotent DDL, run at every open. */
  readonly sql: string;
  /** Kept in `PRAGMA user_version`; a file with a newer one is refused. */
  readonly version: number;
  /**
   * Brings a file of an older version (`from` > 0: it has the tables of that version) up to this one,
   * before `sql` runs, in the same transaction.
   */
  readonly migrate?: (db: Database.Database, from: number) => void;
}

/** The message database. */
export const MESSAGES_SCHEMA: DatabaseSchema = {
  file: DATABASE_FILE,
  sql: SCHEMA_SQL,
  version: SCHEMA_VERSION,
  migrate: (db, from) => {
    // Version 1 had no properties: its messages keep NULL there.
    if (from < 2 && !hasColumn(db, 'messages', 'properties'))
      db.exec('ALTER TABLE messages ADD COLUMN properties BLOB');
  },
};

function hasColumn(db: Database.Database, table: string, column: string): boolean {
  const columns = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
  return columns.length === 0 || columns.some((c) => c.name === column);
}

/**
 * Opens (creating when needed) a database (`schema.file`, the messages by default) in `dir`, in WAL
 * mode, holding an exclusive lock so that a second broker on the same directory fails at once. Throws a `StorageError` naming the path when the
 * directory is not usable, the file is not a database, or another process holds it.
 */
export function openDatabase(
  dir: string,
  synchronous: Synchronous,
  schema: DatabaseSchema = MESSAGES_SCHEMA,
): Database.Database {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new StorageError(
      StorageErrorCode.Unavailable,
      `ssd storage: cannot create directory ${dir}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (!statSync(dir).isDirectory()) {
    throw new StorageError(StorageErrorCode.Unavailable, `ssd storage: ${dir} is not a directory`);
  }
  try {
    accessSync(dir, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw new StorageError(StorageErrorCode.Unavailable, `ssd storage: directory ${dir} is not writable`, {
      cause: err,
    });
  }
  const path = join(dir, schema.file);
  let db: Database.Database;
  try {
    // A short busy wait: with the exclusive lock, a holder only lets go when it closes or dies.
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw sqliteError(err, path);
  }
  try {
    // Exclusive: the lock is taken by the first write below and kept until close (released by the OS
    // if the process dies), and the WAL index lives in memory instead of a -shm file.
    db.pragma('locking_mode = EXCLUSIVE');
    const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`cannot switch to WAL mode (journal_mode is ${String(mode)})`);
    db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // Checkpoint every 8000 pages (32 MiB) rather than 1000: a burst across many channels dirties an
    // index page per channel, and fewer checkpoints write each of them back once (+20% throughput).
    db.pragma('wal_autocheckpoint = 8000');
    db.pragma('journal_size_limit = 67108864');
    db.pragma('cache_size = -32768'); // 32 MiB of page cache: index pages stay hot (p99 of last=100 / 2)
    db.pragma('temp_store = MEMORY');
    db.transaction(() => {
      const version = Number(db.pragma('user_version', { simple: true }));
      if (version > schema.version) {
        throw new StorageError(
          StorageErrorCode.Corrupt,
          `ssd storage: ${path} has schema version ${version}, newer than this broker's ${schema.version}`,
        );
      }
      if (version > 0 && version < schema.version) schema.migrate?.(db, version);
      db.exec(schema.sql);
      if (version < schema.version) db.pragma(`user_version = ${schema.version}`);
    }).immediate();
  } catch (err) {
    db.close();
    throw sqliteError(err, path);
  }
  return db;
}

/** Wraps a driver error in a `StorageError` that names the file and says what to do. */
export function sqliteError(err: unknown, path: string): StorageError {
  if (err instanceof StorageError) return err;
  const code = (err as { code?: unknown }).code;
  const text = (err as Error).message ?? String(err);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new StorageError(
      StorageErrorCode.Corrupt,
      `ssd storage: ${path} is not a valid database or is damaged (${text}); move it away to start empty`,
      { cause: err },
    );
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new StorageError(
      StorageErrorCode.Locked,
      `ssd storage: ${path} is in use by another process (two brokers cannot share storage.config.dir)`,
      { cause: err },
    );
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM') {
    return new StorageError(StorageErrorCode.Unavailable, `ssd storage: cannot open ${path} (${text})`, {
      cause: err,
    });
  }
  return new StorageError(StorageErrorCode.Io, `ssd storage: ${path}: ${text}`, { cause: err });
}
