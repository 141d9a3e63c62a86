import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ClusterHost, Route, RoutedSubscriber } from '../../src/cluster/cluster.js';
import { decodeFrames } from '../../src/cluster/redis/frames.js';
import { RedisCluster } from '../../src/cluster/redis/redis-cluster.js';
import { Delivery } from '../../src/mqtt/index.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { within } from '../helpers/wait.js';

// Two in-process cluster nodes on a real redis-server: node a holds node b's subscriber (as its trie
// would) and forwards to it directly; a raw subscriber on b's channel sees each Redis PUBLISH a sends.

const logger = pino({ level: 'silent' });
let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

function host(
  onRemote: (subscriber: RoutedSubscriber) => void,
  onDeliver: (delivery: Delivery) => void,
): ClusterHost {
  return {
    addRemote: (_ssid, subscriber) => onRemote(subscriber),
    removeRemote: () => {},
    deliverLocal: (_route, delivery) => onDeliver(delivery),
    deliverTo: () => {},
    peerLeft: () => {},
    release: async () => {},
  };
}

test('a lone message leaves for its peer in the same event-loop turn (no timer), a burst of one turn as one Redis PUBLISH', async () => {
  let remote: RoutedSubscriber | undefined;
  let gotRemote: (() => void) | undefined;
  const received: string[] = [];
  let gotAll: (() => void) | undefined;
  let expected = 0;
  const a = new RedisCluster({ name: 'a', urls: [redis.url], deadAfterMs: 2000, logger });
  const b = new RedisCluster({ name: 'b', urls: [redis.url], deadAfterMs: 2000, logger });
  const tap = new Redis(redis.url);
  const publishes: number[] = []; // frames per Redis PUBLISH to node b
  try {
    await tap.subscribe('emitter:node:b');
    tap.on('messageBuffer', (_channel: Buffer, body: Buffer) => {
      let frames = 0;
      assert.equal(
        decodeFrames(body, () => frames++),
        true,
      );
      publishes.push(frames);
    });
    await a.start(
      host(
        (subscriber) => {
          remote = subscriber;
          gotRemote?.();
        },
        () => {},
      ),
    );
    await b.start(
      host(
        () => {},
        (delivery) => {
          received.push(delivery.payload.toString());
          if (received.length === expected) gotAll?.();
        },
      ),
    );
    b.subscribed({ id: 'SUB', username: '', clientId: 'sub', channel: 'x/', ssid: [7, 1] });
    if (!remote)
      await within(
        new Promise<void>((resolve) => (gotRemote = resolve)),
        10000,
        "node a never saw b's subscriber",
      );
    const route: Route = { contract: 7, levels: [1] };
    const send = (payload: string): void =>
      remote?.deliver(new Delivery('x/', Buffer.from(payload), 0, false), 0, route);

    // A lone message: sent to Redis before a setImmediate queued after it runs, so no timer holds it.
    send('lone');
    assert.equal(a.counters.forwarded, 0, 'nothing is sent in the middle of the turn that forwards');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(a.counters.forwarded, 1, 'the lone message left at the end of its event-loop turn');

    // A burst forwarded in one turn: one PUBLISH carrying all of it, in order.
    expected = 1 + 100;
    const all = new Promise<void>((resolve) => (gotAll = resolve));
    for (let i = 0; i < 100; i++) send(`burst ${i}`);
    await within(all, 10000, 'node b did not receive every message');
    assert.deepEqual(received, ['lone', ...Array.from({ length: 100 }, (_, i) => `burst ${i}`)]);
    await within(
      (async () => {
        while (publishes.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      })(),
      5000,
      'the tap did not see both publishes',
    );
    assert.deepEqual(publishes, [1, 100], 'one PUBLISH for the lone message, one for the whole burst');
    assert.equal(a.counters.forwarded, 101);
    assert.equal(b.counters.received, 101);
  } finally {
    tap.disconnect();
    await Promise.all([a.close(), b.close()]);
  }
});

test('a burst bigger than a batch crosses as several PUBLISHes, in order, and a publish reaching two clients of a peer still crosses once', async () => {
  const remotes: RoutedSubscriber[] = [];
  let gotRemotes: (() => void) | undefined;
  const received: string[] = [];
  let gotAll: (() => void) | undefined;
  let expected = 0;
  const a = new RedisCluster({ name: 'a', urls: [redis.url], deadAfterMs: 2000, logger, prefix: 'big:' });
  const b = new RedisCluster({ name: 'b', urls: [redis.url], deadAfterMs: 2000, logger, prefix: 'big:' });
  const tap = new Redis(redis.url);
  const publishes: number[] = [];
  try {
    await tap.subscribe('big:node:b');
    tap.on('messageBuffer', (_channel: Buffer, body: Buffer) => {
      let frames = 0;
      assert.equal(
        decodeFrames(body, () => frames++),
        true,
      );
      publishes.push(frames);
    });
    await a.start(
      host(
        (subscriber) => {
          remotes.push(subscriber);
          if (remotes.length === 2) gotRemotes?.();
        },
        () => {},
      ),
    );
    await b.start(
      host(
        () => {},
        (delivery) => {
          received.push(delivery.payload.subarray(0, 16).toString().trim());
          if (received.length === expected) gotAll?.();
        },
      ),
    );
    b.subscribed({ id: 'ONE', username: '', clientId: 'one', channel: 'x/', ssid: [7, 1] });
    b.subscribed({ id: 'TWO', username: '', clientId: 'two', channel: 'x/', ssid: [7, 1] });
    if (remotes.length < 2)
      await within(
        new Promise<void>((resolve) => (gotRemotes = resolve)),
        10000,
        "node a never saw b's two subscribers",
      );
    const route: Route = { contract: 7, levels: [1] };
    const message = (label: string, size: number): Delivery => {
      const payload = Buffer.alloc(size, 0x20);
      payload.write(label);
      return new Delivery('x/', payload, 0, false);
    };

    // 300 messages of 2 KiB in one turn: over the 256 KiB batch bound, so more than one PUBLISH.
    expected = 300;
    let all = new Promise<void>((resolve) => (gotAll = resolve));
    for (let i = 0; i < 300; i++) remotes[0].deliver(message(`m${i}`, 2048), 0, route);
    await within(all, 10000, 'node b did not receive the burst');
    assert.deepEqual(
      received,
      Array.from({ length: 300 }, (_, i) => `m${i}`),
    );
    // The tap is another subscriber of the same channel: it may read a little after node b.
    await within(
      (async () => {
        while (publishes.reduce((sum, n) => sum + n, 0) < 300)
          await new Promise((resolve) => setTimeout(resolve, 10));
      })(),
      5000,
      'the tap did not see the whole burst',
    );
    assert.ok(publishes.length >= 2, `the burst was split (${publishes.length} PUBLISH)`);
    assert.equal(
      publishes.reduce((sum, n) => sum + n, 0),
      300,
    );

    // One publish for both of b's clients, big enough to leave on its own mid-turn: still one copy.
    received.length = 0;
    expected = 2;
    all = new Promise<void>((resolve) => (gotAll = resolve));
    const big = message('big', 300 * 1024);
    for (const remote of remotes) remote.deliver(big, 0, route);
    remotes[0].deliver(message('after', 64), 0, route);
    await within(all, 10000, 'node b did not receive the big message and the next');
    assert.deepEqual(received, ['big', 'after'], 'the big message crossed once, then the next one');
    assert.equal(a.counters.forwarded, 302);
  } finally {
    tap.disconnect();
    await Promise.all([a.close(), b.close()]);
  }
});
