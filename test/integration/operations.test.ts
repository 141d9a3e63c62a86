import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, keygen } from '../helpers/clients.js';
import { startTestBroker } from '../helpers/broker.js';
import { scrapeMetrics } from '../helpers/metrics.js';
import { spawnEmitter, waitForOutput } from '../helpers/process.js';
import { within } from '../helpers/wait.js';
import { InMemoryStorage } from '../../src/storage/index.js';
import type { StoredMessage } from '../../src/storage/message.js';
import { generateLicense } from '../../src/security/index.js';

test('/metrics counters move by the right amounts with traffic', async () => {
  const server = await startTestBroker();
  try {
    const before = await scrapeMetrics(server.port);
    const publisher = await connectClient(server.port);
    const a = await connectClient(server.port);
    const b = await connectClient(server.port);
    const key = await keygen(publisher, server.secret, 'metrics/', 'rw');
    await a.mqtt.subscribeAsync(`${key}/metrics/`);
    await b.mqtt.subscribeAsync(`${key}/metrics/`);
    for (let i = 0; i < 10; i++) await publisher.mqtt.publishAsync(`${key}/metrics/`, 'x'.repeat(100));
    await publisher.mqtt.publishAsync(`${key}/other/`, 'refused');
    await publisher.nextJson('emitter/error/');
    await a.next((m) => m.topic === 'metrics/' && a.received.length >= 10);
    await b.next((m) => m.topic === 'metrics/' && b.received.length >= 10);
    const after = await scrapeMetrics(server.port);
    const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    assert.equal(delta('emitter_messages_in_total'), 10);
    assert.equal(delta('emitter_messages_out_total'), 20);
    assert.equal(delta('emitter_connections_total'), 3);
    assert.equal(after.get('emitter_connections'), 3);
    assert.equal(after.get('emitter_subscriptions'), 2);
    assert.equal(delta('emitter_request_errors_total{status="401"}'), 1);
    assert.ok(delta('emitter_bytes_in_total') >= 10 * 100, 'payload bytes counted in');
    assert.ok(delta('emitter_bytes_out_total') >= 20 * 100, 'payload bytes counted out');
    assert.ok(after.has('emitter_event_loop_lag_seconds'));
    assert.ok(after.has('process_cpu_user_seconds_total'));
    await publisher.end();
    await a.end();
    await b.end();
  } finally {
    await server.close();
  }
});

test('/health of the broker: 200 with its status while serving, 503 once shutdown has begun', async () => {
  // The shutdown is held in its first phase (waiting for the acknowledgements of stored messages) by a
  // storage whose writes wait for the test; the broker, its port and its shutdown are the real ones.
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let writing: () => void = () => {};
  const writeStarted = new Promise<void>((resolve) => (writing = resolve));
  class HeldStorage extends InMemoryStorage {
    override async store(message: StoredMessage): Promise<void> {
      writing();
      await gate;
      return super.store(message);
    }
  }
  const server = await startTestBroker({ storage: new HeldStorage() });
  const health = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`http://127.0.0.1:${server.port}/health`, {
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(response.headers.get('cache-control'), 'no-store');
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const client = await connectClient(server.port);
  try {
    const ok = await health();
    assert.equal(ok.status, 200);
    assert.equal(ok.body.status, 'ok');
    assert.equal(ok.body.connections, 1);
    assert.deepEqual(ok.body.storage, { provider: 'inmemory', ok: true });
    assert.equal(typeof ok.body.uptime, 'number');

    const key = await keygen(client, server.secret, 'held/', 'rws');
    const acknowledged = client.mqtt.publishAsync(`${key}/held/?ttl=60`, 'x', { qos: 1 });
    await within(writeStarted, 5000, 'the stored publish did not reach the storage');
    const closed = server.close();
    const down = await health();
    assert.equal(down.status, 503, 'unavailable while shutting down');
    assert.equal(down.body.status, 'unavailable');
    assert.equal(down.body.connections, 1, 'the status fields are still there');

    release();
    await within(acknowledged, 5000, 'the held publish was not acknowledged before the close');
    await within(closed, 10000, 'the shutdown did not finish');
    await assert.rejects(health(), 'nothing listens once the broker has stopped');
  } finally {
    release();
    client.mqtt.end(true);
    await server.close();
  }
});

test('--dev-tls serves MQTT over TLS and WSS; SIGTERM closes clients cleanly and keeps stored messages', async () => {
  const { license, text } = generateLicense();
  const secret = license.newMasterKey();
  const dir = mkdtempSync(join(tmpdir(), 'emitter-ops-'));
  const env = {
    EMITTER_LICENSE: text,
    EMITTER_LISTEN: '127.0.0.1:0',
    EMITTER_TLS_LISTEN: '127.0.0.1:0',
    EMITTER_STORAGE_PROVIDER: 'ssd',
    EMITTER_STORAGE_CONFIG_DIR: dir,
  };
  const child = spawnEmitter(['--dev-tls'], env);
  const started = await waitForOutput(child, /"service started"/);
  const ports = [...started.input.matchAll(/"address":"127\.0\.0\.1:(\d+)"/g)].map((m) => Number(m[1]));
  assert.equal(ports.length, 2, started.input);
  const tlsPort = ports[1];

  const secure = await connectClient(tlsPort, { protocol: 'mqtts', rejectUnauthorized: false } as never);
  assert.ok(secure.mqtt.connected);
  const key = await keygen(secure, secret, 'tls/', 'rwsl');
  const wss = await connectClient(tlsPort, {
    transport: 'ws',
    protocol: 'wss',
    rejectUnauthorized: false,
  } as never);
  await wss.mqtt.subscribeAsync(`${key}/tls/`);
  for (let i = 0; i < 20; i++) await secure.mqtt.publishAsync(`${key}/tls/?ttl=600`, `s${i}`, { qos: 1 });
  await wss.next((m) => m.payload.toString() === 's19');

  const closed = once(secure.mqtt as unknown as NodeJS.EventEmitter, 'close');
  child.kill('SIGTERM');
  const [code] = (await within(once(child, 'exit'), 15000, 'no exit after SIGTERM')) as [number | null];
  assert.equal(code, 0);
  await within(closed, 5000, 'the TLS client was not closed by the shutdown');
  secure.mqtt.end(true);
  wss.mqtt.end(true);

  const again = spawnEmitter([], { ...env, EMITTER_TLS_LISTEN: ':443' });
  const port = Number((await waitForOutput(again, /"address":"127\.0\.0\.1:(\d+)"/))[1]);
  const reader = await connectClient(port);
  await reader.mqtt.subscribeAsync(`${key}/tls/?last=100`);
  await reader.next((m) => m.payload.toString() === 's19');
  assert.deepEqual(
    reader.received.map((m) => m.payload.toString()),
    Array.from({ length: 20 }, (_, i) => `s${i}`),
  );
  await reader.end();
  again.kill('SIGTERM');
  await within(once(again, 'exit'), 15000, 'no exit after SIGTERM');
});
