import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connectClient, keygen } from '../helpers/clients.js';
import { runCommand } from '../helpers/process.js';
import { startTestBroker } from '../helpers/broker.js';

test('Debian mosquitto_sub receives what mosquitto_pub publishes, with channel keys in the topics', async () => {
  const server = await startTestBroker();
  const helper = await connectClient(server.port);
  try {
    const key = await keygen(helper, server.secret, 'sensors/#/', 'rw');
    const port = String(server.port);
    // The broker tells us when the subscription is in place, so we publish only after it.
    const subscribed = new Promise<void>((resolve) =>
      server.broker.pubsub.addListener({ subscribed: () => resolve(), unsubscribed: () => {} }),
    );
    const sub = spawn(
      'mosquitto_sub',
      ['-h', '127.0.0.1', '-p', port, '-t', `${key}/sensors/`, '-C', '2', '-W', '10', '-v'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    sub.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(sub, 'exit');
    await subscribed;
    const first = await runCommand('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-t',
      `${key}/sensors/room1/temp/`,
      '-m',
      '21.5',
    ]);
    assert.equal(first.code, 0);
    const second = await runCommand('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-q',
      '1',
      '-t',
      `${key}/sensors/room2/`,
      '-m',
      'on',
    ]);
    assert.equal(second.code, 0, 'QoS 1 publish is acknowledged');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, output);
    const lines = output.split('\n').filter((line) => line.startsWith('sensors/'));
    assert.deepEqual(lines, ['sensors/room1/temp/ 21.5', 'sensors/room2/ on']);
  } finally {
    await helper.end();
    await server.close();
  }
});
