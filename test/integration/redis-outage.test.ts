import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { RedisStorage } from '../../src/storage/index.js';
import { startTestBroker } from '../helpers/broker.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { captureLogs, until } from '../helpers/logs.js';
import { scrapeMetrics } from '../helpers/metrics.js';
import { startRedis } from '../helpers/redis.js';

// Redis that keeps what it acknowledged across kill -9: every write is in the append-only file first.
const DURABLE_REDIS = ['--appendonly', 'yes', '--appendfsync', 'always'];

const errorReplies = (client: TestClient): Array<Record<string, unknown>> =>
  client.received
    .filter((m) => m.topic === 'emitter/error/')
    .map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);

test('Redis killed for 3 s while QoS 1 stored publishes flow: every acknowledged message is readable once it is back', async (t) => {
  const redis = await startRedis(DURABLE_REDIS);
  const logs = captureLogs();
  const storage = new RedisStorage(
    { url: redis.url, prefix: `outage:${randomBytes(4).toString('hex')}:` },
    { logger: logs.logger },
  );
  const server = await startTestBroker({ storage, logger: logs.logger });
  const publisher = await connectClient(server.port);
  let reader: TestClient | undefined;
  try {
    const key = await keygen(publisher, server.secret, 'outage/', 'rwsl');
    const before = await scrapeMetrics(server.port);

    // A steady flow: one QoS 1 stored publish every 5 ms, not waiting for its PUBACK (bounded: 3000).
    const acknowledged: number[] = [];
    const failed: number[] = [];
    const inFlight: Array<Promise<void>> = [];
    let sent = 0;
    let slowestAckMs = 0;
    let flowing = true;
    let waiter: (() => void) | undefined;
    const flow = (async () => {
      while (flowing && sent < 3000) {
        const i = sent++;
        const sentAt = performance.now();
        inFlight.push(
          publisher.mqtt.publishAsync(`${key}/outage/?ttl=3600`, String(i), { qos: 1 }).then(
            () => {
              slowestAckMs = Math.max(slowestAckMs, performance.now() - sentAt);
              acknowledged.push(i);
              waiter?.();
            },
            () => {
              failed.push(i);
            },
          ),
        );
        await delay(5);
      }
    })();
    const acks = (count: number, ms: number, what: string): Promise<void> => {
      const wait = until(() => acknowledged.length >= count, ms, what);
      waiter = wait.check;
      wait.check();
      return wait.done;
    };

    await acks(50, 10000, '50 PUBACKs before the outage');
    await redis.kill();
    const sentAtKill = sent;
    await delay(3000); // the outage itself
    const sentAtRestart = sent;
    await redis.restart();
    // Everything sent during the outage, and 50 more after it, acknowledged.
    await acks(sentAtRestart + 50, 20000, 'PUBACKs after Redis came back');
    flowing = false;
    await flow;
    await Promise.all(inFlight);

    assert.ok(sentAtRestart - sentAtKill >= 20, `publishes during the outage: ${sentAtRestart - sentAtKill}`);
    assert.deepEqual(failed, [], 'no publish failed');
    assert.equal(acknowledged.length, sent, 'every publish acknowledged');

    // Every acknowledged message is in Redis: before the kill (append-only file), during and after it.
    // The replay comes before the SUBACK, so it is all here once subscribeAsync resolves.
    reader = await connectClient(server.port);
    await reader.mqtt.subscribeAsync(`${key}/outage/?last=${sent}`);
    const replayed = reader.received
      .filter((m) => m.topic === 'outage/')
      .map((m) => Number(m.payload.toString()));
    const missing = acknowledged.filter((i) => !replayed.includes(i));
    assert.deepEqual(missing, [], 'acknowledged messages missing from Redis');
    assert.deepEqual(
      replayed,
      [...acknowledged].sort((a, b) => a - b),
      'every acknowledged message, oldest first',
    );
    assert.deepEqual(errorReplies(publisher), [], 'no error reply: every message was stored');

    const after = await scrapeMetrics(server.port);
    const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    assert.equal(delta('emitter_storage_errors_total'), 0);
    assert.equal(delta('emitter_stored_messages_total'), sent);
    const entries = logs.entries();
    assert.ok(
      entries.some((e) => e.level === 40 && /holding stored messages/.test(String(e.msg))),
      'the outage is logged',
    );
    // A loaded machine may see the outage as more than one hold (a reconnect that fails again): count them all.
    const flushes = entries.filter((e) => /held messages written/.test(String(e.msg)));
    assert.ok(flushes.length > 0, 'the flush is logged');
    const written = flushes.reduce((sum, e) => sum + Number(e.written), 0);
    assert.ok(
      written >= sentAtRestart - sentAtKill,
      `held and written: ${written} over ${flushes.length} holds`,
    );
    assert.deepEqual(
      flushes.map((e) => e.dropped),
      flushes.map(() => 0),
    );
    const flushed = flushes[flushes.length - 1];
    t.diagnostic(
      `sent ${sent} (${sentAtRestart - sentAtKill} during the 3 s outage); held and written ${written} ` +
        `over ${String(flushed.heldMs)} ms; slowest PUBACK ${Math.round(slowestAckMs)} ms`,
    );
  } finally {
    await reader?.end();
    await publisher.end();
    await server.close();
    await redis.stop();
  }
});

test('past the hold bound a stored publish is dropped: a 500, a warning with its channel (never the key), emitter_storage_errors_total', async () => {
  const redis = await startRedis(DURABLE_REDIS);
  const logs = captureLogs();
  const storage = new RedisStorage(
    {
      url: redis.url,
      prefix: `bound:${randomBytes(4).toString('hex')}:`,
      holdMessages: 5,
      holdTimeoutMs: 60000,
    },
    { logger: logs.logger },
  );
  const server = await startTestBroker({ storage, logger: logs.logger });
  const publisher = await connectClient(server.port);
  let reader: TestClient | undefined;
  try {
    const key = await keygen(publisher, server.secret, 'bound/', 'rwsl');
    await publisher.mqtt.publishAsync(`${key}/bound/?ttl=3600`, 'before', { qos: 1 });
    const before = await scrapeMetrics(server.port);

    await redis.kill();
    const outcomes = Array.from({ length: 12 }, (_, i) =>
      publisher.mqtt.publishAsync(`${key}/bound/?ttl=3600`, `during ${i}`, { qos: 1 }),
    );
    // Five are held; the other seven are dropped at once: counted and logged now, answered (PUBACK, then
    // a 500) after the held ones, since PUBACKs leave in the order the PUBLISHes came.
    const dropped = (): Array<Record<string, unknown>> =>
      logs.entries().filter((e) => e.msg === 'storage failed: message not stored');
    await logs.waitFor(() => dropped().length >= 7, 10000, 'seven drops logged');
    const during = await scrapeMetrics(server.port);
    assert.equal(
      (during.get('emitter_storage_errors_total') ?? 0) - (before.get('emitter_storage_errors_total') ?? 0),
      7,
      'each dropped message counted',
    );
    const warnings = dropped();
    assert.equal(warnings.length, 7, 'each dropped message logged');
    for (const warning of warnings) {
      assert.equal(warning.level, 40);
      assert.equal(warning.channel, 'bound/');
      assert.equal((warning.error as { code?: string }).code, 'ERR_EMITTER_STORAGE_UNREACHABLE');
      assert.match(String((warning.error as { message?: string }).message), /hold buffer is full/);
    }
    for (const line of logs.lines) assert.ok(!line.includes(key), 'the channel key is never logged');
    assert.ok(!logs.lines.some((line) => line.includes(server.secret)), 'nor the secret');

    // Redis back: the five held messages are written, and only then acknowledged without an error.
    await redis.restart();
    await Promise.all(outcomes);
    for (let i = 0; i < 7; i++) await publisher.next((m) => m.topic === 'emitter/error/', 10000);
    const errors = errorReplies(publisher);
    assert.equal(errors.length, 7, 'a 500 for each dropped message, none for the held ones');
    for (const error of errors) assert.equal(error.status, 500);
    reader = await connectClient(server.port);
    await reader.mqtt.subscribeAsync(`${key}/bound/?last=100`);
    await reader.next((m) => m.topic === 'bound/' && m.payload.toString().startsWith('during'), 10000);
    const replayed = reader.received.filter((m) => m.topic === 'bound/').map((m) => m.payload.toString());
    assert.equal(replayed.length, 6, `the first message and the five held ones: ${replayed.join(', ')}`);
    assert.equal(replayed[0], 'before');
  } finally {
    await reader?.end();
    await publisher.end();
    await server.close();
    await redis.stop();
  }
});
