/**
 * The `ssd` session store's SQLite file and every statement's SQL.
 *
 * Sessions have their own file beside the messages (`sessions.sqlite` in `storage.config.dir`) rather
 * than tables in `messages.sqlite`: the message database is held by its own connection in exclusive
 * locking mode, and a second connection to it would be refused; one shared connection would tie the two
 * stores' commits and lifetimes together (a burst of stored messages would delay every PUBACK-path write
 * behind its checkpoints). Two files keep each store's WAL, batching and schema version independent.
 *
 * Tables (a session's rows are found by `client_id` through each table's primary or unique key):
 * - `sessions`: one row per session: expiry, the next outgoing seq, and the counts the bounds need
 *   (queued entries and their bytes), so a bound check reads one row; the store keeps them in memory
 *   while a batch runs and writes each changed row once, in the batch's transaction, before it commits;
 * - `subscriptions`: rowid order is the order topics were first added (an upsert keeps the rowid);
 * - `outgoing`: the queue, by (client_id, seq); in-flight entries are found by packet id through a
 *   partial index on the entries that have one;
 * - `incoming`: QoS 2 packet ids received and not yet released, rowid order = order received.
 */

import type { DatabaseSchema } from '../ssd-schema.js';

/** Name of the session database inside `storage.config.dir`. */
export const SESSIONS_FILE = 'sessions.sqlite';

/** The session database's schema; every statement is idempotent. */
export const SESSIONS_SCHEMA: DatabaseSchema = {
  file: SESSIONS_FILE,
  version: 1,
  sql: `
CREATE TABLE IF NOT EXISTS sessions (
  client_id    TEXT    NOT NULL PRIMARY KEY,
  expires_at   INTEGER,                    -- unix ms; NULL while a connection holds the session
  next_seq     INTEGER NOT NULL,
  queued_count INTEGER NOT NULL,           -- entries in state Queued
  queued_bytes INTEGER NOT NULL,           -- their topic + payload bytes
  will         BLOB                        -- codec.ts blob
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS subscriptions (
  client_id TEXT    NOT NULL,
  topic     TEXT    NOT NULL,
  qos       INTEGER NOT NULL,
  options   TEXT,                          -- JSON, NULL for none
  UNIQUE (client_id, topic)
);
CREATE TABLE IF NOT EXISTS outgoing (
  client_id TEXT    NOT NULL,
  seq       INTEGER NOT NULL,
  packet_id INTEGER NOT NULL,              -- 0 while queued
  state     INTEGER NOT NULL,              -- OutgoingState
  qos       INTEGER NOT NULL,
  bytes     INTEGER NOT NULL,              -- topic + payload, what counts against maxQueuedBytes
  message   BLOB    NOT NULL,              -- codec.ts blob
  PRIMARY KEY (client_id, seq)
);
CREATE INDEX IF NOT EXISTS outgoing_in_flight ON outgoing (client_id, packet_id) WHERE state <> 0;
CREATE TABLE IF NOT EXISTS incoming (
  client_id TEXT    NOT NULL,
  packet_id INTEGER NOT NULL,
  UNIQUE (client_id, packet_id)
);
`,
};

const LIVE = '(expires_at IS NULL OR expires_at > ?)';

/** The SQL of each prepared statement. */
export const SessionSql = {
  session: 'SELECT expires_at, next_seq, queued_count, queued_bytes FROM sessions WHERE client_id = ?',
  createSession:
    'INSERT INTO sessions (client_id, expires_at, next_seq, queued_count, queued_bytes) VALUES (?, NULL, 1, 0, 0)',
  setExpiry: 'UPDATE sessions SET expires_at = ? WHERE client_id = ?',
  setWill: 'UPDATE sessions SET will = ? WHERE client_id = ?',
  will: 'SELECT will FROM sessions WHERE client_id = ?',
  setCounts: 'UPDATE sessions SET next_seq = ?, queued_count = ?, queued_bytes = ? WHERE client_id = ?',
  deleteSession: 'DELETE FROM sessions WHERE client_id = ?',
  deleteSubscriptions: 'DELETE FROM subscriptions WHERE client_id = ?',
  deleteOutgoing: 'DELETE FROM outgoing WHERE client_id = ?',
  deleteIncoming: 'DELETE FROM incoming WHERE client_id = ?',
  /** (now) */
  live: `SELECT client_id FROM sessions WHERE ${LIVE}`,
  /** (now) */
  expired: 'SELECT client_id FROM sessions WHERE expires_at IS NOT NULL AND expires_at <= ?',

  addSubscription:
    'INSERT INTO subscriptions (client_id, topic, qos, options) VALUES (?, ?, ?, ?) ' +
    'ON CONFLICT (client_id, topic) DO UPDATE SET qos = excluded.qos, options = excluded.options',
  removeSubscription: 'DELETE FROM subscriptions WHERE client_id = ? AND topic = ?',
  subscriptions: 'SELECT topic, qos, options FROM subscriptions WHERE client_id = ? ORDER BY rowid',

  /** (clientId, seq, packetId, state, qos, bytes, message) */
  enqueue:
    'INSERT INTO outgoing (client_id, seq, packet_id, state, qos, bytes, message) VALUES (?, ?, ?, ?, ?, ?, ?)',
  /** (clientId, limit): the oldest queued entries, to drop past a bound. */
  oldestQueued: 'SELECT seq, bytes FROM outgoing WHERE client_id = ? AND state = 0 ORDER BY seq LIMIT ?',
  /** (packetId, clientId, seq): a queued entry sent; returns its bytes (none: it was not queued). */
  setQueuedSent:
    'UPDATE outgoing SET packet_id = ?, state = 1 WHERE client_id = ? AND seq = ? AND state = 0 RETURNING bytes',
  setSent: 'UPDATE outgoing SET packet_id = ?, state = 1 WHERE client_id = ? AND seq = ?',
  // INDEXED BY: for `ORDER BY seq` the planner would rather walk the session's entries in seq order
  // (the primary key) than look the packet id up, a scan of the whole queue in the worst case.
  inFlight:
    'SELECT seq, qos FROM outgoing INDEXED BY outgoing_in_flight ' +
    'WHERE client_id = ? AND packet_id = ? AND state <> 0 ORDER BY seq LIMIT 1',
  /** (clientId, packetId): the in-flight entry with that packet id, in one statement. */
  acknowledge:
    'DELETE FROM outgoing WHERE rowid = (SELECT rowid FROM outgoing INDEXED BY outgoing_in_flight ' +
    'WHERE client_id = ? AND packet_id = ? AND state <> 0 ORDER BY seq LIMIT 1)',
  setReleased: 'UPDATE outgoing SET state = 2 WHERE client_id = ? AND seq = ?',
  deleteEntry: 'DELETE FROM outgoing WHERE client_id = ? AND seq = ?',
  deleteEntryReturning: 'DELETE FROM outgoing WHERE client_id = ? AND seq = ? RETURNING state, bytes',
  outgoing: 'SELECT seq, packet_id, state, message FROM outgoing WHERE client_id = ? ORDER BY seq',

  incomingStore: 'INSERT OR IGNORE INTO incoming (client_id, packet_id) VALUES (?, ?)',
  incomingRelease: 'DELETE FROM incoming WHERE client_id = ? AND packet_id = ?',
  incoming: 'SELECT packet_id FROM incoming WHERE client_id = ? ORDER BY rowid',
} as const;
