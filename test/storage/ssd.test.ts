import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { messageIdToBase64 } from '../../src/storage/message.js';
import { DATABASE_FILE, SCHEMA_SQL, SsdSql } from '../../src/storage/ssd-schema.js';
import { SsdStorage } from '../../src/storage/ssd.js';
import { createStorage } from '../../src/storage/storage.js';
import { StorageError, StorageErrorCode } from '../../src/storage/storage-error.js';
import { runStorageConformance } from './conformance.js';
import { MessageMaker, ssidOf, TestClock, texts } from './fixtures/messages.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'emitter-ssd-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const hasCode = (code: StorageErrorCode, text?: string) => (err: unknown) =>
  err instanceof StorageError && err.code === code && (text === undefined || err.message.includes(text));

runStorageConformance('ssd', (config) => createStorage('ssd', { ...config, dir: tempDir() }));

test('ssd: messages and expiry survive close and reopen', async () => {
  const dir = tempDir();
  const clock = new TestClock();
  const maker = new MessageMaker(clock);
  const first = new SsdStorage({ dir, now: clock.now });
  for (let i = 0; i < 100; i++)
    await first.store(maker.message(`a/${i % 3}/`, `${i}`, { ttl: i < 50 ? 10 : 0 }));
  await first.close();
  clock.advance(11_000);
  const second = new SsdStorage({ dir, now: clock.now });
  const found = await second.query(ssidOf('a/'), { limit: 1000 });
  assert.deepEqual(
    texts(found),
    Array.from({ length: 50 }, (_, i) => `${50 + i}`),
  );
  assert.equal(await second.purgeExpired(), 50);
  await second.close();
});

test('ssd: every acknowledged message survives kill -9 of the writer', async () => {
  const dir = tempDir();
  const writer = fileURLToPath(new URL('./fixtures/ssd-writer.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acknowledged: string[] = [];
  let buffered = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    acknowledged.push(...lines);
    if (acknowledged.length >= 2000 && !child.killed) child.kill('SIGKILL');
  });
  const signal = await exited;
  assert.equal(signal, 'SIGKILL', 'the writer was killed, not finished');
  assert.ok(acknowledged.length >= 2000);

  const storage = new SsdStorage({ dir, maxQueryBytes: 1 << 30 });
  const stored = new Set(
    (await storage.query(ssidOf('k/'), { limit: 1_000_000 })).map((m) => messageIdToBase64(m.id)),
  );
  const missing = acknowledged.filter((id) => !stored.has(id));
  assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged messages lost`);
  await storage.close();
});

test('ssd: a corrupt database file is refused with its path', () => {
  const dir = tempDir();
  writeFileSync(join(dir, DATABASE_FILE), Buffer.alloc(16384, 0x5a));
  assert.throws(() => new SsdStorage({ dir }), hasCode(StorageErrorCode.Corrupt, join(dir, DATABASE_FILE)));
});

test('ssd: a directory that cannot be created is refused with its path', () => {
  const file = join(tempDir(), 'not-a-dir');
  writeFileSync(file, 'x');
  assert.throws(
    () => new SsdStorage({ dir: join(file, 'sub') }),
    hasCode(StorageErrorCode.Unavailable, file),
  );
  assert.throws(() => new SsdStorage({ dir: file }), hasCode(StorageErrorCode.Unavailable, file));
});

test('ssd: a second storage on the same directory is refused (two brokers cannot share it)', async () => {
  const dir = tempDir();
  const first = new SsdStorage({ dir });
  assert.throws(() => new SsdStorage({ dir }), hasCode(StorageErrorCode.Locked, dir));
  await first.close();
  const again = new SsdStorage({ dir });
  await again.close();
});

test('ssd: a database from a newer schema is refused', async () => {
  const dir = tempDir();
  await new SsdStorage({ dir }).close();
  const db = new Database(join(dir, DATABASE_FILE));
  db.pragma('user_version = 99');
  db.close();
  assert.throws(() => new SsdStorage({ dir }), hasCode(StorageErrorCode.Corrupt, 'schema version 99'));
});

test('ssd: a version 1 database (no properties column) is migrated in place; its messages stay', async () => {
  const dir = tempDir();
  const clock = new TestClock();
  const maker = new MessageMaker(clock);
  // The version 1 schema, as brokers before MQTT 5 properties wrote it, with one message in it.
  const old = new Database(join(dir, DATABASE_FILE));
  old.exec(`CREATE TABLE messages (id BLOB NOT NULL, contract INTEGER NOT NULL, level1 INTEGER NOT NULL,
    ssid BLOB NOT NULL, channel TEXT NOT NULL, payload BLOB NOT NULL, expires INTEGER NOT NULL);
    CREATE INDEX messages_by_channel ON messages (ssid, id);
    CREATE INDEX messages_by_partition ON messages (contract, level1, id);
    CREATE INDEX messages_by_expiry ON messages (expires) WHERE expires > 0;`);
  const before = maker.message('m/', 'before');
  const ssid = Buffer.alloc(4 * before.ssid.length);
  before.ssid.forEach((level, i) => ssid.writeUInt32BE(level >>> 0, 4 * i));
  old
    .prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(before.id, before.ssid[0], before.ssid[1], ssid, 'm/', before.payload, 0);
  old.pragma('user_version = 1');
  old.close();

  const storage = new SsdStorage({ dir, now: clock.now });
  const block = Buffer.from([0x03, 0x00, 0x01, 0x78]);
  await storage.store(maker.message('m/', 'after', { properties: block }));
  const messages = await storage.query(ssidOf('m/'), { limit: 10 });
  assert.deepEqual(texts(messages), ['before', 'after']);
  assert.equal(messages[0].properties, undefined);
  assert.deepEqual(messages[1].properties, block);
  await storage.close();
  const db = new Database(join(dir, DATABASE_FILE));
  assert.equal(db.pragma('user_version', { simple: true }), 2);
  db.close();
});

test('ssd: bad settings are config errors', () => {
  const dir = tempDir();
  assert.throws(() => new SsdStorage({ dir, maxBatch: 0 }), hasCode(StorageErrorCode.Config, 'maxBatch'));
  const synchronous = 'sometimes' as 'full';
  assert.throws(() => new SsdStorage({ dir, synchronous }), hasCode(StorageErrorCode.Config, 'synchronous'));
});

test('ssd: every query shape is an index scan, never a sort', () => {
  const db = new Database(':memory:');
  db.exec(SCHEMA_SQL);
  const plan = (sql: string) =>
    db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1))
      .map((row) => (row as { detail: string }).detail)
      .join('; ');
  const expectations: Array<[string, string]> = [
    [SsdSql.channelPage, 'messages_by_channel (ssid=? AND id>? AND id<?)'],
    [SsdSql.partitionPage, 'messages_by_partition (contract=? AND level1=? AND id>? AND id<?)'],
    [SsdSql.nextSsid, 'COVERING INDEX messages_by_channel (ssid>?)'],
    [SsdSql.nextLevel1, 'COVERING INDEX messages_by_partition (contract=? AND level1>?)'],
    [SsdSql.purge, 'COVERING INDEX messages_by_expiry (expires>? AND expires<?)'],
  ];
  for (const [sql, expected] of expectations) {
    const detail = plan(sql);
    assert.ok(detail.includes(expected), `${sql}\n  plan: ${detail}`);
    assert.ok(!detail.includes('TEMP B-TREE'), `${sql} sorts: ${detail}`);
  }
  db.close();
});

test('ssd: purgeExpired deletes in batches until none is left', async () => {
  const clock = new TestClock();
  const maker = new MessageMaker(clock);
  const storage = new SsdStorage({ dir: tempDir(), now: clock.now, purgeIntervalMs: 0 });
  await Promise.all(
    Array.from({ length: 2500 }, (_, i) => storage.store(maker.message(`e/${i % 7}/`, 'x', { ttl: 1 }))),
  );
  await storage.store(maker.message('e/', 'stays'));
  clock.advance(2000);
  assert.equal(await storage.purgeExpired(), 2500);
  assert.deepEqual(texts(await storage.query(ssidOf('e/'), { limit: 10 })), ['stays']);
  await storage.close();
});

test('ssd: the background purge runs on its timer', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const clock = new TestClock();
  const maker = new MessageMaker(clock);
  const dir = tempDir();
  const storage = new SsdStorage({ dir, now: clock.now, purgeIntervalMs: 5000 });
  await storage.store(maker.message('a/', 'x', { ttl: 1 }));
  clock.advance(2000);
  t.mock.timers.tick(5000);
  assert.equal(await storage.purgeExpired(), 0, 'the timer already purged it');
  await storage.close();
});

test('ssd: a burst larger than maxBatch commits in several transactions, all acknowledged', async () => {
  const maker = new MessageMaker(new TestClock());
  const storage = new SsdStorage({ dir: tempDir(), maxBatch: 100, batchDelayMs: 2 });
  await Promise.all(Array.from({ length: 1050 }, (_, i) => storage.store(maker.message('b/', `${i}`))));
  assert.equal((await storage.query(ssidOf('b/'), { limit: 5000 })).length, 1050);
  await storage.close();
});
