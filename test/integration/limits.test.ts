import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { connectClient, keygen } from '../helpers/clients.js';
import { startTestBroker } from '../helpers/broker.js';
import { runEmitter } from '../helpers/process.js';

async function refused(port: number): Promise<boolean> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(
    Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00]),
  );
  const [first] = (await Promise.race([
    once(socket, 'data'),
    once(socket, 'close').then(() => [undefined]),
  ])) as [Buffer | undefined];
  socket.destroy();
  return first === undefined;
}

test('maxConnections and connectRate refuse the excess; the clients already in keep working', async () => {
  const server = await startTestBroker({ limits: { maxConnections: 2 } });
  const a = await connectClient(server.port);
  const b = await connectClient(server.port);
  assert.equal(await refused(server.port), true, 'a third connection is refused');
  const key = await keygen(a, server.secret, 'cap/', 'rw');
  await b.mqtt.subscribeAsync(`${key}/cap/`);
  await a.mqtt.publishAsync(`${key}/cap/`, 'fine');
  assert.equal((await b.next()).payload.toString(), 'fine');
  assert.equal(server.broker.counters.refusedConnections, 1);
  await a.end();
  await b.end();
  await server.close();

  const rated = await startTestBroker({ limits: { connectRate: 3 } });
  const outcomes: boolean[] = [];
  for (let i = 0; i < 5; i++) outcomes.push(await refused(rated.port));
  assert.deepEqual(outcomes.slice(0, 3), [false, false, false]);
  assert.ok(outcomes.slice(3).includes(true), 'connections over 3 per second are refused');
  await rated.close();
});

test('maxSubscriptions, maxTopicLength and maxTopicLevels answer with errors, not crashes', async () => {
  const server = await startTestBroker({
    limits: { maxSubscriptions: 3, maxTopicLength: 200, maxTopicLevels: 5 },
  });
  const client = await connectClient(server.port);
  try {
    const key = await keygen(client, server.secret, '#/', 'rw');
    for (const channel of ['a/', 'b/', 'c/']) await client.mqtt.subscribeAsync(`${key}/${channel}`);
    await client.mqtt.subscribeAsync(`${key}/a/`); // the same subscription again is fine
    const fourth = await client.mqtt.subscribeAsync(`${key}/d/`).then(
      () => undefined,
      (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
    );
    assert.deepEqual(fourth, [128]);
    assert.equal((await client.nextJson('emitter/error/')).status, 429);

    await client.mqtt.publishAsync(`${key}/${'x'.repeat(300)}/`, 'long');
    assert.equal(
      (await client.nextJson('emitter/error/')).message,
      'the topic is too long or has too many levels',
    );
    await client.mqtt.publishAsync(`${key}/1/2/3/4/5/6/`, 'deep');
    assert.equal((await client.nextJson('emitter/error/')).status, 400);
    await client.mqtt.publishAsync(`${key}/a/2/3/4/5/`, 'deep enough');
    assert.equal((await client.next((m) => m.topic === 'a/2/3/4/5/')).payload.toString(), 'deep enough');
  } finally {
    await client.end();
    await server.close();
  }
});

test('topic tricks never widen a key: wildcards, empty levels, dots, unicode, option injection', async () => {
  const server = await startTestBroker();
  const client = await connectClient(server.port);
  try {
    const key = await keygen(client, server.secret, 'room/a/', 'rw');
    const tricks = [
      `${key}/room/+/`,
      `${key}/room/#/`,
      `${key}/room/a/../b/`,
      `${key}/room//a/`,
      `${key}/room/a/b/`,
      `${key}/room/\u00e4/`,
      `${key}/room/b/?ttl=5&key=${key}`,
      `${key}/#/`,
      `${key}/+/a/`,
    ];
    for (const topic of tricks) {
      await client.mqtt.publishAsync(topic, 'x');
      const reply = await client.nextJson('emitter/error/');
      assert.ok([400, 401, 403].includes(reply.status as number), `${topic} -> ${JSON.stringify(reply)}`);
      const sub = await client.mqtt.subscribeAsync(topic.replace('?ttl=5', '')).then(
        (granted) => granted.map((g) => g.qos),
        (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
      );
      if (sub === undefined) continue; // MQTT.js itself refuses to send some of these filters
      if (topic.includes('/room/a/../') || topic.includes('/room/b/') || topic.includes('\u00e4')) {
        assert.deepEqual(sub, [128], `subscribe ${topic}`);
        await client.nextJson('emitter/error/');
      } else if (sub?.[0] === 128) {
        await client.nextJson('emitter/error/');
      } else if (topic.includes('//')) {
        // SUBSCRIBE topics are normalised as Emitter does (`//` -> `/`): this is room/a/ itself, allowed.
        await client.mqtt.unsubscribeAsync(`${key}/room/a/`);
      } else {
        assert.fail(`subscribe ${topic} was accepted with a key for room/a/`);
      }
    }
    // Presence and links outside the key's target are refused too.
    await client.mqtt.publishAsync('emitter/presence/', JSON.stringify({ key, channel: 'room/' }));
    assert.equal((await client.nextJson('emitter/presence/')).status, 401);
    await client.mqtt.publishAsync('emitter/link/', JSON.stringify({ name: 'x', key, channel: 'room/b/' }));
    assert.equal((await client.nextJson('emitter/link/')).status, 401);
  } finally {
    await client.end();
    await server.close();
  }
});

test('secret keys and channel keys never appear in logs or metrics', async () => {
  let logged = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logged += String(chunk);
      done();
    },
  });
  const server = await startTestBroker({ logger: pino({ level: 'trace' }, sink) });
  const client = await connectClient(server.port);
  try {
    const key = await keygen(client, server.secret, 'logs/', 'rw');
    await client.mqtt.publishAsync(`${key}/logs/`, 'x');
    await client.mqtt.publishAsync(`${key}/elsewhere/`, 'x');
    await client.nextJson('emitter/error/');
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    await client.end();
    assert.ok(logged.length > 0, 'something was logged');
    for (const secret of [server.secret, key, server.license.toString()]) {
      assert.ok(!logged.includes(secret), 'not in logs');
      assert.ok(!metrics.includes(secret), 'not in metrics');
    }
  } finally {
    await server.close();
  }
});

test('a corrupt or unusable ssd directory stops the broker with a clear message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emitter-corrupt-'));
  writeFileSync(join(dir, 'messages.sqlite'), Buffer.alloc(8192, 0x5a));
  const corrupt = await runEmitter([], {
    EMITTER_LISTEN: '127.0.0.1:0',
    EMITTER_STORAGE_PROVIDER: 'ssd',
    EMITTER_STORAGE_CONFIG_DIR: dir,
  });
  assert.equal(corrupt.code, 1);
  assert.match(corrupt.stderr, /storage: .*messages\.sqlite/);

  const file = join(dir, 'not-a-directory');
  writeFileSync(file, 'x');
  const unusable = await runEmitter([], {
    EMITTER_LISTEN: '127.0.0.1:0',
    EMITTER_STORAGE_PROVIDER: 'ssd',
    EMITTER_STORAGE_CONFIG_DIR: file,
  });
  assert.equal(unusable.code, 1);
  assert.match(unusable.stderr, /storage: .*not-a-directory/);
});

test('readRate: a client sending faster than the limit is slowed down, not served ahead of others', async () => {
  const server = await startTestBroker({ limits: { readRate: 20 } });
  const flooder = await connectClient(server.port);
  try {
    const key = await keygen(flooder, server.secret, 'rate/', 'rw');
    await flooder.mqtt.subscribeAsync(`${key}/rate/`);
    const started = Date.now();
    for (let i = 0; i < 60; i++) flooder.mqtt.publish(`${key}/rate/`, String(i));
    await flooder.next((m) => m.payload.toString() === '59', 15000);
    // 60 packets at 20 per second need at least two more seconds after the first batch.
    assert.ok(Date.now() - started >= 1500, `60 packets read in ${Date.now() - started} ms`);
    assert.equal(flooder.received.filter((m) => m.topic === 'rate/').length, 60, 'slowed, nothing lost');
  } finally {
    await flooder.end();
    await server.close();
  }
});

test('a full storage disk stops the start with a clear message (a 12 KiB tmpfs)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emitter-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12k', 'tmpfs', dir]);
  try {
    const full = await runEmitter([], {
      EMITTER_LISTEN: '127.0.0.1:0',
      EMITTER_STORAGE_PROVIDER: 'ssd',
      EMITTER_STORAGE_CONFIG_DIR: dir,
    });
    assert.equal(full.code, 1);
    assert.match(full.stderr, /storage: .*(full|space)/);
  } finally {
    execFileSync('umount', [dir]);
  }
});
