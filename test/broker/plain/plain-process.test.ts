import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, keygen } from '../../helpers/clients.js';
import { startBrokerProcess } from '../../helpers/broker-process.js';
import { runCommand } from '../../helpers/process.js';

// Plain MQTT against the `emitter` process, configured by EMITTER_KEYPASSWORD: Debian's mosquitto_pub and
// mosquitto_sub with a channel key as password (-u x -P KEY), MQTT 3.1.1 and 5, and a persistent plain
// session surviving a kill -9 with the ssd session store.

test('mosquitto_pub / mosquitto_sub with a channel key as password, 3.1.1 and -V 5', async () => {
  const server = await startBrokerProcess({ EMITTER_KEYPASSWORD: 'true' });
  const helper = await connectClient(server.port);
  try {
    const key = await keygen(helper, server.secret, 'sensors/#/', 'rw');
    const readOnly = await keygen(helper, server.secret, 'sensors/#/', 'r');
    const port = String(server.port);
    const auth = ['-h', '127.0.0.1', '-p', port, '-u', 'device', '-P'];
    // Line-buffered (stdbuf): its SUBACK line is read when it is printed, not at exit.
    const sub = spawn(
      'stdbuf',
      ['-oL', 'mosquitto_sub', ...auth, key, '-V', '5', '-t', 'sensors/+', '-C', '2', '-W', '10', '-v', '-d'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const subscribed = new Promise<void>((resolve) =>
      sub.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('SUBACK')) resolve();
      }),
    );
    const exited = once(sub, 'exit');
    await subscribed;
    // A bad key is refused at CONNECT; a key without `w` publishes nothing.
    const refused = await runCommand('mosquitto_pub', [...auth, 'not-a-key', '-t', 'sensors/x', '-m', 'no']);
    assert.notEqual(refused.code, 0);
    await runCommand('mosquitto_pub', [
      ...auth,
      readOnly,
      '-V',
      '5',
      '-q',
      '1',
      '-t',
      'sensors/ro',
      '-m',
      'no',
    ]);
    const first = await runCommand('mosquitto_pub', [...auth, key, '-t', 'sensors/room1', '-m', '21.5']);
    assert.equal(first.code, 0);
    const second = await runCommand('mosquitto_pub', [
      ...auth,
      key,
      '-V',
      '5',
      '-q',
      '1',
      '-t',
      'sensors/room 2',
      '-m',
      'on',
    ]);
    assert.equal(second.code, 0);
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, output);
    const lines = output.split('\n').filter((line) => line.startsWith('sensors/'));
    assert.deepEqual(lines, ['sensors/room1 21.5', 'sensors/room 2 on']);
  } finally {
    await helper.end();
    await server.stop();
  }
});

test('a persistent plain session keeps its plain subscription and queued messages across kill -9 (ssd)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emitter-plain-sessions-'));
  const env = {
    EMITTER_KEYPASSWORD: 'true',
    EMITTER_STORAGE_PROVIDER: 'ssd',
    EMITTER_STORAGE_CONFIG_DIR: dir,
  };
  const first = await startBrokerProcess(env);
  const helper = await connectClient(first.port);
  const key = await keygen(helper, first.secret, 'orders/#/', 'rw');
  await helper.end();
  const options = { username: 'w', password: key, clientId: 'plain-warehouse', clean: false } as const;
  const away = await connectClient(first.port, {
    ...options,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
  });
  await away.mqtt.subscribeAsync('orders/+', { qos: 1 });
  await away.end();
  const publisher = await connectClient(first.port, { username: 'p', password: key });
  await publisher.mqtt.publishAsync('orders/1', 'queued', { qos: 1 });
  await first.kill();
  publisher.mqtt.end(true);

  const second = await startBrokerProcess(env, first.license);
  try {
    const back = await connectClient(second.port, {
      ...options,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 3600 },
    });
    const queued = await back.next((m) => m.payload.toString() === 'queued', 10000);
    assert.equal(queued.topic, 'orders/1');
    const again = await connectClient(second.port, { username: 'p', password: key });
    await again.mqtt.publishAsync('orders/2', 'live', { qos: 1 });
    await again.mqtt.publishAsync('orders/2/deeper', 'not matched', { qos: 1 });
    await again.mqtt.publishAsync('orders/3', 'last', { qos: 1 });
    await back.next((m) => m.payload.toString() === 'last', 10000);
    assert.deepEqual(
      back.received.map((m) => m.topic),
      ['orders/1', 'orders/2', 'orders/3'],
    );
    await again.end();
    await back.end();
  } finally {
    assert.equal(await second.stop(), 0);
  }
});
