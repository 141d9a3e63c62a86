import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectAsync,
  type EmitterRequestError,
  type Emitter,
  type HistoryMessage,
} from '../../src/client/index.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

// 40 messages of 3 KB: about 120 KB, while one emitter/history/ reply holds about 44 KB of payload.
const COUNT = 40;
const SIZE = 3000;
const payloadOf = (i: number): string => `${String(i).padStart(3, '0')}:${'x'.repeat(SIZE - 4)}`;

for (const transport of ['tcp', 'ws'] as const) {
  describe(`history over ${transport}`, () => {
    let server: TestBroker;
    let client: Emitter;
    let key: string;

    before(async () => {
      server = await startTestBroker();
      client = await connectAsync({ host: '127.0.0.1', port: server.port, transport, reconnectPeriod: 0 });
      key = (await client.promises.keygen({ key: server.secret, channel: 'hist/#/', type: 'rwsl' })).key;
      for (let i = 0; i < COUNT; i++)
        await client.promises.publish({ key, channel: 'hist/a/', message: payloadOf(i), ttl: 3600 });
      await client.promises.publish({ key, channel: 'hist/b/', message: 'on b', ttl: 3600 });
    });
    after(async () => {
      await client.promises.disconnect();
      await server.close();
    });

    const texts = (messages: HistoryMessage[]): number[] =>
      messages.map((m) => Number(m.asString().slice(0, 3)));

    test('history pages through replies until it has `last` messages, oldest first', async () => {
      const all = await client.promises.history({ key, channel: 'hist/a/', last: COUNT });
      assert.deepEqual(
        texts(all),
        Array.from({ length: COUNT }, (_, i) => i),
      );
      assert.equal(new Set(all.map((m) => m.id)).size, COUNT);
      assert.ok(
        all.every(
          (m) => m.channel === 'hist/a/' && m.asString() === payloadOf(Number(m.asString().slice(0, 3))),
        ),
      );

      const pages: HistoryMessage[][] = [];
      for await (const page of client.promises.historyPages({ key, channel: 'hist/a/', last: COUNT }))
        pages.push(page);
      assert.ok(pages.length >= 3, `${pages.length} pages`);
      assert.ok(pages.every((page) => page.length * SIZE <= 48 * 1024));
      // Newest page first, each page oldest first: reversed, they are the whole history in order.
      assert.deepEqual(texts(pages.toReversed().flat()), texts(all));
    });

    test('last, startFromID, from and until narrow the result; wildcards read every channel', async () => {
      assert.deepEqual(
        texts(await client.promises.history({ key, channel: 'hist/a/', last: 5 })),
        [35, 36, 37, 38, 39],
      );
      assert.equal((await client.promises.history({ key, channel: 'hist/a/' })).length, 1);

      const all = await client.promises.history({ key, channel: 'hist/a/', last: COUNT });
      const older = await client.promises.history({
        key,
        channel: 'hist/a/',
        last: 3,
        startFromID: all[10].id,
      });
      assert.deepEqual(texts(older), [7, 8, 9]);
      const beforeFirst = await client.promises.history({
        key,
        channel: 'hist/a/',
        last: 3,
        startFromID: all[0].id,
      });
      assert.deepEqual(beforeFirst, []);

      const now = Math.floor(Date.now() / 1000);
      assert.deepEqual(
        await client.promises.history({ key, channel: 'hist/a/', last: 5, until: now - 3600 }),
        [],
      );
      assert.deepEqual(
        await client.promises.history({ key, channel: 'hist/a/', last: 5, from: now + 3600 }),
        [],
      );
      const window = await client.promises.history({
        key,
        channel: 'hist/a/',
        last: COUNT,
        from: new Date(Date.now() - 3600_000),
        until: new Date(Date.now() + 3600_000),
      });
      assert.equal(window.length, COUNT);

      const everything = await client.promises.history({ key, channel: 'hist/#/', last: COUNT + 1 });
      assert.equal(everything.length, COUNT + 1);
      assert.equal(everything.at(-1)?.channel, 'hist/b/');
      assert.equal(everything.at(-1)?.asString(), 'on b');
    });

    test('a key without load permission is refused', async () => {
      const writeOnly = (await client.promises.keygen({ key: server.secret, channel: 'hist/a/', type: 'w' }))
        .key;
      await assert.rejects(
        client.promises.history({ key: writeOnly, channel: 'hist/a/', last: 5 }),
        (error: EmitterRequestError) => error.status === 401,
      );
    });
  });
}
