import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connectClient, keygen } from '../helpers/clients.js';
import { startTestBroker } from '../helpers/broker.js';

const CHAT = fileURLToPath(new URL('../../examples/chat/chat.ts', import.meta.url));

/** The chat example as a user runs it, with its stdout collected and awaitable. */
function startChat(
  key: string,
  name: string,
  port: number,
): { child: ChildProcessWithoutNullStreams; waitFor(pattern: RegExp): Promise<void>; output(): string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHAT, key, name, '127.0.0.1', String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const waitFor = (pattern: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} within 20 s: ${output}`)), 20000);
      const check = (): void => {
        if (!pattern.test(output)) return;
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.off('exit', exited);
        resolve();
      };
      const exited = (): void => {
        clearTimeout(timer);
        reject(new Error(`chat exited before ${pattern}: ${output}`));
      };
      child.stdout.on('data', check);
      child.once('exit', exited);
      check();
    });
  return { child, waitFor, output: () => output };
}

test('the chat example shows a non-JSON message as text, sends lines as JSON and replays history with rwsl', async () => {
  const server = await startTestBroker();
  const watcher = await connectClient(server.port);
  const key = await keygen(watcher, server.secret, 'chat/#/', 'rwsl');
  await watcher.mqtt.subscribeAsync(`${key}/chat/`);
  const alice = startChat(key, 'alice', server.port);
  let bob: ReturnType<typeof startChat> | undefined;
  try {
    await alice.waitFor(/connected as alice/);
    // The README's mosquitto example: a plain-text message used to crash the chat.
    await promisify(execFile)('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', String(server.port)],
      ...['-t', `${key}/chat/room1/`, '-m', 'hello, emitter!'],
    ]);
    await alice.waitFor(/\[chat\/room1\/\] hello, emitter!\n/);

    alice.child.stdin.write('hi all\n');
    const sent = await watcher.next((m) => m.topic === 'chat/lobby/');
    assert.deepEqual(JSON.parse(sent.payload.toString()), { from: 'alice', text: 'hi all' });

    // A newcomer sees the stored line (s and l in the key); its own lines are not echoed to it.
    bob = startChat(key, 'bob', server.port);
    await bob.waitFor(/\[chat\/lobby\/\] alice: hi all\n/);
    await bob.waitFor(/connected as bob/);
    bob.child.stdin.write('hello alice\n');
    await alice.waitFor(/\[chat\/lobby\/\] bob: hello alice\n/);

    for (const chat of [alice, bob]) {
      chat.child.stdin.end(); // Ctrl-D
      const [code] = (await once(chat.child, 'exit')) as [number | null];
      assert.equal(code, 0, chat.output());
    }
    assert.doesNotMatch(alice.output(), /error|Error/);
  } finally {
    alice.child.kill();
    bob?.child.kill();
    await watcher.end();
    await server.close();
  }
});
