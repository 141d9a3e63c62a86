import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChannelKind,
  emitterChannelOf,
  hashLevel,
  parseChannel,
  parsePlainFilter,
  parsePlainTopic,
  plainTopicOf,
  PlainMark,
  ssidOf,
  startsWithDollar,
  SubscriptionTrie,
  WellKnownHash,
} from '../../src/channel/index.js';

const KEY = 'k'.repeat(32);

test('plain topic T and Emitter channel T/ are one channel: same levels, same SSID, inverse forms', () => {
  for (const topic of ['a', 'a/b', 'a/b/', 'a//b', '/a', 'room 1/t', 'é/温度', 'q?x=1', '$SYS/x']) {
    const plain = parsePlainTopic(KEY, topic);
    assert.equal(plain.kind, ChannelKind.Static, topic);
    assert.equal(plain.plain, true);
    assert.equal(plain.channel, `${topic}/`);
    assert.equal(emitterChannelOf(topic), plain.channel);
    assert.equal(plainTopicOf(plain.channel), topic);
    assert.deepEqual(
      plain.query,
      topic.split('/').map((level) => hashLevel(level)),
    );
  }
  // Where Emitter's grammar allows the channel, its parse gives the same SSID.
  assert.deepEqual(parsePlainTopic(KEY, 'sensors/t1').query, parseChannel(`${KEY}/sensors/t1/`).query);
  assert.deepEqual(parsePlainTopic(KEY, 'a/b/').levels, ['a', 'b', '']);
});

test('plain PUBLISH topics and SUBSCRIBE filters follow MQTT rules', () => {
  for (const bad of ['', 'a/+', 'a/#', '#', 'a+', 'a\u0000b'])
    assert.equal(parsePlainTopic(KEY, bad).kind, ChannelKind.Invalid, JSON.stringify(bad));
  for (const bad of [
    '',
    'a/#/b',
    'a/b#',
    'a+/b',
    '#/',
    'a\u0000',
    '$share/',
    '$share/g',
    '$share/g/',
    '$share/g+/a',
  ])
    assert.equal(parsePlainFilter(KEY, bad).kind, ChannelKind.Invalid, JSON.stringify(bad));
  for (const good of ['a', 'a/+', '+', '#', 'a/#', '+/+/#', '/', '$SYS/#', 'a//+', '$share/g/a/+'])
    assert.notEqual(parsePlainFilter(KEY, good).kind, ChannelKind.Invalid, good);
  assert.deepEqual(parsePlainFilter(KEY, 'a/+').query, [
    hashLevel('a'),
    WellKnownHash.wildcard,
    PlainMark.exact,
  ]);
  assert.deepEqual(parsePlainFilter(KEY, 'a/#').query, [hashLevel('a'), PlainMark.multi]);
  assert.deepEqual(parsePlainFilter(KEY, '#').query, [PlainMark.rootMulti]);
  assert.deepEqual(parsePlainFilter(KEY, '+/a').query, [
    PlainMark.rootWildcard,
    hashLevel('a'),
    PlainMark.exact,
  ]);
  assert.deepEqual(parsePlainFilter(KEY, '$share/g/#').query, [
    WellKnownHash.share,
    hashLevel('g'),
    PlainMark.rootMulti,
  ]);
  assert.equal(
    parsePlainFilter(KEY, '$share/g/a/+').channel,
    'a/+/',
    'checked against the key without $share',
  );
  assert.equal(startsWithDollar('$SYS/x/'), true);
  assert.equal(startsWithDollar('a/$x'), false);
  const marks = Object.values(PlainMark);
  assert.equal(
    new Set([...marks, ...Object.values(WellKnownHash)]).size,
    marks.length + Object.keys(WellKnownHash).length,
  );
});

test('one trie: Emitter subscriptions by prefix, plain ones MQTT-exactly, under both strategies', () => {
  for (const strategy of ['emitter', 'mqtt'] as const) {
    const trie = new SubscriptionTrie<{ id: string }>(strategy);
    const sub = (id: string, filter: string, plain: boolean): void => {
      const query = plain ? parsePlainFilter(KEY, filter).query : parseChannel(`${KEY}/${filter}`).query;
      trie.subscribe(ssidOf(1, query), { id }, 0, plain ? { plain: true } : undefined);
    };
    sub('emitter a/', 'a/', false);
    sub('plain a', 'a', true);
    sub('plain a/+', 'a/+', true);
    sub('plain a/#', 'a/#', true);
    sub('plain #', '#', true);
    sub('plain +/x', '+/x', true);
    const who = (topic: string): string[] =>
      trie
        .matchChannel(1, parsePlainTopic(KEY, topic).query, startsWithDollar(topic))
        .subscribers.map((s) => s.id)
        .sort();
    const prefix = strategy === 'emitter';
    assert.deepEqual(who('a'), ['emitter a/', 'plain #', 'plain a', 'plain a/#'].sort());
    assert.deepEqual(
      who('a/x'),
      [...(prefix ? ['emitter a/'] : []), 'plain #', 'plain +/x', 'plain a/#', 'plain a/+'].sort(),
    );
    assert.deepEqual(who('a/x/y'), [...(prefix ? ['emitter a/'] : []), 'plain #', 'plain a/#'].sort());
    assert.deepEqual(who('$a/x'), [], 'no leading wildcard for $ topics');
    assert.deepEqual(who('b/x'), ['plain #', 'plain +/x']);
    // The cache answers the same on a repeat.
    assert.deepEqual(who('$a/x'), []);
    assert.deepEqual(who('b/x'), ['plain #', 'plain +/x']);
  }
});
