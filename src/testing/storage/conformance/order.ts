/** Conformance tests for ordering, limits, time windows, paging and the byte cap. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConformanceContext } from '../conformance.js';
import { ssidOf, T0, texts } from '../fixtures/messages.js';

const SECOND = 1000;

/** Registers these tests in the current suite. */
export function registerOrderTests(ctx: ConformanceContext): void {
  test('ordering: 100 messages, last 5 gives 95..99 oldest first', async () => {
    const storage = await ctx.open();
    await ctx.storeSeries(storage, 'a/b/c/', 100);
    assert.deepEqual(texts(await storage.query(ssidOf('a/b/c/'), { limit: 5 })), [
      '95',
      '96',
      '97',
      '98',
      '99',
    ]);
  });

  test('messages of the same millisecond keep their sequence order', async () => {
    const storage = await ctx.open();
    for (let i = 0; i < 30; i++) await storage.store(ctx.maker.message('a/', `${i}`, { time: T0 }));
    const all = await storage.query(ssidOf('a/'), { limit: 100 });
    assert.deepEqual(
      texts(all),
      Array.from({ length: 30 }, (_, i) => `${i}`),
    );
    assert.deepEqual(texts(await storage.query(ssidOf('a/'), { limit: 3 })), ['27', '28', '29']);
  });

  test('limit: 0 or less gives nothing, more than stored gives everything', async () => {
    const storage = await ctx.open();
    await ctx.storeSeries(storage, 'a/', 3);
    assert.deepEqual(await storage.query(ssidOf('a/'), { limit: 0 }), []);
    assert.deepEqual(await storage.query(ssidOf('a/'), { limit: -1 }), []);
    assert.deepEqual(texts(await storage.query(ssidOf('a/'), { limit: 1 })), ['2']);
    assert.deepEqual(texts(await storage.query(ssidOf('a/'), { limit: 1000 })), ['0', '1', '2']);
    assert.deepEqual(await storage.query(ssidOf('nothing/'), { limit: 10 }), []);
  });

  test('a message round-trips: id, SSID, channel, payload, time, expires', async () => {
    const storage = await ctx.open();
    const message = ctx.maker.message('a/b/', 'hello', { ttl: 30 });
    await storage.store(message);
    const [found] = await storage.query(ssidOf('a/'), { limit: 1 });
    assert.deepEqual(found.id, message.id);
    assert.deepEqual([...found.ssid], [...message.ssid]);
    assert.equal(found.channel, 'a/b/');
    assert.deepEqual(found.payload, Buffer.from('hello'));
    assert.equal(found.time, message.time);
    assert.equal(found.expires, message.expires);
    assert.equal(found.expires, T0 / 1000 + 30);
  });

  test('binary payloads: all 256 byte values and an empty payload', async () => {
    const storage = await ctx.open();
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const reversed = Buffer.from(every).reverse();
    await storage.store(ctx.maker.message('bin/', every));
    await storage.store(ctx.maker.message('bin/', Buffer.alloc(0)));
    await storage.store(ctx.maker.message('bin/', reversed));
    const found = await storage.query(ssidOf('bin/'), { limit: 10 });
    assert.deepEqual(
      found.map((m) => m.payload),
      [every, Buffer.alloc(0), reversed],
    );
  });

  test('time window: from t(50) until t(60), limit 5, gives 56..60', async () => {
    const storage = await ctx.open();
    await ctx.storeSeries(storage, 'a/b/c/', 100);
    const t = (i: number) => T0 / 1000 + i;
    const q = (from?: number, until?: number, limit = 5) =>
      storage.query(ssidOf('a/b/c/'), { from, until, limit });
    assert.deepEqual(texts(await q(t(50), t(60))), ['56', '57', '58', '59', '60']);
    assert.deepEqual(texts(await q(t(50), t(60), 100)).length, 11);
    assert.deepEqual(texts(await q(t(98))), ['98', '99']);
    assert.deepEqual(texts(await q(undefined, t(2))), ['0', '1', '2']);
    assert.deepEqual(texts(await q(t(5), t(5))), ['5']);
    assert.deepEqual(await q(t(60), t(50)), []);
    assert.deepEqual(await q(t(100)), []);
  });

  test('until covers its whole second', async () => {
    const storage = await ctx.open();
    await storage.store(ctx.maker.message('a/', 'late', { time: T0 + 999 }));
    await storage.store(ctx.maker.message('a/', 'next', { time: T0 + 1000 }));
    assert.deepEqual(texts(await storage.query(ssidOf('a/'), { until: T0 / 1000, limit: 5 })), ['late']);
    assert.deepEqual(texts(await storage.query(ssidOf('a/'), { from: T0 / 1000 + 1, limit: 5 })), ['next']);
  });

  test('startFromId pages back: from message 4 with limit 2, then 2,3, then 0,1', async () => {
    const storage = await ctx.open();
    await ctx.storeSeries(storage, 'a/b/c/', 5);
    const all = await storage.query(ssidOf('a/b/c/'), { limit: 5 });
    const page1 = await storage.query(ssidOf('a/b/c/'), { limit: 2, startFromId: all[4].id });
    assert.deepEqual(texts(page1), ['2', '3']);
    const page2 = await storage.query(ssidOf('a/b/c/'), { limit: 2, startFromId: page1[0].id });
    assert.deepEqual(texts(page2), ['0', '1']);
    assert.deepEqual(await storage.query(ssidOf('a/b/c/'), { limit: 2, startFromId: page2[0].id }), []);
  });

  test('startFromId pages a wildcard query across channels, and works with a window', async () => {
    const storage = await ctx.open();
    for (let i = 0; i < 6; i++) {
      await storage.store(
        ctx.maker.message(i % 2 === 0 ? 'a/x/' : 'b/x/', `${i}`, { time: T0 + i * SECOND }),
      );
    }
    const page1 = await storage.query(ssidOf('+/x/'), { limit: 4 });
    assert.deepEqual(texts(page1), ['2', '3', '4', '5']);
    const page2 = await storage.query(ssidOf('+/x/'), { limit: 4, startFromId: page1[0].id });
    assert.deepEqual(texts(page2), ['0', '1']);
    const windowed = await storage.query(ssidOf('+/x/'), {
      limit: 4,
      from: T0 / 1000 + 1,
      startFromId: page1[0].id,
    });
    assert.deepEqual(texts(windowed), ['1']);
  });

  test('many channels: 1000 channels, exact, prefix and wildcard reads', async () => {
    const storage = await ctx.open();
    const writes: Promise<void>[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1000; i++) {
        writes.push(storage.store(ctx.maker.message(`room/${i}/`, `${i}.${round}`)));
      }
    }
    await Promise.all(writes);
    assert.deepEqual(texts(await storage.query(ssidOf('room/17/'), { limit: 10 })), ['17.0', '17.1', '17.2']);
    assert.deepEqual(texts(await storage.query(ssidOf('room/'), { limit: 3 })), ['997.2', '998.2', '999.2']);
    const all = await storage.query(ssidOf('room/+/'), { limit: 5000 });
    assert.equal(all.length, 3000);
    assert.equal(texts(all)[1000], '0.1');
    assert.equal((await storage.query(ssidOf('+/'), { limit: 5000 })).length, 3000);
  });

  test('query byte cap: ten payloads of 65536/5 bytes, last 10 gives the 4 newest', async () => {
    const storage = await ctx.open({ maxQueryBytes: 65536 });
    for (let i = 0; i < 10; i++) {
      await storage.store(ctx.maker.message('big/', Buffer.alloc(Math.floor(65536 / 5), 48 + i)));
    }
    const found = await storage.query(ssidOf('big/'), { limit: 10 });
    assert.deepEqual(
      found.map((m) => m.payload[0] - 48),
      [6, 7, 8, 9],
    );
    // A query can lower the cap (a history reply that must fit one MQTT message), never raise it.
    const first = (found: readonly { payload: Buffer }[]) => found.map((m) => m.payload[0] - 48);
    assert.deepEqual(first(await storage.query(ssidOf('big/'), { limit: 10, maxBytes: 30_000 })), [8, 9]);
    assert.deepEqual(
      first(await storage.query(ssidOf('big/'), { limit: 10, maxBytes: 1 << 20 })),
      [6, 7, 8, 9],
    );
    assert.deepEqual(await storage.query(ssidOf('big/'), { limit: 10, maxBytes: 100 }), []);
  });
}
