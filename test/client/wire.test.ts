import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  formatChannel,
  historyBody,
  linkBody,
  publishOptions,
  replayOptions,
} from '../../src/client/wire.js';

// emitter-io's own topic formatter is the oracle.
type Format = (key: string, channel: string, options: Array<{ key: string; value: string }>) => string;
const require = createRequire(import.meta.url);
const { Emitter } = require('emitter-io') as { Emitter: new () => { _formatChannel: Format } };
const official = new Emitter();

test('formatChannel writes topics exactly as emitter-io does', () => {
  const options: Array<Array<[string, string]>> = [
    [],
    [['me', '1']],
    [
      ['me', '0'],
      ['ttl', '30'],
    ],
    [['last', '5']],
  ];
  for (const key of ['', 'KEY', 'KEY/', '/KEY'])
    for (const channel of ['a', 'a/', 'a/b/', 'a/#/', '$share/g/a/', '/a/'])
      for (const option of options) {
        const theirs = official._formatChannel(
          key,
          channel,
          option.map(([name, value]) => ({ key: name, value })),
        );
        assert.equal(
          formatChannel(key, channel, option),
          theirs,
          `${key} ${channel} ${JSON.stringify(option)}`,
        );
      }
});

test('publish options as emitter-io: me always, ttl when truthy (publish) or set (link)', () => {
  assert.deepEqual(publishOptions(undefined, undefined, false), [['me', 1]]);
  assert.deepEqual(publishOptions(false, 0, false), [['me', 0]]);
  assert.deepEqual(publishOptions(true, 30, false), [
    ['me', 1],
    ['ttl', 30],
  ]);
  assert.deepEqual(publishOptions(undefined, 0, true), [
    ['me', 1],
    ['ttl', 0],
  ]);
  assert.deepEqual(
    linkBody({ key: 'K', channel: 'a/', name: 'a1', private: false, subscribe: true, ttl: 5 }),
    {
      key: 'K',
      channel: 'a/?me=1&ttl=5',
      name: 'a1',
      private: false,
      subscribe: true,
    },
  );
});

test('replay options in unix seconds; the history body puts key and options in the channel', () => {
  const from = new Date(1_700_000_000_900);
  assert.deepEqual(replayOptions({ last: 0, from, until: 1_700_000_100.7 }), [
    ['last', 0],
    ['from', 1_700_000_000],
    ['until', 1_700_000_100],
  ]);
  assert.deepEqual(historyBody({ key: 'K', channel: 'a/', last: 3 }), { key: 'K', channel: 'K/a/?last=3' });
  assert.deepEqual(historyBody({ key: 'K', channel: 'a/', startFromID: 'AAE=' }), {
    key: 'K',
    channel: 'K/a/',
    startFromID: 'AAE=',
  });
});
