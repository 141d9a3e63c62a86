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
import { connectRaw } from '../helpers/raw-socket.js';

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

  // Ten at once: one after the other, a loaded machine could spread them over several one-second windows.
  const rated = await startTestBroker({ limits: { connectRate: 3 } });
  const outcomes = await Promise.all(Array.from({ length: 10 }, () => refused(rated.port)));
  const accepted = outcomes.filter((refusedIt) => !refusedIt).length;
  assert.ok(accepted >= 3, `only ${accepted} of 10 accepted: the first 3 of a second are let in`);
  assert.ok(accepted < 10, 'connections over 3 per second are refused');
  assert.equal(rated.broker.counters.refusedConnections, 10 - accepted);
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
  // SUBSCRIBE goes out on a bare socket: MQTT.js refuses to send some of these filters (`#` not last).
  const raw = await connectRaw(server.port, 'tricks');
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
    let messageId = 0;
    for (const topic of tricks) {
      await client.mqtt.publishAsync(topic, 'x');
      const reply = await client.nextJson('emitter/error/');
      assert.ok([400, 401, 403].includes(reply.status as number), `${topic} -> ${JSON.stringify(reply)}`);

      const filter = topic.replace('?ttl=5', '');
      const id = ++messageId;
      raw.send({ cmd: 'subscribe', messageId: id, subscriptions: [{ topic: filter, qos: 0 }] });
      const suback = await raw.next((p) => p.cmd === 'suback' && p.messageId === id);
      const granted = suback.cmd === 'suback' ? suback.granted : [];
      if (topic.includes('//')) {
        // SUBSCRIBE topics are normalised as Emitter does (`//` -> `/`): this is room/a/ itself, allowed.
        assert.deepEqual(granted, [0], `subscribe ${filter}`);
        raw.send({ cmd: 'unsubscribe', messageId: ++messageId, unsubscriptions: [`${key}/room/a/`] });
        await raw.next((p) => p.cmd === 'unsuback' && p.messageId === messageId);
        continue;
      }
      assert.deepEqual(granted, [128], `subscribe ${filter} refused with a key for room/a/`);
      const error = await raw.next((p) => p.cmd === 'publish' && p.topic === 'emitter/error/');
      const status = error.cmd === 'publish' ? JSON.parse(error.payload.toString()).status : undefined;
      assert.ok([400, 401, 403].includes(status), `subscribe ${filter} -> error ${status}`);
    }
    // Presence and links outside the key's target are refused too.
    await client.mqtt.publishAsync('emitter/presence/', JSON.stringify({ key, channel: 'room/' }));
    assert.equal((await client.nextJson('emitter/presence/')).status, 401);
    await client.mqtt.publishAsync('emitter/link/', JSON.stringify({ name: 'x', key, channel: 'room/b/' }));
    assert.equal((await client.nextJson('emitter/link/')).status, 401);
  } finally {
    raw.close();
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
  const other = await connectClient(server.port);
  try {
    const key = await keygen(flooder, server.secret, 'rate/#/', 'rw');
    await flooder.mqtt.subscribeAsync(`${key}/rate/flood/`);
    await other.mqtt.subscribeAsync(`${key}/rate/other/`);
    const count = 100;
    const flood = (): number => flooder.received.filter((m) => m.topic === 'rate/flood/').length;
    const started = Date.now();
    for (let i = 0; i < count; i++) flooder.mqtt.publish(`${key}/rate/flood/`, String(i));
    // While the flooder waits for its next second, the other client is served: its round trip ends
    // before the flood does. (Even on a stalled machine: a paused reader gets one window per timer, and
    // the broker reads the other socket in the same turn its timer fires.)
    await flooder.next((m) => m.topic === 'rate/flood/', 10000);
    await other.mqtt.publishAsync(`${key}/rate/other/`, 'served', { qos: 1 });
    await other.next((m) => m.topic === 'rate/other/', 10000);
    assert.ok(flood() < count, `the other client was served only after all ${count} flood messages`);

    await flooder.next((m) => m.payload.toString() === String(count - 1), 30000);
    // Past the first window, every 20 packets wait for a timer of a full second: 100 need four of them.
    // A lower bound only, which load can only lengthen; no upper bound is asserted.
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 3000, `${count} packets at 20 per second read in ${elapsed} ms`);
    assert.equal(flood(), count, 'slowed, nothing lost');
  } finally {
    await flooder.end();
    await other.end();
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
