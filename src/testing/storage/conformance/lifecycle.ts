/** Conformance tests for settings, ttl expiry and purge, retained messages, write visibility, errors, close. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RETAINED_TTL } from '../../../channel/options.js';
import { StorageError, StorageErrorCode } from '../../../storage/storage-error.js';
import type { ConformanceContext } from '../conformance.js';
import { ssidOf, T0, texts } from '../fixtures/messages.js';

const SECOND = 1000;
const DAY = 86_400;

/** Registers these tests in the current suite. */
export function registerLifecycleTests(ctx: ConformanceContext): void {
  test('reports its provider name and the retain setting', async () => {
    const storage = await ctx.open({ retain: 1234 });
    assert.equal(storage.name, ctx.name);
    assert.equal(storage.retain, 1234);
    assert.equal((await ctx.open()).retain, 2_592_000);
  });

  test('ttl: expired messages are never returned, then purged', async () => {
    const storage = await ctx.open({ purgeIntervalMs: 0 });
    await storage.store(ctx.maker.message('a/', 'short', { ttl: 5 }));
    await storage.store(ctx.maker.message('a/', 'long', { ttl: 60 }));
    await storage.store(ctx.maker.message('a/', 'forever'));
    assert.deepEqual(texts(await storage.query(ssidOf('a/'), { limit: 10 })), ['short', 'long', 'forever']);
    ctx.clock.advance(4 * SECOND);
    assert.equal((await storage.query(ssidOf('a/'), { limit: 10 })).length, 3);
    ctx.clock.advance(1 * SECOND);
    assert.deepEqual(texts(await storage.query(ssidOf('a/'), { limit: 10 })), ['long', 'forever']);
    assert.deepEqual(texts(await storage.query(ssidOf('+/'), { limit: 10 })), ['long', 'forever']);
    assert.equal(await storage.purgeExpired(), 1);
    assert.equal(await storage.purgeExpired(), 0);
    assert.deepEqual(texts(await storage.query(ssidOf('a/'), { limit: 1 })), ['forever']);
    ctx.clock.advance(60 * SECOND);
    assert.deepEqual(texts(await storage.query(ssidOf('a/'), { limit: 10 })), ['forever']);
    assert.equal(await storage.purgeExpired(), 1);
  });

  test('MQTT 5 properties come back byte for byte (binary included); a message without has none', async () => {
    const storage = await ctx.open();
    // A properties block as encodePublishProperties writes it: content type 'text/x', a user property
    // a=b, a correlation datum with a zero byte and 0xff.
    const block = Buffer.concat([
      Buffer.from([0x03, 0x00, 0x06]),
      Buffer.from('text/x'),
      Buffer.from([0x09, 0x00, 0x03, 0x00, 0xff, 0x01]),
      Buffer.from([0x26, 0x00, 0x01, 0x61, 0x00, 0x01, 0x62]),
    ]);
    await storage.store(ctx.maker.message('p/', 'with', { properties: block, ttl: 60 }));
    await storage.store(ctx.maker.message('p/', 'without', { ttl: 60 }));
    const messages = await storage.query(ssidOf('p/'), { limit: 10 });
    assert.deepEqual(texts(messages), ['with', 'without']);
    assert.deepEqual(messages[0].properties, block);
    assert.equal(messages[1].properties, undefined);
    assert.deepEqual(texts(await storage.query(ssidOf('+/'), { limit: 10 })), ['with', 'without']);
  });

  test('a message already expired when stored is not kept', async () => {
    const storage = await ctx.open();
    await storage.store(ctx.maker.message('a/', 'old', { time: T0 - 10 * SECOND, ttl: 5 }));
    assert.deepEqual(await storage.query(ssidOf('a/'), { limit: 10 }), []);
  });

  test('retained: RETAINED_TTL keeps a message for `retain` seconds; last 1 is the newest', async () => {
    const storage = await ctx.open({ retain: 2 * DAY });
    await storage.store(ctx.maker.message('r/', 'first', { ttl: RETAINED_TTL, retain: storage.retain }));
    await storage.store(ctx.maker.message('r/', 'second', { ttl: RETAINED_TTL, retain: storage.retain }));
    assert.deepEqual(texts(await storage.query(ssidOf('r/'), { limit: 1 })), ['second']);
    ctx.clock.advance((2 * DAY - 1) * SECOND);
    assert.deepEqual(texts(await storage.query(ssidOf('r/'), { limit: 1 })), ['second']);
    ctx.clock.advance(2 * SECOND);
    assert.deepEqual(await storage.query(ssidOf('r/'), { limit: 1 }), []);
  });

  test('a query sees a store that has not resolved yet; pipelined stores all land', async () => {
    const storage = await ctx.open();
    const pending = storage.store(ctx.maker.message('a/', 'early'));
    assert.deepEqual(texts(await storage.query(ssidOf('a/'), { limit: 1 })), ['early']);
    await pending;
    await Promise.all(Array.from({ length: 500 }, (_, i) => storage.store(ctx.maker.message('p/', `${i}`))));
    const found = await storage.query(ssidOf('p/'), { limit: 1000 });
    assert.deepEqual(
      texts(found),
      Array.from({ length: 500 }, (_, i) => `${i}`),
    );
  });

  test('a message with an SSID without levels is refused', async () => {
    const storage = await ctx.open();
    const bad = { ...ctx.maker.message('a/', 'x'), ssid: [1] };
    await assert.rejects(storage.store(bad), (err: unknown) => {
      return err instanceof StorageError && err.code === StorageErrorCode.InvalidMessage;
    });
  });

  test('after close, calls reject with Closed; close twice is fine', async () => {
    const storage = await ctx.open();
    await storage.store(ctx.maker.message('a/', 'x'));
    await storage.close();
    await storage.close();
    const closed = (err: unknown) => err instanceof StorageError && err.code === StorageErrorCode.Closed;
    await assert.rejects(storage.store(ctx.maker.message('a/', 'y')), closed);
    await assert.rejects(storage.query(ssidOf('a/'), { limit: 1 }), closed);
  });
}
