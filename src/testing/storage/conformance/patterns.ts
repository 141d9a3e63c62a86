/** Conformance tests for channel patterns: prefixes, `+`, `#`, first-level wildcards, shares, contracts. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WellKnownHash } from '../../../channel/hash.js';
import type { StoredMessage } from '../../../storage/message.js';
import type { ConformanceContext } from '../conformance.js';
import { channels, CONTRACT, ssidOf, T0, texts } from '../fixtures/messages.js';
import { random, referenceQuery } from '../fixtures/reference.js';

const SECOND = 1000;

/** Registers these tests in the current suite. */
export function registerPatternTests(ctx: ConformanceContext): void {
  test('prefix queries: a shorter pattern reads the channels below it', async () => {
    const storage = await ctx.open();
    for (const channel of ['a/', 'a/b/', 'a/b/c/', 'a/x/', 'b/', 'ab/']) {
      await storage.store(ctx.maker.message(channel, channel));
    }
    assert.deepEqual(channels(await storage.query(ssidOf('a/'), { limit: 10 })), [
      'a/',
      'a/b/',
      'a/b/c/',
      'a/x/',
    ]);
    assert.deepEqual(channels(await storage.query(ssidOf('a/b/'), { limit: 10 })), ['a/b/', 'a/b/c/']);
    assert.deepEqual(channels(await storage.query(ssidOf('a/b/c/'), { limit: 10 })), ['a/b/c/']);
    assert.deepEqual(await storage.query(ssidOf('a/b/c/d/'), { limit: 10 }), []);
  });

  test('`+` matches exactly one level, anywhere after the first', async () => {
    const storage = await ctx.open();
    for (const channel of ['a/', 'a/b/', 'a/b/c/', 'a/x/c/', 'a/x/c/d/', 'a/b/d/', 'x/b/c/']) {
      await storage.store(ctx.maker.message(channel, channel));
    }
    assert.deepEqual(channels(await storage.query(ssidOf('a/+/c/'), { limit: 10 })), [
      'a/b/c/',
      'a/x/c/',
      'a/x/c/d/',
    ]);
    assert.deepEqual(channels(await storage.query(ssidOf('a/+/'), { limit: 10 })), [
      'a/b/',
      'a/b/c/',
      'a/x/c/',
      'a/x/c/d/',
      'a/b/d/',
    ]);
    assert.deepEqual(channels(await storage.query(ssidOf('a/+/+/d/'), { limit: 10 })), ['a/x/c/d/']);
  });

  test('`#` matches one level and everything below it', async () => {
    const storage = await ctx.open();
    for (const channel of ['a/', 'a/b/', 'a/b/c/', 'b/c/'])
      await storage.store(ctx.maker.message(channel, channel));
    assert.deepEqual(channels(await storage.query(ssidOf('a/#/'), { limit: 10 })), ['a/b/', 'a/b/c/']);
    assert.deepEqual(channels(await storage.query(ssidOf('a/#/zzz/'), { limit: 10 })), ['a/b/', 'a/b/c/']);
    assert.equal(WellKnownHash.multiWildcard, ssidOf('#/')[1]);
  });

  test('wildcards in the first level, and a contract-only pattern', async () => {
    const storage = await ctx.open();
    for (const channel of ['a/b/', 'x/b/c/', 'y/z/', 'q/'])
      await storage.store(ctx.maker.message(channel, channel));
    assert.deepEqual(channels(await storage.query(ssidOf('+/b/'), { limit: 10 })), ['a/b/', 'x/b/c/']);
    assert.deepEqual(channels(await storage.query(ssidOf('#/'), { limit: 10 })), [
      'a/b/',
      'x/b/c/',
      'y/z/',
      'q/',
    ]);
    assert.deepEqual(channels(await storage.query(ssidOf('+/'), { limit: 2 })), ['y/z/', 'q/']);
    assert.deepEqual(channels(await storage.query(ssidOf(''), { limit: 10 })), [
      'a/b/',
      'x/b/c/',
      'y/z/',
      'q/',
    ]);
  });

  test('a share-group SSID reads its channel (Decision 3)', async () => {
    const storage = await ctx.open();
    await storage.store(ctx.maker.message('a/b/', 'one'));
    await storage.store(ctx.maker.message('c/', 'other'));
    assert.deepEqual(texts(await storage.query(ssidOf('$share/group/a/'), { limit: 10 })), ['one']);
    assert.deepEqual(texts(await storage.query(ssidOf('$share/group/+/b/'), { limit: 10 })), ['one']);
  });

  test('contracts are isolated, wildcards included', async () => {
    const storage = await ctx.open();
    await storage.store(ctx.maker.message('a/', 'one', { contract: 1 }));
    await storage.store(ctx.maker.message('a/', 'two', { contract: 2 }));
    assert.deepEqual(texts(await storage.query(ssidOf('a/', 1), { limit: 10 })), ['one']);
    assert.deepEqual(texts(await storage.query(ssidOf('+/', 2), { limit: 10 })), ['two']);
    assert.deepEqual(await storage.query(ssidOf('a/', 3), { limit: 10 }), []);
  });

  test('random channels, patterns and windows agree with a brute-force reference', async () => {
    const maxQueryBytes = 20_000;
    const storage = await ctx.open({ maxQueryBytes });
    const next = random(20240101);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
    const firsts = ['a', 'b', 'c', ...Array.from({ length: 20 }, (_, i) => `f${i}`)];
    const levels = ['a', 'b', 'c', 'd', ...Array.from({ length: 30 }, (_, i) => `n${i}`)];
    const all: StoredMessage[] = [];
    for (let i = 0; i < 3000; i++) {
      const depth = 1 + Math.floor(next() * 4);
      const channel = `${Array.from({ length: depth }, (_, d) => pick(d === 0 ? firsts : levels)).join('/')}/`;
      const options = { time: T0 + Math.floor(i / 10) * SECOND, ttl: next() < 0.2 ? 5 : 0 };
      all.push(ctx.maker.message(channel, `${i}`, { ...options, contract: next() < 0.1 ? 99 : CONTRACT }));
    }
    await Promise.all(all.map((m) => storage.store(m)));
    ctx.clock.advance(200 * SECOND);
    for (let round = 0; round < 300; round++) {
      const depth = Math.floor(next() * 5);
      const pattern = Array.from({ length: depth }, (_, d) => {
        const r = next();
        return r < 0.3 ? '+' : r < 0.4 ? '#' : pick(d === 0 ? firsts : levels);
      }).join('/');
      const text = `${next() < 0.1 ? '$share/g/' : ''}${pattern}${depth > 0 ? '/' : ''}`;
      const from = next() < 0.3 ? T0 / 1000 + Math.floor(next() * 300) : undefined;
      const until = next() < 0.3 ? T0 / 1000 + Math.floor(next() * 300) : undefined;
      const startFromId = next() < 0.2 ? pick(all).id : undefined;
      const query = { limit: pick([1, 5, 50, 1000]), from, until, startFromId };
      const expected = referenceQuery(all, ssidOf(text), query, ctx.clock.time, maxQueryBytes);
      const actual = await storage.query(ssidOf(text), query);
      assert.deepEqual(
        actual.map((m) => m.payload.toString()),
        expected.map((m) => m.payload.toString()),
        `round ${round}: ${text} ${JSON.stringify({ ...query, startFromId: startFromId?.toString('hex') })}`,
      );
    }
  });
}
