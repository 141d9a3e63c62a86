import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino, type LevelWithSilent } from 'pino';
import { connectClient, keygen } from '../helpers/clients.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { DEFAULT_REFUSALS_PER_SECOND } from '../../src/broker/refusal-log.js';

type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A broker whose log lines (JSON, as in production) are collected, with a way to await one. */
async function loggedBroker(level: LevelWithSilent): Promise<{
  server: TestBroker;
  lines: LogLine[];
  waitFor(match: (line: LogLine) => boolean): Promise<LogLine>;
}> {
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  const logger = pino(
    { level, base: undefined },
    {
      write(text: string) {
        lines.push(JSON.parse(text) as LogLine);
        for (const wake of waiters) wake();
      },
    },
  );
  const server = await startTestBroker({ logger });
  const waitFor = (match: (line: LogLine) => boolean): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = lines.find(match);
        if (!found) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching log line within 10 s; got ${JSON.stringify(lines.map((l) => l.msg))}`));
      }, 10000);
      if (!check()) waiters.add(check);
    });
  return { server, lines, waitFor };
}

const refusals = (lines: LogLine[]): LogLine[] => lines.filter((line) => line.msg === 'request refused');

test('refused requests are logged at info with client id, address, status and reason, never the key', async () => {
  const { server, lines, waitFor } = await loggedBroker('info');
  try {
    const client = await connectClient(server.port, { clientId: 'logged-client' });
    const readOnly = await keygen(client, server.secret, 'logs/', 'r');
    const cases: Array<[topic: string, payload: string | Buffer, status: number]> = [
      [`not-a-valid-key-at-all-0123456789/logs/`, 'x', 401], // bad key
      [`${readOnly}/logs/`, 'x', 401], // missing permission (write)
      [`${readOnly}/logs/no-slash`, 'x', 400], // bad topic
      [`${readOnly}/logs/`, Buffer.alloc(70000), 413], // oversize
    ];
    for (const [topic, payload, status] of cases) {
      await client.mqtt.publishAsync(topic, payload);
      assert.equal((await client.nextJson('emitter/error/')).status, status);
    }
    // A request refused on its own topic (a channel key is not the secret) is logged the same way.
    await client.mqtt.publishAsync(
      'emitter/keygen/',
      JSON.stringify({ key: readOnly, channel: 'x/', type: 'r', ttl: 0 }),
    );
    assert.equal((await client.nextJson('emitter/keygen/')).status, 401);
    await waitFor(() => refusals(lines).length === 5);
    const logged = refusals(lines);
    assert.deepEqual(
      logged.map((line) => line.status),
      [401, 401, 400, 413, 401],
    );
    for (const line of logged) {
      assert.equal(line.level, 30, 'info');
      assert.equal(line.clientId, 'logged-client');
      assert.equal(line.remoteAddress, '127.0.0.1');
      assert.equal(typeof line.reason, 'string');
      assert.ok((line.reason as string).length > 0);
    }
    assert.match(String(logged[3].reason), /larger than the maximum message size/);
    const everything = lines.map((line) => JSON.stringify(line)).join('\n');
    assert.ok(!everything.includes(readOnly), 'the channel key never appears in the log');
    assert.ok(!everything.includes(server.secret), 'the secret never appears in the log');
    await client.end();
  } finally {
    await server.close();
  }
});

test('a flood of refusals is rate-limited: at most the limit per second, then a suppressed summary', async () => {
  const { server, lines, waitFor } = await loggedBroker('info');
  try {
    const client = await connectClient(server.port, { clientId: 'flooder' });
    const flood = 1000;
    // QoS 1: the last PUBACK comes after every earlier PUBLISH was handled (errors go out in order).
    for (let i = 0; i < flood - 1; i++) void client.mqtt.publish('bad-key/flood/', 'x');
    await client.mqtt.publishAsync('bad-key/flood/', 'x', { qos: 1 });
    const summary = await waitFor((line) => typeof line.suppressed === 'number');
    await waitFor(() => {
      const suppressed = lines.reduce((sum, line) => sum + (Number(line.suppressed) || 0), 0);
      return refusals(lines).length + suppressed === flood;
    });
    const logged = refusals(lines).length;
    const summaries = lines.filter((line) => typeof line.suppressed === 'number');
    // The flood took a few seconds at most on a busy machine: a few windows' worth of lines, not 1000.
    assert.ok(logged >= DEFAULT_REFUSALS_PER_SECOND, `${logged} logged`);
    assert.ok(logged <= DEFAULT_REFUSALS_PER_SECOND * (summaries.length + 1), `${logged} logged`);
    assert.ok(logged < flood / 4, `${logged} logged`);
    assert.equal(summary.level, 30);
    assert.deepEqual(Object.keys(summary.byStatus as object), ['401']);
    await client.end();
  } finally {
    await server.close();
  }
});

test('connect and disconnect are logged at debug with the remote address; not at info', async () => {
  const debug = await loggedBroker('debug');
  try {
    const client = await connectClient(debug.server.port, { clientId: 'visitor' });
    const connected = await debug.waitFor((line) => line.msg === 'client connected');
    await client.end();
    const disconnected = await debug.waitFor((line) => line.msg === 'client disconnected');
    for (const line of [connected, disconnected]) {
      assert.equal(line.level, 20, 'debug');
      assert.equal(line.clientId, 'visitor');
      assert.equal(line.remoteAddress, '127.0.0.1');
    }
    // Over WebSocket the address comes from the upgraded request.
    const ws = await connectClient(debug.server.port, { clientId: 'ws-visitor', transport: 'ws' });
    const wsLine = await debug.waitFor((line) => line.clientId === 'ws-visitor');
    assert.equal(wsLine.remoteAddress, '127.0.0.1');
    await ws.end();
  } finally {
    await debug.server.close();
  }

  const quiet = await loggedBroker('warn');
  try {
    const client = await connectClient(quiet.server.port);
    await client.mqtt.publishAsync('bad-key/x/', 'x');
    await client.nextJson('emitter/error/');
    await client.end();
    assert.deepEqual(
      quiet.lines.filter((line) => line.level < 40),
      [],
      'nothing below warn: no connect, disconnect or refusal lines',
    );
  } finally {
    await quiet.server.close();
  }
});
