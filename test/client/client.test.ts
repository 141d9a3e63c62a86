import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EmitterRequestError } from '../../src/client/index.js';
import {
  connect,
  type EmitterClient,
  type EmitterMessage,
  type PresenceEvent,
} from '../../src/client/index.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

/** Resolves with the next event a client emits that passes `filter`, bounded in time. */
function nextEvent<T>(
  client: EmitterClient,
  event: 'message' | 'presence' | 'error',
  filter: (value: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} event`)), 5000);
    const handler = (value: T): void => {
      if (!filter(value)) return;
      clearTimeout(timer);
      client.off(event, handler as never);
      resolve(value);
    };
    client.on(event, handler as never);
  });
}

for (const transport of ['tcp', 'ws'] as const) {
  describe(`client SDK over ${transport}`, () => {
    let server: TestBroker;
    let alice: EmitterClient;
    let bob: EmitterClient;
    let key: string;

    before(async () => {
      server = await startTestBroker();
      const options = { host: '127.0.0.1', port: server.port, transport, reconnectPeriod: 0 };
      alice = await connect({ ...options, username: 'alice' });
      bob = await connect(options);
      key = (await alice.keygen(server.secret, 'sdk/#/', 'rwslp')).key;
    });
    after(async () => {
      await alice.disconnect();
      await bob.disconnect();
      await server.close();
    });

    test('keygen resolves with a key, or rejects with the broker error', async () => {
      const result = await alice.keygen(server.secret, 'sdk/x/', 'rw', 60);
      assert.equal(result.channel, 'sdk/x/');
      assert.match(result.key, /^[A-Za-z0-9_-]{32}$/);
      await assert.rejects(
        alice.keygen(key, 'sdk/x/', 'rw'),
        (error: EmitterRequestError) => error.status === 401,
      );
      await assert.rejects(
        alice.keygen(server.secret, 'no-slash', 'rw'),
        (error: EmitterRequestError) => error.status === 400,
      );
    });

    test('publish and subscribe, with binary payloads intact and me=false', async () => {
      await bob.subscribe(key, 'sdk/chat/');
      const received = nextEvent<EmitterMessage>(bob, 'message', (m) => m.channel === 'sdk/chat/');
      const bytes = new Uint8Array(Array.from({ length: 256 }, (_, i) => i));
      await alice.publish(key, 'sdk/chat/', bytes, { qos: 1 });
      assert.deepEqual([...(await received).asBinary()], [...bytes]);

      await alice.subscribe(key, 'sdk/echo/');
      const echo = nextEvent<EmitterMessage>(alice, 'message', (m) => m.channel === 'sdk/echo/');
      await alice.publish(key, 'sdk/echo/', 'hidden', { me: false });
      await alice.publish(key, 'sdk/echo/', JSON.stringify({ shown: true }));
      assert.deepEqual((await echo).asObject(), { shown: true });
      await alice.unsubscribe(key, 'sdk/echo/');
    });

    test('subscribe with last replays stored messages; a refused subscribe rejects with the status', async () => {
      for (let i = 0; i < 3; i++) await alice.publish(key, 'sdk/stored/', `s${i}`, { ttl: 60, qos: 1 });
      const got: string[] = [];
      const done = new Promise<void>((resolve) =>
        bob.on('message', (m) => {
          if (m.channel === 'sdk/stored/' && got.push(m.asString()) === 2) resolve();
        }),
      );
      await bob.subscribe(key, 'sdk/stored/', { last: 2, from: new Date(Date.now() - 60000) });
      await done;
      assert.deepEqual(got, ['s1', 's2']);
      const readOnly = (await alice.keygen(server.secret, 'sdk/ro/', 'w')).key;
      await assert.rejects(bob.subscribe(readOnly, 'sdk/ro/'));
    });

    test('presence status and join/leave events', async () => {
      const status = await alice.presence(key, 'sdk/room/', { changes: true });
      assert.equal(status.event, 'status');
      assert.deepEqual(status.who, []);
      const join = nextEvent<PresenceEvent>(alice, 'presence', (e) => e.event === 'subscribe');
      await bob.subscribe(key, 'sdk/room/');
      const joined = await join;
      assert.equal(joined.channel, 'sdk/room/');
      const leave = nextEvent<PresenceEvent>(alice, 'presence', (e) => e.event === 'unsubscribe');
      await bob.unsubscribe(key, 'sdk/room/');
      assert.equal((await leave).occupancy, 0);
    });

    test('me, link and publishWithLink', async () => {
      const me = await alice.me();
      assert.match(me.id, /^[A-Z2-7]{26}$/);
      const link = await alice.link(key, 'sdk/linked/', 'l1', { subscribe: true });
      assert.deepEqual(link, { name: 'l1', channel: 'sdk/linked/' });
      const received = nextEvent<EmitterMessage>(alice, 'message', (m) => m.channel === 'sdk/linked/');
      await alice.publishWithLink('l1', 'via link');
      assert.equal((await received).asString(), 'via link');
      assert.deepEqual((await alice.me()).links, { l1: 'sdk/linked/' });
      await assert.rejects(
        alice.link(key, 'sdk/linked/', 'toolong'),
        (error: EmitterRequestError) => error.status === 400,
      );
    });

    test('subscribeWithGroup delivers each message to one member', async () => {
      const groupKey = (await alice.keygen(server.secret, '$share/g/sdk/jobs/', 'r')).key;
      await alice.subscribeWithGroup(groupKey, 'sdk/jobs/', 'g');
      await bob.subscribeWithGroup(groupKey, 'sdk/jobs/', 'g');
      let count = 0;
      const listener = (m: EmitterMessage): void => void (m.channel === 'sdk/jobs/' && count++);
      alice.on('message', listener);
      bob.on('message', listener);
      for (let i = 0; i < 20; i++) await alice.publish(key, 'sdk/jobs/', String(i), { qos: 1 });
      await alice.publish(key, 'sdk/marker/', 'm', { qos: 1 });
      await alice.subscribe(key, 'sdk/marker2/');
      const marker = nextEvent<EmitterMessage>(alice, 'message', (m) => m.channel === 'sdk/marker2/');
      await alice.publish(key, 'sdk/marker2/', 'done');
      await marker;
      assert.equal(count, 20);
    });

    test('broker errors on emitter/error/ arrive as error events', async () => {
      const error = nextEvent<EmitterRequestError>(alice, 'error');
      await alice.publish('not-a-key-at-all-0123456789abcdef', 'sdk/chat/', 'x');
      assert.equal((await error).status, 401);
    });
  });
}

test('the client reconnects after the broker restarts and subscribes again', async () => {
  const first = await startTestBroker();
  const port = first.port;
  const client = await connect({ host: '127.0.0.1', port, reconnectPeriod: 100 });
  const { key } = await client.keygen(first.secret, 'again/', 'rw');
  await client.subscribe(key, 'again/');
  await first.close();
  const second = await startTestBroker({ license: first.license, listen: { host: '127.0.0.1', port } });
  try {
    // The client reconnects and re-sends its SUBSCRIBE: the new broker tells us when it is in place.
    await new Promise<void>((resolve) =>
      second.broker.pubsub.addListener({ subscribed: () => resolve(), unsubscribed: () => {} }),
    );
    const received = nextEvent<EmitterMessage>(client, 'message');
    await client.publish(key, 'again/', 'after restart', { qos: 1 });
    assert.equal((await received).asString(), 'after restart');
  } finally {
    await client.disconnect();
    await second.close();
  }
});
