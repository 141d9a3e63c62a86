import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { connectClient } from '../helpers/clients.js';
import { within } from '../helpers/wait.js';

const SERVER = fileURLToPath(new URL('../../examples/embed/server.ts', import.meta.url));

test('examples/embed: one command serves the page, the app routes and the broker on one port', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  after(() => child.kill('SIGKILL'));
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await within(
    new Promise<number>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
        if (match) resolve(Number(match[1]));
      });
    }),
    30000,
    'the example to listen',
  );
  const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
  assert.match(page, /Chat on the application's own port/);
  assert.equal((await fetch(`http://127.0.0.1:${port}/mqtt.esm.js`)).status, 200);

  const refused = await connectClient(port, {
    transport: 'ws',
    path: '/mqtt',
    username: 'bob',
    password: 'wrong',
  }).then(
    () => -1,
    (error: { code?: number }) => error.code,
  );
  assert.equal(refused, 4);
  const bob = await connectClient(port, {
    transport: 'ws',
    path: '/mqtt',
    username: 'bob',
    password: 'builder',
  });
  await bob.mqtt.subscribeAsync('chat/lobby');
  await bob.mqtt.publishAsync('chat/lobby', 'hello from bob');
  assert.equal((await bob.next((m) => m.topic === 'chat/lobby/')).payload.toString(), 'hello from bob');
  await bob.mqtt.publishAsync('announcements', 'bob is no admin');
  const error = await bob.nextJson('emitter/error/');
  assert.deepEqual([error.status, error.message], [403, 'only admins may announce']);
  const stats = (await (await fetch(`http://127.0.0.1:${port}/api/stats`)).json()) as Record<string, number>;
  assert.deepEqual(stats, { online: 1, messages: 1, refused: 1 });
  await bob.end();

  child.kill('SIGTERM');
  const [code] = (await within(once(child, 'exit'), 10000, 'the example to stop')) as [number];
  assert.equal(code, 0, output);
});
