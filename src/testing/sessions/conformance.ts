/**
 * The session store conformance suite: one abstract suite that every provider runs (as the message
 * storage one, `test/storage/conformance.ts`). A provider passes when
 * `runSessionStoreConformance(name, factory)` passes.
 *
 * `factory(config, place)` opens a store; `place` is unique per test, and a durable provider (`ssd`,
 * `redis`) opened twice with the same `place` must see the same sessions (a restart), while a different
 * `place` is a fresh, empty store.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { StorageError, StorageErrorCode } from '../../storage/storage-error.js';
import {
  OutgoingState,
  type QueuedMessage,
  type SessionStore,
  type SessionStoreConfig,
} from '../../storage/sessions/session-store.js';
import { T0, TestClock } from '../storage/fixtures/messages.js';

/** Opens a store of the provider under test at `place` (see the module comment). */
export type SessionStoreFactory = (
  config: SessionStoreConfig,
  place: string,
) => SessionStore | Promise<SessionStore>;

/** What the suite may assume of a provider. */
export interface SessionStoreTraits {
  /** Sessions survive `close()` and a new `factory` call with the same place. */
  readonly durable?: boolean;
}

/** A QoS 1 message with a text payload (the tests' usual message). */
function message(text: string, extra: Partial<QueuedMessage> = {}): QueuedMessage {
  return { topic: 'key/a/b/', payload: Buffer.from(text), qos: 1, retain: false, ...extra };
}

const texts = (entries: readonly { message: QueuedMessage }[]): string[] =>
  entries.map((e) => e.message.payload.toString());

/** Registers the conformance tests for one provider. */
export function runSessionStoreConformance(
  name: string,
  factory: SessionStoreFactory,
  traits: SessionStoreTraits = {},
): void {
  describe(`session store conformance: ${name}`, () => {
    let opened: SessionStore[] = [];
    let clock = new TestClock();
    let place = '';
    const open = async (config: SessionStoreConfig = {}): Promise<SessionStore> => {
      const store = await factory({ now: clock.now, ...config }, place);
      opened.push(store);
      return store;
    };

    beforeEach(() => {
      clock = new TestClock();
      place = randomBytes(6).toString('hex');
    });
    afterEach(async () => {
      for (const store of opened) await store.close().catch(() => {});
      opened = [];
    });

    test('reports its provider name', async () => {
      assert.equal((await open()).name, name);
    });

    test('open: undefined for a new client, then the session exists, connected and empty', async () => {
      const store = await open();
      assert.equal(await store.open('c1'), undefined);
      const record = await store.load('c1');
      assert.ok(record);
      assert.equal(record.clientId, 'c1');
      assert.equal(record.expiresAt, undefined);
      assert.deepEqual(record.subscriptions, []);
      assert.deepEqual(record.outgoing, []);
      assert.deepEqual(record.incoming, []);
      assert.equal(record.will, undefined);
      assert.deepEqual(await store.list(), ['c1']);
      assert.equal(await store.load('other'), undefined);
    });

    test('open returns what the session held before and clears its expiry', async () => {
      const store = await open();
      await store.open('c1');
      await store.addSubscriptions('c1', [{ topic: 'k/a/', qos: 1 }]);
      await store.enqueue('c1', message('m1'));
      await store.setExpiry('c1', T0 + 60_000);
      assert.equal((await store.load('c1'))?.expiresAt, T0 + 60_000);
      const record = await store.open('c1');
      assert.ok(record);
      assert.deepEqual(record.subscriptions, [{ topic: 'k/a/', qos: 1 }]);
      assert.deepEqual(texts(record.outgoing), ['m1']);
      assert.equal((await store.load('c1'))?.expiresAt, undefined);
    });

    test('subscriptions: added in order, a re-subscribe replaces the QoS in place, removal', async () => {
      const store = await open();
      await store.addSubscriptions('c1', [
        { topic: 'k/a/', qos: 0 },
        { topic: 'k/b/', qos: 1 },
      ]);
      await store.addSubscriptions('c1', [
        { topic: 'k/c/', qos: 2, options: { noLocal: true, identifier: 7 } },
        { topic: 'k/a/', qos: 2 },
      ]);
      assert.deepEqual(await store.subscriptions('c1'), [
        { topic: 'k/a/', qos: 2 },
        { topic: 'k/b/', qos: 1 },
        { topic: 'k/c/', qos: 2, options: { noLocal: true, identifier: 7 } },
      ]);
      await store.removeSubscriptions('c1', ['k/b/', 'k/unknown/']);
      assert.deepEqual(
        (await store.subscriptions('c1')).map((s) => s.topic),
        ['k/a/', 'k/c/'],
      );
      assert.deepEqual(await store.subscriptions('nobody'), []);
      await store.removeSubscriptions('nobody', ['k/a/']);
    });

    test('enqueue keeps order with increasing seqs; entries start queued without a packet id', async () => {
      const store = await open();
      const seqs: number[] = [];
      for (let i = 0; i < 10; i++) {
        const result = await store.enqueue('c1', message(`m${i}`));
        assert.equal(result.dropped, 0);
        assert.ok(result.seq !== undefined);
        seqs.push(result.seq);
      }
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], 'seqs increase');
      const outgoing = await store.outgoing('c1');
      assert.deepEqual(
        texts(outgoing),
        Array.from({ length: 10 }, (_, i) => `m${i}`),
      );
      assert.deepEqual(
        outgoing.map((e) => e.seq),
        seqs,
      );
      for (const entry of outgoing) {
        assert.equal(entry.state, OutgoingState.Queued);
        assert.equal(entry.packetId, 0);
      }
    });

    test('a message round-trips: binary payload, QoS, retain, stored id, properties, expiry time', async () => {
      const store = await open();
      const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const storedId = randomBytes(20);
      const properties = {
        contentType: 'application/octet-stream',
        userProperties: { a: ['1', '2'] },
        correlationData: Buffer.from([0, 1, 254, 255]),
        messageExpiryInterval: 60,
      };
      await store.enqueue('c1', {
        topic: 'k/bin/ü/',
        payload,
        qos: 2,
        retain: true,
        storedId,
        properties,
        expiresAt: 1_900_000_000_123,
      });
      await store.enqueue('c1', message('', { payload: Buffer.alloc(0) }));
      const [first, second] = await store.outgoing('c1');
      assert.equal(first.message.topic, 'k/bin/ü/');
      assert.deepEqual(Buffer.from(first.message.payload), payload);
      assert.equal(first.message.qos, 2);
      assert.equal(first.message.retain, true);
      assert.deepEqual(Buffer.from(first.message.storedId ?? []), storedId);
      assert.deepEqual(first.message.properties, properties);
      assert.equal(first.message.expiresAt, 1_900_000_000_123);
      assert.equal(second.message.expiresAt, undefined);
      assert.equal(second.message.payload.length, 0);
      assert.equal(second.message.storedId, undefined);
      assert.equal(second.message.retain, false);
    });

    test('QoS 1: markSent gives the entry its packet id, acknowledge removes it', async () => {
      const store = await open();
      const a = await store.enqueue('c1', message('a'));
      const b = await store.enqueue('c1', message('b'));
      await store.markSent('c1', a.seq ?? 0, 17);
      let outgoing = await store.outgoing('c1');
      assert.deepEqual(
        outgoing.map((e) => [e.seq, e.packetId, e.state]),
        [
          [a.seq, 17, OutgoingState.Sent],
          [b.seq, 0, OutgoingState.Queued],
        ],
      );
      assert.equal(await store.acknowledge('c1', 17), true);
      assert.equal(await store.acknowledge('c1', 17), false, 'a second PUBACK finds nothing');
      assert.equal(await store.acknowledge('c1', 999), false);
      outgoing = await store.outgoing('c1');
      assert.deepEqual(texts(outgoing), ['b']);
      assert.equal(await store.acknowledge('nobody', 1), false);
    });

    test('enqueue with a packet id: stored in flight at once, outside the bounds, in seq order', async () => {
      const store = await open({ maxQueuedMessages: 2 });
      const queued = await store.enqueue('c1', message('q1'));
      const sent = await store.enqueue('c1', message('s1', { qos: 2 }), 5);
      assert.equal(sent.dropped, 0);
      assert.ok(sent.seq !== undefined && sent.seq > (queued.seq ?? 0));
      for (const text of ['q2', 'q3']) await store.enqueue('c1', message(text));
      assert.deepEqual(
        (await store.outgoing('c1')).map((e) => [e.message.payload.toString(), e.packetId, e.state]),
        [
          ['s1', 5, OutgoingState.Sent],
          ['q2', 0, OutgoingState.Queued],
          ['q3', 0, OutgoingState.Queued],
        ],
        'the in-flight entry neither counts against the bound nor is dropped',
      );
      assert.equal(await store.release('c1', 5), true);
      assert.equal(await store.acknowledge('c1', 5), true);
      // Calls made without waiting: the entry exists for the acknowledge that follows it.
      const pending = [store.enqueue('c1', message('s2'), 6), store.acknowledge('c1', 6)];
      assert.equal((await Promise.all(pending))[1], true);
      assert.deepEqual(texts(await store.outgoing('c1')), ['q2', 'q3']);
    });

    test('markSent with its QoS 1: every later call sees it, acknowledged or not', async () => {
      const store = await open({ maxQueuedMessages: 3 });
      const seqs: number[] = [];
      for (const text of ['a', 'b', 'c']) seqs.push((await store.enqueue('c1', message(text))).seq ?? 0);
      // Not awaited: a drain marks and acknowledges this way, the acknowledge usually right behind.
      const calls: Promise<unknown>[] = [
        store.markSent('c1', seqs[0], 1, 1),
        store.markSent('c1', seqs[1], 2, 1),
        store.markSent('c1', seqs[2], 3, 1),
        store.acknowledge('c1', 2),
        store.acknowledge('c1', 2),
      ];
      assert.deepEqual(await Promise.all(calls), [undefined, undefined, undefined, true, false]);
      assert.deepEqual(
        (await store.outgoing('c1')).map((e) => [e.message.payload.toString(), e.packetId, e.state]),
        [
          ['a', 1, OutgoingState.Sent],
          ['c', 3, OutgoingState.Sent],
        ],
      );
      // The sent ones left the bound: three queued fit beside them before the oldest queued goes.
      const more = [];
      for (const text of ['d', 'e', 'f', 'g']) more.push(await store.enqueue('c1', message(text)));
      assert.deepEqual(
        more.map((r) => r.dropped),
        [0, 0, 0, 1],
      );
      assert.deepEqual(texts(await store.outgoing('c1')), ['a', 'c', 'e', 'f', 'g']);
      // A sent entry marked again (a new packet id) and acknowledged by it.
      await store.markSent('c1', seqs[0], 7, 1);
      assert.equal(await store.acknowledge('c1', 1), false);
      assert.equal(await store.acknowledge('c1', 7), true);
      assert.equal(await store.acknowledge('c1', 3), true);
      // One that is gone changes nothing, and its acknowledge finds nothing.
      await store.markSent('c1', seqs[1], 9, 1);
      assert.equal(await store.acknowledge('c1', 9), false);
      assert.deepEqual(texts(await store.outgoing('c1')), ['e', 'f', 'g']);
    });

    test('QoS 2: Sent, then Released on PUBREC, removed on PUBCOMP', async () => {
      const store = await open();
      const a = await store.enqueue('c1', message('a', { qos: 2 }));
      const b = await store.enqueue('c1', message('b', { qos: 1 }));
      await store.markSent('c1', a.seq ?? 0, 1);
      await store.markSent('c1', b.seq ?? 0, 2);
      assert.equal(await store.release('c1', 1), true);
      assert.equal(await store.release('c1', 1), true, 'releasing twice is harmless');
      assert.equal(await store.release('c1', 2), false, 'a QoS 1 entry is never released');
      assert.equal(await store.release('c1', 3), false);
      assert.deepEqual(
        (await store.outgoing('c1')).map((e) => [e.packetId, e.state]),
        [
          [1, OutgoingState.Released],
          [2, OutgoingState.Sent],
        ],
      );
      assert.equal(await store.acknowledge('c1', 1), true);
      assert.deepEqual(texts(await store.outgoing('c1')), ['b']);
    });

    test('in-flight entries keep their place in seq order among queued ones', async () => {
      const store = await open();
      const seqs: number[] = [];
      for (const text of ['a', 'b', 'c', 'd']) seqs.push((await store.enqueue('c1', message(text))).seq ?? 0);
      await store.markSent('c1', seqs[2], 5);
      await store.markSent('c1', seqs[0], 6);
      assert.deepEqual(
        (await store.outgoing('c1')).map((e) => [e.message.payload.toString(), e.packetId]),
        [
          ['a', 6],
          ['b', 0],
          ['c', 5],
          ['d', 0],
        ],
      );
      // markSent of an entry that is gone changes nothing.
      await store.acknowledge('c1', 6);
      await store.markSent('c1', seqs[0], 9);
      assert.deepEqual(texts(await store.outgoing('c1')), ['b', 'c', 'd']);
    });

    test('bound on queued messages: the oldest queued are dropped; in-flight ones neither count nor go', async () => {
      const store = await open({ maxQueuedMessages: 3 });
      const first = await store.enqueue('c1', message('m0'));
      await store.markSent('c1', first.seq ?? 0, 1);
      const results = [];
      for (let i = 1; i <= 5; i++) results.push(await store.enqueue('c1', message(`m${i}`)));
      assert.deepEqual(
        results.map((r) => r.dropped),
        [0, 0, 0, 1, 1],
      );
      assert.ok(results.every((r) => r.seq !== undefined));
      assert.deepEqual(texts(await store.outgoing('c1')), ['m0', 'm3', 'm4', 'm5']);
    });

    test('bound on queued bytes (topic + payload): oldest dropped; a message over it alone is dropped', async () => {
      // Each message: topic 'key/a/b/' (8 bytes) + 92-byte payload = 100 bytes.
      const store = await open({ maxQueuedBytes: 250 });
      const big = (i: number) => message(`${i}`.padEnd(92, '.'));
      for (let i = 0; i < 2; i++) assert.equal((await store.enqueue('c1', big(i))).dropped, 0);
      const third = await store.enqueue('c1', big(2));
      assert.equal(third.dropped, 1);
      assert.deepEqual(
        texts(await store.outgoing('c1')).map((t) => t[0]),
        ['1', '2'],
      );
      const huge = await store.enqueue('c1', message('x'.repeat(400)));
      assert.equal(huge.seq, undefined, 'the message alone is over the bound');
      assert.ok(huge.dropped >= 1);
      assert.ok(
        !texts(await store.outgoing('c1')).some((t) => t.startsWith('x')),
        'the oversized message is not kept',
      );
    });

    test('bounds are per session', async () => {
      const store = await open({ maxQueuedMessages: 2 });
      for (let i = 0; i < 4; i++) {
        await store.enqueue('c1', message(`a${i}`));
        await store.enqueue('c2', message(`b${i}`));
      }
      assert.deepEqual(texts(await store.outgoing('c1')), ['a2', 'a3']);
      assert.deepEqual(texts(await store.outgoing('c2')), ['b2', 'b3']);
    });

    test('incoming QoS 2 ids: stored once, in order, released once', async () => {
      const store = await open();
      await store.incomingStore('c1', 5);
      await store.incomingStore('c1', 3);
      await store.incomingStore('c1', 5);
      assert.deepEqual(await store.incoming('c1'), [5, 3]);
      assert.equal(await store.incomingRelease('c1', 5), true);
      assert.equal(await store.incomingRelease('c1', 5), false);
      assert.deepEqual(await store.incoming('c1'), [3]);
      assert.deepEqual((await store.load('c1'))?.incoming, [3]);
      assert.deepEqual(await store.incoming('nobody'), []);
      assert.equal(await store.incomingRelease('nobody', 1), false);
    });

    test('will: set, replaced, cleared', async () => {
      const store = await open();
      await store.open('c1');
      const will = { topic: 'k/w/', payload: Buffer.from('gone'), qos: 1 as const, retain: false };
      await store.setWill('c1', will);
      const loaded = (await store.load('c1'))?.will;
      assert.equal(loaded?.topic, 'k/w/');
      assert.deepEqual(Buffer.from(loaded?.payload ?? []), Buffer.from('gone'));
      assert.equal(loaded?.qos, 1);
      await store.setWill('c1', { ...will, topic: 'k/w2/', retain: true });
      assert.equal((await store.load('c1'))?.will?.retain, true);
      await store.setWill('c1', undefined);
      assert.equal((await store.load('c1'))?.will, undefined);
    });

    test('expiry: an expired session is absent to every read before and after the purge', async () => {
      const store = await open();
      await store.open('gone');
      await store.enqueue('gone', message('m'));
      await store.setExpiry('gone', T0 + 10_000);
      await store.open('stays');
      await store.setExpiry('stays', T0 + 60_000);
      await store.open('connected');
      clock.advance(9_999);
      assert.ok(await store.load('gone'), 'not yet');
      clock.advance(1);
      assert.equal(await store.load('gone'), undefined);
      assert.deepEqual((await store.list()).sort(), ['connected', 'stays']);
      assert.deepEqual(await store.outgoing('gone'), []);
      assert.deepEqual(await store.purgeExpired(), ['gone']);
      assert.deepEqual(await store.purgeExpired(), []);
      clock.advance(100_000);
      assert.deepEqual(await store.purgeExpired(), ['stays']);
      assert.deepEqual(await store.list(), ['connected']);
    });

    test('open of an expired session starts a new, empty one', async () => {
      const store = await open();
      await store.open('c1');
      await store.addSubscriptions('c1', [{ topic: 'k/a/', qos: 1 }]);
      await store.setExpiry('c1', T0 + 1000);
      clock.advance(5000);
      assert.equal(await store.open('c1'), undefined);
      const record = await store.load('c1');
      assert.deepEqual(record?.subscriptions, []);
      assert.equal(record?.expiresAt, undefined);
    });

    test('setExpiry(undefined) keeps a session for good again', async () => {
      const store = await open();
      await store.open('c1');
      await store.setExpiry('c1', T0 + 1000);
      await store.setExpiry('c1', undefined);
      clock.advance(1_000_000);
      assert.ok(await store.load('c1'));
      assert.deepEqual(await store.purgeExpired(), []);
    });

    test('delete removes everything of one session only', async () => {
      const store = await open();
      for (const id of ['c1', 'c2']) {
        await store.open(id);
        await store.addSubscriptions(id, [{ topic: 'k/a/', qos: 1 }]);
        await store.enqueue(id, message(id));
        await store.incomingStore(id, 1);
      }
      await store.delete('c1');
      await store.delete('never');
      assert.equal(await store.load('c1'), undefined);
      assert.deepEqual(await store.outgoing('c1'), []);
      assert.deepEqual(await store.list(), ['c2']);
      assert.deepEqual(texts(await store.outgoing('c2')), ['c2']);
      // A deleted session starts from scratch, seqs included in its own order.
      await store.enqueue('c1', message('again'));
      assert.deepEqual(texts(await store.outgoing('c1')), ['again']);
    });

    test('calls made without waiting take effect in call order', async () => {
      const store = await open();
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 50; i++) calls.push(store.enqueue('c1', message(`m${i}`)));
      const results = (await Promise.all(calls)) as { seq: number }[];
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) pending.push(store.markSent('c1', results[i].seq, i + 1));
      for (let i = 0; i < 10; i++) pending.push(store.acknowledge('c1', i + 1));
      pending.push(store.addSubscriptions('c1', [{ topic: 'k/x/', qos: 1 }]));
      pending.push(store.removeSubscriptions('c1', ['k/x/']));
      pending.push(store.addSubscriptions('c1', [{ topic: 'k/x/', qos: 2 }]));
      await Promise.all(pending);
      const outgoing = await store.outgoing('c1');
      assert.deepEqual(
        texts(outgoing),
        Array.from({ length: 40 }, (_, i) => `m${i + 10}`),
      );
      assert.deepEqual(
        outgoing.slice(0, 10).map((e) => e.packetId),
        Array.from({ length: 10 }, (_, i) => i + 11),
      );
      assert.deepEqual(await store.subscriptions('c1'), [{ topic: 'k/x/', qos: 2 }]);
    });

    test('returned records are snapshots', async () => {
      const store = await open();
      await store.addSubscriptions('c1', [{ topic: 'k/a/', qos: 1 }]);
      await store.enqueue('c1', message('a'));
      const record = await store.load('c1');
      const subscriptions = await store.subscriptions('c1');
      const outgoing = await store.outgoing('c1');
      subscriptions.length = 0;
      outgoing.length = 0;
      await store.enqueue('c1', message('b'));
      await store.addSubscriptions('c1', [{ topic: 'k/b/', qos: 0 }]);
      assert.equal(record?.outgoing.length, 1, 'an earlier record does not see later writes');
      assert.equal(record?.subscriptions.length, 1);
      assert.equal((await store.subscriptions('c1')).length, 2);
      assert.equal((await store.outgoing('c1')).length, 2);
    });

    test('client ids are opaque: punctuation, unicode, lookalikes stay apart', async () => {
      const store = await open();
      const ids = ['a:b', 'a', 'a:b:', 'ü/ö', '{x}', 'x'.repeat(200), ' a'];
      for (const id of ids) await store.enqueue(id, message(id));
      for (const id of ids) assert.deepEqual(texts(await store.outgoing(id)), [id]);
      assert.deepEqual((await store.list()).sort(), [...ids].sort());
    });

    test('after close, calls reject with StorageError Closed', async () => {
      const store = await open();
      await store.close();
      await assert.rejects(store.load('c1'), (error: unknown) => {
        assert.ok(error instanceof StorageError);
        assert.equal(error.code, StorageErrorCode.Closed);
        return true;
      });
      await assert.rejects(store.enqueue('c1', message('x')), StorageError);
    });

    if (traits.durable) {
      test('durable: everything survives close and reopen', async () => {
        const first = await open();
        await first.open('c1');
        await first.addSubscriptions('c1', [{ topic: 'k/a/', qos: 2 }]);
        const a = await first.enqueue('c1', message('a', { qos: 2, storedId: Buffer.from('id') }));
        await first.enqueue('c1', message('b'));
        await first.markSent('c1', a.seq ?? 0, 42);
        await first.release('c1', 42);
        await first.incomingStore('c1', 9);
        await first.setExpiry('c1', T0 + 3_600_000);
        await first.close();
        const second = await open();
        const record = await second.load('c1');
        assert.ok(record);
        assert.equal(record.expiresAt, T0 + 3_600_000);
        assert.deepEqual(record.subscriptions, [{ topic: 'k/a/', qos: 2 }]);
        assert.deepEqual(
          record.outgoing.map((e) => [e.message.payload.toString(), e.packetId, e.state]),
          [
            ['a', 42, OutgoingState.Released],
            ['b', 0, OutgoingState.Queued],
          ],
        );
        assert.deepEqual(record.incoming, [9]);
        // New seqs stay after the stored ones.
        const c = await second.enqueue('c1', message('c'));
        assert.ok((c.seq ?? 0) > record.outgoing[1].seq);
      });

      test('durable: QoS 1 markSent and acknowledge calls made together are kept', async () => {
        const first = await open();
        const seqs: number[] = [];
        for (const text of ['a', 'b', 'c']) seqs.push((await first.enqueue('c1', message(text))).seq ?? 0);
        await Promise.all([
          first.markSent('c1', seqs[0], 1, 1),
          first.markSent('c1', seqs[1], 2, 1),
          first.acknowledge('c1', 1),
        ]);
        await first.close();
        const second = await open();
        assert.deepEqual(
          (await second.outgoing('c1')).map((e) => [e.message.payload.toString(), e.packetId, e.state]),
          [
            ['b', 2, OutgoingState.Sent],
            ['c', 0, OutgoingState.Queued],
          ],
        );
        // The counts behind the bounds came through too: one queued entry, not three.
        const d = await second.enqueue('c1', message('d'));
        assert.equal(d.dropped, 0);
      });
    }
  });
}
