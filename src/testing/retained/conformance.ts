/**
 * The retained-message store conformance suite: every provider (`inmemory`, `ssd`, `redis`) runs it, and a
 * store of your own passes when `runRetainedStoreConformance(name, open, traits)` passes. `open(place, now)`
 * opens a store on the clock `now`; a durable provider opened twice at one `place` sees the same messages.
 */

import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { RetainedMessage, RetainedStore } from '../../storage/retained/retained-store.js';

/** Opens a store at `place` (reopening the same place gives the same messages when durable) on a clock. */
export type RetainedStoreFactory = (place: string, now: () => number) => RetainedStore;

const message = (topic: string, text: string, extra: Partial<RetainedMessage> = {}): RetainedMessage => ({
  topic,
  payload: Buffer.from(text),
  qos: 1,
  expiresAt: 0,
  ...extra,
});

const topicsOf = (messages: RetainedMessage[]): string[] => messages.map((m) => m.topic);

/** The rules every retained store keeps. */
export function runRetainedStoreConformance(
  name: string,
  open: RetainedStoreFactory,
  traits: { durable: boolean },
): void {
  describe(`retained store conformance: ${name}`, () => {
    let places = 0;
    const opened: RetainedStore[] = [];
    let clock = 1_000_000;
    const now = (): number => clock;
    const fresh = (place = `p${++places}-${process.pid}-${Date.now()}`): RetainedStore => {
      const store = open(place, now);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    test('one message per topic: a set replaces the previous one', async () => {
      const store = fresh();
      await store.set(1, message('a/b', 'one'));
      await store.set(1, message('a/b', 'two', { qos: 2 }));
      const found = await store.match(1, 'a/b');
      assert.equal(found.length, 1);
      assert.equal(found[0].payload.toString(), 'two');
      assert.equal(found[0].qos, 2);
    });

    test('clear removes it; clearing a topic without one is harmless', async () => {
      const store = fresh();
      await store.set(1, message('a/b', 'one'));
      await store.clear(1, 'a/b');
      await store.clear(1, 'never/set');
      assert.deepEqual(await store.match(1, 'a/b'), []);
      assert.deepEqual(await store.match(1, '#'), []);
    });

    test('contracts are apart', async () => {
      const store = fresh();
      await store.set(1, message('a', 'one'));
      await store.set(2, message('a', 'two'));
      assert.equal((await store.match(2, 'a'))[0].payload.toString(), 'two');
      assert.deepEqual(topicsOf(await store.match(3, '#')), []);
    });

    test('wildcard filters match as MQTT section 4.7 says, ordered by topic bytes', async () => {
      const store = fresh();
      for (const topic of ['a', 'a/b', 'a/b/c', 'a/c', 'ab', 'a//x', '/lead', '$SYS/x', 'a/$b', 'x/a/b'])
        await store.set(7, message(topic, topic));
      assert.deepEqual(topicsOf(await store.match(7, 'a/#')), ['a', 'a/$b', 'a//x', 'a/b', 'a/b/c', 'a/c']);
      assert.deepEqual(topicsOf(await store.match(7, 'a/+')), ['a/$b', 'a/b', 'a/c']);
      assert.deepEqual(topicsOf(await store.match(7, 'a/+/x')), ['a//x']);
      assert.deepEqual(topicsOf(await store.match(7, '+/b')), ['a/b']);
      assert.deepEqual(topicsOf(await store.match(7, '+/a/b')), ['x/a/b']);
      assert.deepEqual(topicsOf(await store.match(7, '+/lead')), ['/lead']);
      assert.deepEqual(topicsOf(await store.match(7, '+')), ['a', 'ab']);
      assert.equal((await store.match(7, '#')).length, 9, '# matches all but $SYS/x');
      assert.deepEqual(topicsOf(await store.match(7, '$SYS/#')), ['$SYS/x']);
      assert.deepEqual(topicsOf(await store.match(7, '+/+/c')), ['a/b/c']);
    });

    test('topics are exact: no Emitter prefix matching, case and spaces kept', async () => {
      const store = fresh();
      await store.set(1, message('Room 1/temp', 'x'));
      await store.set(1, message('room 1/temp/deeper', 'y'));
      assert.deepEqual(topicsOf(await store.match(1, 'Room 1/temp')), ['Room 1/temp']);
      assert.deepEqual(topicsOf(await store.match(1, 'room 1')), []);
      assert.deepEqual(topicsOf(await store.match(1, 'Room 1/+')), ['Room 1/temp']);
    });

    test('non-ASCII topics and a prefix sharing their first bytes', async () => {
      const store = fresh();
      await store.set(1, message('ü/a', '1'));
      await store.set(1, message('ü/😀', '2'));
      await store.set(1, message('üx/a', '3'));
      assert.deepEqual(topicsOf(await store.match(1, 'ü/+')), ['ü/a', 'ü/😀']);
      assert.deepEqual(topicsOf(await store.match(1, 'ü/#')), ['ü/a', 'ü/😀']);
    });

    test('payload, QoS and MQTT 5 properties come back as set', async () => {
      const store = fresh();
      const properties = {
        contentType: 'text/plain',
        correlationData: Buffer.from([0, 1, 255]),
        userProperties: { a: 'b' },
        payloadFormatIndicator: true,
      };
      await store.set(1, message('p', '', { payload: Buffer.from([0, 200, 7]), qos: 0, properties }));
      const [found] = await store.match(1, 'p');
      assert.deepEqual(found.payload, Buffer.from([0, 200, 7]));
      assert.equal(found.qos, 0);
      assert.deepEqual(found.properties, properties);
    });

    test('an expired message is never returned', async () => {
      const store = fresh();
      await store.set(1, message('e/1', 'soon', { expiresAt: clock + 1000 }));
      await store.set(1, message('e/2', 'later', { expiresAt: clock + 5000 }));
      assert.equal((await store.match(1, 'e/1')).length, 1);
      clock += 1000;
      assert.deepEqual(await store.match(1, 'e/1'), []);
      assert.deepEqual(topicsOf(await store.match(1, 'e/#')), ['e/2']);
      const [kept] = await store.match(1, 'e/2');
      assert.equal(kept.expiresAt, clock + 4000);
    });

    test('calls after close reject', async () => {
      const store = open(`closed-${process.pid}-${Date.now()}`, now);
      await store.close();
      await assert.rejects(store.set(1, message('a', 'b')));
      await assert.rejects(store.match(1, 'a'));
    });

    if (traits.durable) {
      test('reopened, it has the same messages', async () => {
        const place = `durable-${process.pid}-${Date.now()}`;
        const first = open(place, now);
        await first.set(4, message('keep/me', 'kept'));
        await first.set(4, message('gone', 'x'));
        await first.clear(4, 'gone');
        await first.close();
        const second = fresh(place);
        assert.deepEqual(topicsOf(await second.match(4, '#')), ['keep/me']);
        assert.equal((await second.match(4, 'keep/me'))[0].payload.toString(), 'kept');
      });
    }
  });
}
