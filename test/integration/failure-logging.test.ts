import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisStorage } from '../../src/storage/index.js';
import { startTestBroker } from '../helpers/broker.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { captureLogs } from '../helpers/logs.js';
import { scrapeMetrics } from '../helpers/metrics.js';
import { startRedis } from '../helpers/redis.js';

// Every error reply that used to be a silent 500 is now logged (bounded, without keys) and counted.

test('a request handler that throws: a 500 reply, an error line naming the request, emitter_request_errors_total{status="500"}', async () => {
  const logs = captureLogs();
  const server = await startTestBroker({ logger: logs.logger });
  const client = await connectClient(server.port);
  try {
    server.broker.requests.register({
      name: 'boom',
      handle() {
        throw new TypeError('handler bug');
      },
    });
    const before = await scrapeMetrics(server.port);
    await client.mqtt.publishAsync('emitter/boom/', JSON.stringify({ key: server.secret }), { qos: 1 });
    const reply = await client.nextJson('emitter/boom/');
    assert.equal(reply.status, 500);
    const after = await scrapeMetrics(server.port);
    const metric = 'emitter_request_errors_total{status="500"}';
    assert.equal((after.get(metric) ?? 0) - (before.get(metric) ?? 0), 1);
    const line = logs.entries().find((e) => e.msg === 'request handler failed');
    assert.ok(line, logs.lines.join('\n'));
    assert.equal(line.level, 50);
    assert.equal(line.request, 'boom');
    assert.deepEqual(line.error, { type: 'TypeError', message: 'handler bug' });
    assert.match(String(line.stack), /handler bug/);
    assert.ok(
      !logs.lines.some((l) => l.includes(server.secret)),
      'the request body (a secret) is not logged',
    );
  } finally {
    await client.end();
    await server.close();
  }
});

test('with Redis down, a replay (subscribe with last) and a history request answer 500: warned with the channel, never the key, and counted', async () => {
  const redis = await startRedis();
  const logs = captureLogs();
  // Holding off: a store would fail at once too; reads are never held either way.
  const storage = new RedisStorage({ url: redis.url, prefix: `reads:${randomBytes(4).toString('hex')}:` });
  const server = await startTestBroker({ storage, logger: logs.logger });
  const client = await connectClient(server.port);
  let reader: TestClient | undefined;
  try {
    const key = await keygen(client, server.secret, 'reads/', 'rwsl');
    await client.mqtt.publishAsync(`${key}/reads/?ttl=60`, 'kept', { qos: 1 });
    const before = await scrapeMetrics(server.port);
    await redis.kill();

    reader = await connectClient(server.port);
    // MQTT.js rejects a subscribe whose SUBACK carries 0x80; the packet is on the error.
    const refused = (await reader.mqtt.subscribeAsync(`${key}/reads/?last=5`).then(
      () => undefined,
      (error: unknown) => error,
    )) as { packet?: { granted?: number[] } } | undefined;
    assert.deepEqual(refused?.packet?.granted, [128], 'SUBACK failure');
    assert.equal((await reader.nextJson('emitter/error/', 10000)).status, 500);
    await reader.mqtt.publishAsync('emitter/history/', JSON.stringify({ channel: `${key}/reads/?last=5` }));
    assert.equal((await reader.nextJson('emitter/history/', 10000)).status, 500);

    const after = await scrapeMetrics(server.port);
    const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    assert.equal(delta('emitter_storage_errors_total'), 2);
    assert.equal(delta('emitter_request_errors_total{status="500"}'), 2, 'both error replies counted');
    const failures = logs.entries().filter((e) => typeof e.operation === 'string');
    assert.deepEqual(
      failures.map((e) => [e.level, e.operation, e.channel, (e.error as { code?: string }).code]),
      [
        [40, 'replay', 'reads/', 'ERR_EMITTER_STORAGE_IO'],
        [40, 'history', 'reads/', 'ERR_EMITTER_STORAGE_IO'],
      ],
    );
    for (const line of logs.lines) assert.ok(!line.includes(key), 'the channel key is never logged');
  } finally {
    await reader?.end();
    await client.end();
    await server.close();
    await redis.stop();
  }
});
