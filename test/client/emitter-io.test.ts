import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as ours from '../../src/client/index.js';
import { startTestBroker } from '../helpers/broker.js';

// The official JavaScript SDK (npm emitter-io 1.39.0) and ours, driven by the same script against our
// broker: what each client receives must be the same, event by event.

type Callback = (argument: unknown) => void;
interface SdkMessage {
  channel: string;
  binary: Uint8Array;
  asString(): string;
  asBinary(): Uint8Array;
  asObject(): unknown;
}
interface SdkClient {
  on(event: string, callback: Callback): SdkClient;
  off(event: string, callback: Callback): SdkClient;
  publish(request: object): SdkClient;
  publishWithLink(request: object): SdkClient;
  subscribe(request: object): SdkClient;
  unsubscribe(request: object): SdkClient;
  keygen(request: object): SdkClient;
  presence(request: object): SdkClient;
  link(request: object): SdkClient;
  me(): SdkClient;
  disconnect(): SdkClient;
}
interface Sdk {
  connect(request?: object, handler?: Callback): SdkClient;
  Emitter: new () => SdkClient;
  EmitterMessage: new (message: { topic: string; payload: Uint8Array }) => SdkMessage;
  EmitterEvents: Record<string, string>;
}

const require = createRequire(import.meta.url);
const official = require('emitter-io') as Sdk;
const ourSdk = ours as unknown as Sdk;

/** Runs emitter-io's console noise (link logs its request, asObject logs bad JSON) into the void. */
async function quietly<T>(run: () => Promise<T>): Promise<T> {
  const { log, error } = console;
  console.log = () => {};
  console.error = () => {};
  try {
    return await run();
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** The script: each step is a call and how many events it must bring; returns every event, in order. */
async function runScript(sdk: Sdk): Promise<unknown[][]> {
  const server = await startTestBroker();
  const log: unknown[][] = [];
  let wake = (): void => {};
  const record = (...entry: unknown[]): void => {
    log.push(entry);
    wake();
  };
  const until = (count: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`waited for ${count} events, got: ${JSON.stringify(log)}`)),
        10000,
      );
      wake = () => {
        if (log.length < count) return;
        clearTimeout(timer);
        resolve();
      };
      wake();
    });
  const step = async (events: number, call: () => SdkClient): Promise<void> => {
    const expected = log.length + events;
    record('returns client', call() === client);
    await until(expected + 1);
  };

  const client: SdkClient = sdk.connect(
    { host: '127.0.0.1', port: server.port, secure: false, reconnectPeriod: 0, username: 'ada' },
    (connected) => record('connect', connected === client),
  );
  client.on('keygen', (reply) => record('keygen', reply));
  client.on('presence', (event) => record('presence', event));
  client.on('me', (reply) => record('me', reply));
  client.on('message', (message) => {
    const m = message as SdkMessage;
    // The bytes of data messages (broker replies carry a packet id, compared as text below).
    const bytes = m.channel.startsWith('emitter/') ? '' : Buffer.from(m.asBinary()).toString('hex');
    record('message', m.channel, m.asString(), bytes, Buffer.isBuffer(m.binary), m.asObject());
  });
  client.on('disconnect', (disconnected) => record('disconnect', disconnected === client));
  client.on('error', (error) => record('error', (error as Error).message));
  try {
    await until(1);
    const secret = server.secret;
    await step(1, () => client.keygen({ key: secret, channel: 'cmp/#/', type: 'rwslp', ttl: 0 }));
    const key = (log.at(-1)?.[1] as { key: string }).key;
    await step(1, () => client.keygen({ key, channel: 'cmp/x/', type: 'rw', ttl: 0 }));
    await step(1, () => client.presence({ key, channel: 'cmp/room/', status: true, changes: true }));
    await step(0, () => client.publish({ key, channel: 'cmp/room/', message: 'stored 1', ttl: 60 }));
    await step(0, () => client.publish({ key, channel: 'cmp/room/', message: 'stored 2', ttl: 60 }));
    await step(3, () => client.subscribe({ key, channel: 'cmp/room/', last: 2 }));
    await step(1, () => client.publish({ key, channel: 'cmp/room/', message: 'hello' }));
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await step(1, () => client.publish({ key, channel: 'cmp/room/', message: bytes }));
    await step(0, () => client.publish({ key, channel: 'cmp/room/', message: 'hidden', me: false }));
    await step(1, () => client.publish({ key, channel: 'cmp/room/', message: '{"n":1}' }));
    await step(1, () =>
      client.link({ key, channel: 'cmp/room/', name: 'r1', private: false, subscribe: false }),
    );
    await step(1, () => client.publishWithLink({ link: 'r1', message: 'via link' }));
    await step(1, () => client.me());
    await step(1, () => client.publish({ key: 'not-a-key', channel: 'cmp/room/', message: 'refused' }));
    await step(1, () => client.subscribe({ key: 'not-a-key', channel: 'cmp/room/' }));
    await step(1, () => client.unsubscribe({ key, channel: 'cmp/room/' }));
    await step(1, () => client.presence({ key, channel: 'cmp/room/' }));
    await step(1, () => client.keygen({ key: secret, channel: 'cmp/y/', type: 'r' }));
    await step(1, () => client.disconnect());
    return log;
  } finally {
    await server.close();
  }
}

/** Replaces what differs from run to run (keys, connection ids, times, packet ids) with placeholders. */
function normalise(log: unknown[][]): unknown {
  const names = new Map<string, string>();
  const text = JSON.stringify(log)
    .replace(/(?<![\w-])[\w-]{32}(?![\w-])/g, (key) => {
      if (!names.has(key)) names.set(key, `<key${names.size + 1}>`);
      return names.get(key) as string;
    })
    .replace(/(?<![\w-])[A-Z2-7]{26}(?![\w-])/g, '<id>')
    .replace(/(time|req)(\\?)":\d+/g, '$1$2":0');
  return JSON.parse(text);
}

test('the same script against emitter-io and emitter-ts receives the same events, payloads and messages', async () => {
  const theirs = normalise(await quietly(() => runScript(official))) as unknown[][];
  const mine = normalise(await quietly(() => runScript(ourSdk))) as unknown[][];
  assert.deepEqual(mine, theirs);

  // And the script saw what it should have, so the comparison is not between two empty logs.
  const events = theirs.filter((entry) => entry[0] !== 'returns client');
  assert.deepEqual(
    events.map((entry) => (entry[0] === 'message' ? `message ${String(entry[1])}` : entry[0])),
    [
      'connect',
      'keygen',
      'keygen',
      'presence',
      'presence',
      'message cmp/room/',
      'message cmp/room/',
      'message cmp/room/',
      'message cmp/room/',
      'message cmp/room/',
      'message emitter/link/',
      'message cmp/room/',
      'me',
      'message emitter/error/',
      'message emitter/error/',
      'presence',
      'presence',
      'keygen',
      'disconnect',
    ],
  );
  assert.ok(theirs.every((entry) => entry[0] !== 'returns client' || entry[1] === true));
  assert.deepEqual(events[2], [
    'keygen',
    { status: 401, message: 'the security key provided is not authorized to perform this operation' },
  ]);
  assert.equal((events[3][1] as { event: string }).event, 'status');
  assert.deepEqual(events[6].slice(1, 3), ['cmp/room/', 'stored 2']);
  assert.equal(events[8][3], Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex'));
  assert.deepEqual(events[9][5], { n: 1 });
  assert.deepEqual(events[12][1], { status: 200, id: '<id>', links: { r1: 'cmp/room/?me=1' } });
  assert.match(String(events[14][2]), /"req":0,"status":401/);
});

test('the same API surface: exports, methods, event names, argument checks and messages', async () => {
  await quietly(async () => surface());
});

function surface(): void {
  for (const name of ['connect', 'Emitter', 'EmitterMessage', 'EmitterEvents'])
    assert.equal(
      typeof (ourSdk as unknown as Record<string, unknown>)[name],
      typeof (official as unknown as Record<string, unknown>)[name],
      name,
    );
  assert.deepEqual({ ...ourSdk.EmitterEvents }, { ...official.EmitterEvents });
  assert.equal(ours.default.connect, ours.connect);

  const methods = (sdk: Sdk): string[] =>
    Object.getOwnPropertyNames(sdk.Emitter.prototype).filter(
      (name) => !name.startsWith('_') && name !== 'constructor',
    );
  for (const name of methods(official)) assert.ok(methods(ourSdk).includes(name), `Emitter#${name}`);

  // Bad calls throw the same errors before sending anything (a client that never connects is enough).
  const client = (sdk: Sdk): SdkClient => sdk.connect({ host: '127.0.0.1', port: 9, reconnectPeriod: 0 });
  const calls: Array<(c: SdkClient) => unknown> = [
    (c) => c.publish({ channel: 'a/', message: 'x' }),
    (c) => c.publish({ key: 'k', message: 'x' }),
    (c) => c.publish({ key: 'k', channel: 'a/' }),
    (c) => c.publishWithLink({ message: 'x' }),
    (c) => c.subscribe({ key: 'k' }),
    (c) => c.unsubscribe({ channel: 'a/' }),
    (c) => c.keygen({ channel: 'a/' }),
    (c) => c.presence({ key: 'k' }),
    (c) => c.link({ key: 'k', channel: 'a/', name: 'a1', subscribe: true }),
    (c) => c.link({ key: 'k', channel: 'a/', name: 'a1', private: false }),
    (c) => c.on('nonsense', () => {}),
  ];
  const thrown = (sdk: Sdk): string[] => {
    const c = client(sdk);
    c.on('error', () => {});
    try {
      return calls.map((call) => {
        try {
          call(c);
          return 'no error';
        } catch (error) {
          // emitter-io names `off` in the message for `on` too.
          return (error as Error).message.replace('emitter.off:', 'emitter.on:');
        }
      });
    } finally {
      c.disconnect();
    }
  };
  const expected = thrown(official);
  assert.deepEqual(thrown(ourSdk), expected);
  assert.ok(expected.every((message) => message.startsWith('emitter.')));
  for (const sdk of [official, ourSdk])
    assert.throws(() => new sdk.Emitter().on('connect', () => {}), /before connecting/);

  // Messages: the same accessors, `{}` for a payload that is not JSON.
  for (const payload of [
    Buffer.from('{"a":[1,2]}'),
    Buffer.from('not json'),
    Buffer.from([0xef, 0xbb, 0xbf, 0x61]),
  ]) {
    const theirs = new official.EmitterMessage({ topic: 'a/b/', payload });
    const mine = new ourSdk.EmitterMessage({ topic: 'a/b/', payload });
    assert.deepEqual(
      [mine.channel, mine.asString(), mine.asObject(), mine.asBinary() === payload, mine.binary === payload],
      [
        theirs.channel,
        theirs.asString(),
        theirs.asObject(),
        theirs.asBinary() === payload,
        theirs.binary === payload,
      ],
    );
  }
}
