import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { spawnEmitter, waitForOutput } from '../helpers/process.js';
import { within } from '../helpers/wait.js';
import { generateLicense } from '../../src/security/index.js';

const payloads = (client: TestClient, topic: string): string[] =>
  client.received.filter((m) => m.topic === topic).map((m) => m.payload.toString());

describe('stored messages: ttl, last, retain, history (inmemory)', () => {
  let server: TestBroker;
  let publisher: TestClient;
  let key: string;

  before(async () => {
    server = await startTestBroker();
    publisher = await connectClient(server.port);
    key = await keygen(publisher, server.secret, 'store/#/', 'rwsl');
  });
  after(async () => {
    await publisher.end();
    await server.close();
  });

  test('last=5 replays the newest five stored messages in order, then live ones', async () => {
    for (let i = 0; i < 8; i++)
      await publisher.mqtt.publishAsync(`${key}/store/a/?ttl=60`, `m${i}`, { qos: 1 });
    await publisher.mqtt.publishAsync(`${key}/store/a/`, 'not stored', { qos: 1 });
    const reader = await connectClient(server.port);
    await reader.mqtt.subscribeAsync(`${key}/store/a/?last=5`);
    await publisher.mqtt.publishAsync(`${key}/store/a/`, 'live');
    await reader.next((m) => m.payload.toString() === 'live');
    assert.deepEqual(payloads(reader, 'store/a/'), ['m3', 'm4', 'm5', 'm6', 'm7', 'live']);
    await reader.end();
  });

  test('wildcard and prefix subscriptions replay matching channels; no replay without l, no store without s', async () => {
    await publisher.mqtt.publishAsync(`${key}/store/w/x/?ttl=60`, 'wx', { qos: 1 });
    await publisher.mqtt.publishAsync(`${key}/store/w/y/?ttl=60`, 'wy', { qos: 1 });
    const reader = await connectClient(server.port);
    await reader.mqtt.subscribeAsync(`${key}/store/w/+/?last=10`);
    await reader.next((m) => m.payload.toString() === 'wy');
    assert.deepEqual(
      reader.received.map((m) => `${m.topic}=${m.payload}`),
      ['store/w/x/=wx', 'store/w/y/=wy'],
    );

    const noLoad = await keygen(publisher, server.secret, 'store/w/', 'r');
    const noStore = await keygen(publisher, server.secret, 'store/n/', 'w');
    await publisher.mqtt.publishAsync(`${noStore}/store/n/?ttl=60`, 'dropped', { qos: 1 });
    const other = await connectClient(server.port);
    await other.mqtt.subscribeAsync(`${noLoad}/store/w/?last=10`);
    await other.mqtt.subscribeAsync(`${key}/store/n/?last=10`);
    await publisher.mqtt.publishAsync(`${key}/store/w/`, 'marker');
    await other.next((m) => m.payload.toString() === 'marker');
    assert.deepEqual(
      other.received.map((m) => m.payload.toString()),
      ['marker'],
    );
    await reader.end();
    await other.end();
  });

  test('the retain flag stores the message and a plain subscribe (last defaults to 1) gets the newest', async () => {
    await publisher.mqtt.publishAsync(`${key}/store/r/`, 'old', { qos: 1, retain: true });
    await publisher.mqtt.publishAsync(`${key}/store/r/`, 'newest', { qos: 1, retain: true });
    const reader = await connectClient(server.port);
    await reader.mqtt.subscribeAsync(`${key}/store/r/`);
    assert.equal((await reader.next()).payload.toString(), 'newest');
    await reader.end();
  });

  test('no gap and no duplicate when subscribing with last during a burst', async () => {
    const reader = await connectClient(server.port);
    const burst = (async () => {
      for (let i = 0; i < 200; i++)
        await publisher.mqtt.publishAsync(`${key}/store/seam/?ttl=60`, String(i), { qos: 1 });
    })();
    // Subscribe while the burst is running (after the first stored message, to be sure).
    await publisher.mqtt.publishAsync(`${key}/store/seam/?ttl=60`, 'start', { qos: 1 });
    await reader.mqtt.subscribeAsync(`${key}/store/seam/?last=1000`);
    await burst;
    await publisher.mqtt.publishAsync(`${key}/store/seam/`, 'end');
    await reader.next((m) => m.payload.toString() === 'end');
    const got = payloads(reader, 'store/seam/').filter((p) => p !== 'start' && p !== 'end');
    assert.deepEqual(
      got,
      Array.from({ length: 200 }, (_, i) => String(i)),
    );
    await reader.end();
  });

  test('emitter/history/ returns stored messages as base64 JSON, paged with startFromID', async () => {
    for (let i = 0; i < 5; i++)
      await publisher.mqtt.publishAsync(`${key}/store/h/?ttl=60`, `h${i}`, { qos: 1 });
    await publisher.mqtt.publishAsync(
      'emitter/history/',
      JSON.stringify({ channel: `${key}/store/h/?last=2` }),
      { qos: 1 },
    );
    const page = await publisher.nextJson('emitter/history/');
    const messages = page.messages as Array<{ id: string; channel: string; payload: string }>;
    assert.deepEqual(
      messages.map((m) => Buffer.from(m.payload, 'base64').toString()),
      ['h3', 'h4'],
    );
    assert.equal(messages[0].channel, 'store/h/');
    assert.equal(typeof page.req, 'number');
    await publisher.mqtt.publishAsync(
      'emitter/history/',
      JSON.stringify({ channel: `${key}/store/h/?last=2`, startFromID: messages[0].id }),
    );
    const older = await publisher.nextJson('emitter/history/');
    assert.deepEqual(
      (older.messages as Array<{ payload: string }>).map((m) => Buffer.from(m.payload, 'base64').toString()),
      ['h1', 'h2'],
    );
    const readOnly = await keygen(publisher, server.secret, 'store/h/', 'r');
    await publisher.mqtt.publishAsync(
      'emitter/history/',
      JSON.stringify({ channel: `${readOnly}/store/h/` }),
    );
    assert.equal((await publisher.nextJson('emitter/history/')).status, 401);
  });
});

describe('ssd storage survives restarts and kill -9', () => {
  test('acknowledged QoS 1 messages are there after a restart and after kill -9 mid-burst', async () => {
    const { license, text } = generateLicense();
    const secret = license.newMasterKey();
    const dir = mkdtempSync(join(tmpdir(), 'emitter-ssd-'));
    const env = {
      EMITTER_LICENSE: text,
      EMITTER_LISTEN: '127.0.0.1:0',
      EMITTER_STORAGE_PROVIDER: 'ssd',
      EMITTER_STORAGE_CONFIG_DIR: dir,
    };
    const start = async () => {
      const child = spawnEmitter([], env);
      const port = Number((await waitForOutput(child, /"address":"127\.0\.0\.1:(\d+)"/))[1]);
      return { child, port };
    };

    // Run 1: publish, then SIGKILL in the middle of a burst.
    const first = await start();
    const client = await connectClient(first.port, { reconnectPeriod: 0 });
    const key = await keygen(client, secret, 'disk/', 'rwsl');
    const acknowledged: number[] = [];
    let stop = false;
    let reachedFifty: () => void = () => {};
    const fifty = new Promise<void>((resolve) => (reachedFifty = resolve));
    const burst = (async () => {
      for (let i = 0; i < 5000 && !stop; i++) {
        try {
          await client.mqtt.publishAsync(`${key}/disk/?ttl=3600`, String(i), { qos: 1 });
          acknowledged.push(i);
          if (acknowledged.length === 50) reachedFifty();
        } catch {
          return;
        }
      }
    })();
    // Kill once 50 are acknowledged, while the burst goes on; a burst that ends first fails the test.
    const endedEarly = burst.then(() => {
      throw new Error(`the burst ended after ${acknowledged.length} acknowledged publishes`);
    });
    await within(Promise.race([fifty, endedEarly]), 30000, 'fewer than 50 publishes acknowledged');
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    stop = true;
    // Publishes in flight when the broker died never settle: drop the client without waiting for them.
    void burst;
    client.mqtt.end(true);
    assert.ok(acknowledged.length >= 50);

    // Run 2: everything acknowledged is still there, in order.
    const second = await start();
    const reader = await connectClient(second.port);
    await reader.mqtt.subscribeAsync(`${key}/disk/?last=10000`);
    const last = String(acknowledged[acknowledged.length - 1]);
    await reader.next((m) => m.payload.toString() === last, 10000);
    const replayed = reader.received.map((m) => Number(m.payload.toString()));
    for (const id of acknowledged) assert.ok(replayed.includes(id), `acknowledged message ${id} survived`);
    assert.deepEqual(
      [...replayed].sort((a, b) => a - b),
      replayed,
      'oldest first',
    );
    await reader.end();
    second.child.kill('SIGTERM');
    const [code] = (await within(once(second.child, 'exit'), 15000, 'no exit after SIGTERM')) as [
      number | null,
    ];
    assert.equal(code, 0, 'a clean shutdown after a restart');
  });
});
