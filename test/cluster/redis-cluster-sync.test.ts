import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ClusterHost, MemberSubscription, RoutedSubscriber } from '../../src/cluster/cluster.js';
import { RedisCluster } from '../../src/cluster/redis/redis-cluster.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { within } from '../helpers/wait.js';

/**
 * A TCP proxy in front of Redis that can hold a node's traffic at one chosen command: the bytes from the
 * first chunk matching `pattern` on stay with the proxy until `release()`, so a test can act while the
 * node waits for Redis at exactly that point.
 */
async function startHoldingProxy(redisPort: number): Promise<{
  url: string;
  hold(pattern: RegExp): Promise<void>;
  release(): void;
  close(): Promise<void>;
}> {
  let pattern: RegExp | undefined;
  let onHeld: (() => void) | undefined;
  let held: Array<{ upstream: net.Socket; chunks: Buffer[] }> | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(redisPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    // A command may straddle two chunks: match on the tail of the previous one plus this one.
    let tail = '';
    const queue = { upstream, chunks: [] as Buffer[] };
    client.on('data', (chunk: Buffer) => {
      if (held?.includes(queue)) {
        queue.chunks.push(chunk);
        return;
      }
      const text = tail + chunk.toString('latin1');
      tail = text.slice(-256);
      if (pattern?.test(text)) {
        pattern = undefined;
        held = [queue];
        queue.chunks.push(chunk);
        onHeld?.();
        return;
      }
      upstream.write(chunk);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    hold: (match) =>
      new Promise<void>((resolve) => {
        pattern = match;
        onHeld = resolve;
      }),
    release() {
      for (const queue of held ?? []) for (const chunk of queue.chunks.splice(0)) queue.upstream.write(chunk);
      held = undefined;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** What the broker side of a node sees: the peers' subscribers it is told to add, awaitable by id. */
function recordingHost(): ClusterHost & {
  added(id: string, timeoutMs: number, message: string): Promise<void>;
} {
  const ids = new Set<string>();
  const waiters = new Map<string, () => void>();
  return {
    addRemote: (_ssid, subscriber: RoutedSubscriber) => {
      ids.add(subscriber.id);
      waiters.get(subscriber.id)?.();
    },
    removeRemote: (_ssid, subscriber: RoutedSubscriber) => void ids.delete(subscriber.id),
    deliverLocal: () => {},
    deliverTo: () => {},
    peerLeft: () => {},
    release: async () => {},
    added: (id, timeoutMs, message) =>
      new Promise<void>((resolve, reject) => {
        if (ids.has(id)) return resolve();
        const timer = setTimeout(() => reject(new Error(message)), timeoutMs);
        waiters.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

const logger = pino({ level: 'silent' });
let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

test('a subscription made while a node rewrites its snapshot reaches the peers', async () => {
  const proxy = await startHoldingProxy(redis.port);
  const admin = new Redis(redis.url);
  const a = new RedisCluster({ name: 'a', urls: [proxy.url], deadAfterMs: 2000, logger });
  const b = new RedisCluster({ name: 'b', urls: [redis.url], deadAfterMs: 2000, logger });
  const seenByB = recordingHost();
  try {
    await a.start(recordingHost());
    await b.start(seenByB);
    // Taken out of the registry (as a peer does to a node it judged dead), node a re-registers at its
    // next heartbeat; the proxy holds it in the middle, while its snapshot transaction waits for Redis.
    const rewriting = proxy.hold(/\r\ndel\r\n\$\d+\r\nemitter:\{a\}:subs\r\n/i);
    await admin.srem('emitter:nodes', 'a');
    await within(rewriting, 10000, 'node a did not start re-registering');
    const dora: MemberSubscription = {
      id: 'DORA',
      username: 'dora',
      clientId: 'dora-client',
      channel: 'lobby/',
      ssid: [1, 2, 3],
    };
    a.subscribed(dora);
    proxy.release();
    await seenByB.added(
      'DORA',
      10000,
      'peer b never learned of a subscription made while node a was writing its snapshot',
    );
    const field = Object.keys(await admin.hgetall('emitter:{a}:subs')).find((f) => f.startsWith('DORA:'));
    assert.ok(field, "node a's snapshot in Redis holds the subscription");
  } finally {
    proxy.release();
    await Promise.all([a.close(), b.close()]);
    admin.disconnect();
    await proxy.close();
  }
});
