import type Database from 'better-sqlite3';
import { resolve } from 'node:path';
import { openDatabase, sqliteError, type DatabaseSchema, type Synchronous } from '../ssd-schema.js';
import { StorageError, StorageErrorCode } from '../storage-error.js';
import { decodeRetained, encodeRetained } from './codec.js';
import {
  isRetainedExpired,
  filterMatcher,
  isWildcardFilter,
  literalPrefix,
  type RetainedMessage,
  type RetainedStore,
} from './retained-store.js';

/** Name of the retained database inside `storage.config.dir`. */
export const RETAINED_FILE = 'retained.sqlite';

// Its own file, as the session store has (each file is held by one connection in exclusive mode). The
// topic is a BLOB of its UTF-8 bytes so a literal prefix is an exact byte range of the primary key.
const RETAINED_SCHEMA: DatabaseSchema = {
  file: RETAINED_FILE,
  version: 1,
  sql: `
CREATE TABLE IF NOT EXISTS retained (
  contract   INTEGER NOT NULL,
  topic      BLOB    NOT NULL,   -- the plain MQTT topic, UTF-8
  expires_at INTEGER NOT NULL,   -- unix ms, 0 for never
  body       BLOB    NOT NULL,   -- codec.ts blob
  PRIMARY KEY (contract, topic)
) WITHOUT ROWID;
`,
};

const SQL = {
  upsert: 'INSERT OR REPLACE INTO retained (contract, topic, expires_at, body) VALUES (?, ?, ?, ?)',
  remove: 'DELETE FROM retained WHERE contract = ? AND topic = ?',
  one: 'SELECT body FROM retained WHERE contract = ? AND topic = ?',
  range: 'SELECT topic, body FROM retained WHERE contract = ? AND topic >= ? AND topic < ? ORDER BY topic',
  all: 'SELECT topic, body FROM retained WHERE contract = ? ORDER BY topic',
  purge: 'DELETE FROM retained WHERE expires_at > 0 AND expires_at <= ?',
} as const;

/** Where the `ssd` retained store keeps its file: the `storage.config` fields it reads. */
export interface SsdRetainedPlace {
  readonly dir?: string;
  readonly synchronous?: 'normal' | 'full';
}

/**
 * Retained messages in a SQLite table keyed by (contract, topic): a filter without wildcards is one
 * primary-key lookup; a wildcard filter reads the key range of its literal prefix (`a/b/+` reads the
 * topics starting with `a/b`), the whole contract for a filter starting with a wildcard. Each set or
 * clear is its own commit (retained publishes are rare next to ordinary ones).
 */
export class SsdRetainedStore implements RetainedStore {
  readonly name = 'ssd';
  /** The database file. */
  readonly path: string;
  private readonly db: Database.Database;
  private readonly sql: Record<keyof typeof SQL, Database.Statement<unknown[]>>;
  private closed = false;

  constructor(
    place: SsdRetainedPlace = {},
    private readonly now: () => number = Date.now,
  ) {
    const synchronous = place.synchronous ?? 'normal';
    if (synchronous !== 'normal' && synchronous !== 'full') {
      throw new StorageError(
        StorageErrorCode.Config,
        `storage.config.synchronous must be "normal" or "full", got ${JSON.stringify(synchronous)}`,
      );
    }
    const dir = resolve(place.dir ?? '/data');
    this.path = resolve(dir, RETAINED_FILE);
    this.db = openDatabase(dir, synchronous as Synchronous, RETAINED_SCHEMA);
    const sql = {} as Record<keyof typeof SQL, Database.Statement<unknown[]>>;
    for (const [name, text] of Object.entries(SQL)) sql[name as keyof typeof SQL] = this.db.prepare(text);
    sql.one.pluck();
    this.sql = sql;
    // Expired messages are never returned; the ones nobody asks for again go here, once at start.
    this.sql.purge.run(this.now());
  }

  set(contract: number, message: RetainedMessage): Promise<void> {
    return this.run(() => {
      this.sql.upsert.run(contract, Buffer.from(message.topic), message.expiresAt, encodeRetained(message));
    });
  }

  clear(contract: number, topic: string): Promise<void> {
    return this.run(() => {
      this.sql.remove.run(contract, Buffer.from(topic));
    });
  }

  match(contract: number, filter: string): Promise<RetainedMessage[]> {
    return this.run(() => {
      const now = this.now();
      const found: RetainedMessage[] = [];
      const keep = (body: Buffer): void => {
        const message = decodeRetained(body);
        if (isRetainedExpired(message, now)) this.sql.remove.run(contract, Buffer.from(message.topic));
        else found.push(message);
      };
      if (!isWildcardFilter(filter)) {
        const body = this.sql.one.get(contract, Buffer.from(filter)) as Buffer | undefined;
        if (body !== undefined) keep(body);
        return found;
      }
      const prefix = Buffer.from(literalPrefix(filter));
      // UTF-8 never holds 0xff: every topic starting with the prefix sorts below prefix + 0xff.
      const rows = (
        prefix.length === 0
          ? this.sql.all.all(contract)
          : this.sql.range.all(contract, prefix, Buffer.concat([prefix, Buffer.from([0xff])]))
      ) as { topic: Buffer; body: Buffer }[];
      // Only the matching rows are decoded.
      const matches = filterMatcher(filter);
      for (const row of rows) if (matches(row.topic.toString())) keep(row.body);
      return found;
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
    return Promise.resolve();
  }

  private run<T>(work: () => T): Promise<T> {
    if (this.closed)
      return Promise.reject(new StorageError(StorageErrorCode.Closed, 'retained store is closed'));
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(sqliteError(error, this.path));
    }
  }
}
