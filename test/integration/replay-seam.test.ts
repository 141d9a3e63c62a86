/**
 * The `?last=N` seam, against every storage provider and a deliberately slow one: replayed messages come
 * first, then the live ones held meanwhile; nothing is missing, nothing twice. (Seen before the fix with
 * the redis provider: `L3, s1, s2`, live overtaking replayed.)
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Ssid } from '../../src/channel/index.js';
import {
  InMemoryStorage,
  RedisStorage,
  SsdStorage,
  type Storage,
  type StorageHealth,
  type StorageQuery,
  type StoredMessage,
} from '../../src/storage/index.js';
import { startTestBroker } from '../helpers/broker.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

/**
 * A storage whose queries wait at a gate the test opens. `readFirst`: the inner query runs at once and
 * its answer waits (a snapshot older than what is published meanwhile); otherwise the query runs after
 * the gate (its answer includes what was published meanwhile).
 */
class GatedStorage implements Storage {
  readonly name = 'gated';
  readonly retain: number;
  private open: (() => void) | undefined;
  private gate: Promise<void> = Promise.resolve();
  /** Resolves when a query reached the gate. */
  queried: Promise<void> = Promise.resolve();
  private reached: (() => void) | undefined;

  constructor(
    private readonly inner: Storage,
    private readonly readFirst: boolean,
  ) {
    this.retain = inner.retain;
  }

  health(): StorageHealth {
    return this.inner.health();
  }

  /** The next query waits until `release()`. */
  closeGate(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
    this.queried = new Promise((resolve) => (this.reached = resolve));
  }

  release(): void {
    this.open?.();
  }

  store(message: StoredMessage): Promise<void> {
    return this.inner.store(message);
  }

  async query(ssid: Ssid, query: StorageQuery): Promise<StoredMessage[]> {
    this.reached?.();
    if (this.readFirst) {
      const result = await this.inner.query(ssid, query);
      await this.gate;
      return result;
    }
    await this.gate;
    return this.inner.query(ssid, query);
  }

  purgeExpired(): Promise<number> {
    return this.inner.purgeExpired();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const payloads = (client: TestClient, topic: string): string[] =>
  client.received.filter((m) => m.topic === topic).map((m) => m.payload.toString());

for (const readFirst of [true, false]) {
  test(`slow storage (${readFirst ? 'answer read before' : 'read after'} the live messages): replayed first, then held live ones, once each`, async () => {
    const storage = new GatedStorage(new InMemoryStorage(), readFirst);
    const server = await startTestBroker({ storage });
    const publisher = await connectClient(server.port);
    const reader = await connectClient(server.port);
    try {
      const key = await keygen(publisher, server.secret, 'seam/', 'rwsl');
      await publisher.mqtt.publishAsync(`${key}/seam/?ttl=60`, 's1', { qos: 1 });
      await publisher.mqtt.publishAsync(`${key}/seam/?ttl=60`, 's2', { qos: 1 });
      storage.closeGate();
      const subscribed = reader.mqtt.subscribeAsync(`${key}/seam/?last=3`);
      await storage.queried;
      // Live while the query waits: one stored (it may be in the replay too), one not.
      await publisher.mqtt.publishAsync(`${key}/seam/?ttl=60`, 'L3', { qos: 1 });
      await publisher.mqtt.publishAsync(`${key}/seam/`, 'L4', { qos: 1 });
      storage.release();
      await subscribed;
      await reader.next((m) => m.payload.toString() === 'L4');
      assert.deepEqual(payloads(reader, 'seam/'), ['s1', 's2', 'L3', 'L4']);
    } finally {
      await reader.end();
      await publisher.end();
      await server.close();
    }
  });
}

/** A subscribe with `last` in the middle of a burst: no gap, no duplicate, in order. */
async function burstSeam(storage: Storage): Promise<void> {
  const server = await startTestBroker({ storage });
  const publisher = await connectClient(server.port);
  const reader = await connectClient(server.port);
  try {
    const key = await keygen(publisher, server.secret, 'burst/', 'rwsl');
    // Stored before the subscribe: all of them are in the replay.
    for (let i = 0; i < 100; i++)
      await publisher.mqtt.publishAsync(`${key}/burst/?ttl=60`, `${i}`, { qos: 1 });
    // Live during the query: the reader itself publishes right behind its SUBSCRIBE (one connection keeps
    // their order), without waiting for SUBACK.
    const subscribed = reader.mqtt.subscribeAsync(`${key}/burst/?last=1000`);
    const live: Promise<unknown>[] = [];
    for (let i = 100; i < 200; i++)
      live.push(reader.mqtt.publishAsync(`${key}/burst/?ttl=60`, `${i}`, { qos: 1 }));
    await subscribed;
    await Promise.all(live);
    await reader.next((m) => m.payload.toString() === '199', 10000);
    assert.deepEqual(
      payloads(reader, 'burst/'),
      Array.from({ length: 200 }, (_, i) => `${i}`),
    );
  } finally {
    await reader.end();
    await publisher.end();
    await server.close();
  }
}

describe('the seam against every storage provider', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  test('inmemory', () => burstSeam(new InMemoryStorage()));
  test('ssd', () => burstSeam(new SsdStorage({ dir: mkdtempSync(join(tmpdir(), 'emitter-seam-')) })));
  test('redis', () =>
    burstSeam(new RedisStorage({ url: redis.url, prefix: `seam:${randomBytes(4).toString('hex')}:` })));
  test('slow (every query waits 50 ms)', () => {
    const inner = new InMemoryStorage();
    const slow: Storage = {
      name: 'slow',
      retain: inner.retain,
      store: (message) => inner.store(message),
      query: async (ssid, query) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return inner.query(ssid, query);
      },
      purgeExpired: () => inner.purgeExpired(),
      health: () => inner.health(),
      close: () => inner.close(),
    };
    return burstSeam(slow);
  });
});
