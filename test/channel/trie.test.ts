import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashLevel, WellKnownHash } from '../../src/channel/hash.js';
import { forEachRecipient } from '../../src/channel/match.js';
import { parseChannel } from '../../src/channel/parse.js';
import { ssidOf, type Ssid } from '../../src/channel/ssid.js';
import { SubscriptionTrie, type MatchStrategy } from '../../src/channel/trie.js';

interface Sub {
  readonly id: string;
}

// Emitter's testSub: hash every non-empty level, the first one standing in for the contract.
function ssidOfTopic(topic: string): Ssid {
  return topic
    .split('/')
    .filter((level) => level.length > 0)
    .map((level) => hashLevel(level));
}

function populate(strategy: MatchStrategy, topics: readonly string[]): SubscriptionTrie<Sub> {
  const trie = new SubscriptionTrie<Sub>(strategy);
  for (const topic of topics) trie.subscribe(ssidOfTopic(topic), { id: topic });
  return trie;
}

// Receivers the way Emitter's trie test counts them: direct subscribers plus one member per group.
function receivers(trie: SubscriptionTrie<Sub>, topic: string): number {
  return forEachRecipient(trie.match(ssidOfTopic(topic)), () => {});
}

const ids = (subs: readonly Sub[]) => subs.map((s) => s.id).sort();

const REFERENCE = [
  'key/a/',
  'key/a/b/c/',
  'key/a/+/c/',
  'key/a/b/c/d/',
  'key/a/+/c/+/',
  'key/x/',
  'key/x/y/',
  'key/x/+/z',
  'key/$share/group1/a/+/c/',
  'key/$share/group1/a/b/c/',
  'key/$share/group2/a/b/c/',
  'key/$share/group2/a/b/',
  'key/$share/group3/y/',
  'key/$share/group3/y/', // duplicate, same id
];

test('spec 2.4 reference table, emitter strategy', () => {
  const trie = populate('emitter', REFERENCE);
  assert.equal(trie.count, 13);
  const table: Array<[string, number]> = [
    ['key/a/', 1],
    ['key/a/1/', 1],
    ['key/a/2/', 1],
    ['key/a/1/2/', 1],
    ['key/a/1/2/3/', 1],
    ['key/a/x/y/c/', 1],
    ['key/a/x/c/', 3],
    ['key/a/b/c/', 5],
    ['key/a/b/c/d/', 7],
    ['key/a/b/c/e/', 6],
    ['key/x/y/c/e/', 2],
    ['key/y/', 1],
  ];
  for (const [topic, n] of table) assert.equal(receivers(trie, topic), n, topic);
  const match = trie.match(ssidOfTopic('key/a/b/c/'));
  assert.deepEqual(ids(match.subscribers), ['key/a/', 'key/a/+/c/', 'key/a/b/c/']);
  assert.equal(match.groups.length, 2);
});

test('spec 2.4 reference table, mqtt strategy', () => {
  const trie = populate('mqtt', REFERENCE);
  assert.equal(trie.count, 13);
  const table: Array<[string, number]> = [
    ['key/a/', 1],
    ['key/a/1/', 0],
    ['key/a/2/', 0],
    ['key/a/1/2/', 0],
    ['key/a/1/2/3/', 0],
    ['key/a/x/y/c/', 0],
    ['key/a/x/c/', 2],
    ['key/a/b/c/', 4],
    ['key/a/b/c/d/', 2],
    ['key/a/b/c/e/', 1],
    ['key/x/y/c/e/', 0],
    ['key/y/', 1],
  ];
  for (const [topic, n] of table) assert.equal(receivers(trie, topic), n, topic);
});

test('spec 2.4 mqtt multi-wildcard table (a/#, +/b/#)', () => {
  const trie = populate('mqtt', ['key/a/#', 'key/+/b/#']);
  const table: Array<[string, number]> = [
    ['key/a/', 0],
    ['key/a/b/', 1],
    ['key/a/b/c/', 2],
    ['key/a/b/c/d/', 2],
  ];
  for (const [topic, n] of table) assert.equal(receivers(trie, topic), n, topic);
});

test('Emitter TestTrieMatch1 / TestTrieMatchMqtt0: a/ against a/b/', () => {
  assert.equal(receivers(populate('emitter', ['key/a/']), 'key/a/b/'), 1);
  assert.equal(receivers(populate('mqtt', ['key/a/']), 'key/a/b/'), 0);
});

const W = WellKnownHash.wildcard;
for (const [strategy, expected] of [
  ['emitter', { '1,3': 's0 s1 s2', '1': 's2', '4,5': 's1 s2', '1,5': 's0 s1 s2', '4': 's1 s2' }],
  ['mqtt', { '1,3': 's0 s1', '1': 's2', '4,5': '', '1,5': 's0 s1', '4': 's1 s2' }],
] as const) {
  test(`Emitter TestTrieIntegration (${strategy}), under contract 9`, () => {
    const trie = new SubscriptionTrie<Sub>(strategy);
    const [s0, s1, s2] = [{ id: 's0' }, { id: 's1' }, { id: 's2' }];
    const subscriptions: Array<[Ssid, Sub]> = [
      [[9, 1, W], s0],
      [[9, W, 2], s0],
      [[9, 1, 3], s0],
      [[9, W, 3], s1],
      [[9, 1, W], s1],
      [[9, 4], s1],
      [[9, W], s2],
    ];
    for (const [ssid, sub] of subscriptions) assert.equal(trie.subscribe(ssid, sub), true);
    assert.equal(trie.subscribe([9, W], s2), false);
    const check = (table: Record<string, string>) => {
      for (const [query, who] of Object.entries(table)) {
        const ssid = [9, ...query.split(',').map(Number)];
        assert.deepEqual(ids(trie.match(ssid).subscribers), who === '' ? [] : who.split(' '), query);
      }
    };
    check(expected);
    for (const [ssid, sub] of subscriptions) assert.equal(trie.unsubscribe(ssid, sub), true);
    assert.equal(trie.unsubscribe([9, W], s2), false);
    check({ '1,3': '', '1': '', '4,5': '', '1,5': '', '4': '' });
    assert.equal(trie.count, 0);
    assert.equal(trie.size, 0);
  });
}

test('a subscriber matched by several subscriptions is listed once', () => {
  const trie = new SubscriptionTrie<Sub>();
  const sub = { id: 'conn' };
  for (const topic of ['key/a/', 'key/a/b/', 'key/a/+/', 'key/#/']) trie.subscribe(ssidOfTopic(topic), sub);
  const match = trie.match(ssidOfTopic('key/a/b/'));
  assert.equal(match.subscribers.length, 1);
  assert.equal(match.subscribers[0], sub);
  assert.equal(trie.count, 4);
  assert.equal(trie.size, 4);
});

test('subscribe twice is a no-op; unsubscribe removes; counts follow', () => {
  const trie = new SubscriptionTrie<Sub>();
  const ssid = ssidOfTopic('key/a/b/');
  const [one, two] = [{ id: 'one' }, { id: 'two' }];
  assert.equal(trie.subscribe(ssid, one), true);
  assert.equal(trie.subscribe(ssid, { id: 'one' }), false); // identity is the id
  assert.equal(trie.subscribe(ssid, two), true);
  assert.equal(trie.subscribe([], one), false);
  assert.deepEqual([trie.count, trie.size], [2, 1]);
  assert.equal(trie.isSubscribed(ssid, one), true);
  assert.equal(trie.unsubscribe(ssid, one), true);
  assert.equal(trie.unsubscribe(ssid, one), false);
  assert.equal(trie.unsubscribe(ssidOfTopic('key/nothing/here/'), one), false);
  assert.equal(trie.isSubscribed(ssid, one), false);
  assert.deepEqual(ids(trie.match(ssid).subscribers), ['two']);
  assert.equal(trie.unsubscribe(ssid, two), true);
  assert.deepEqual([trie.count, trie.size], [0, 0]);
  assert.equal(trie.match(ssid).subscribers.length, 0);
});

test('one, then several, then one subscriber on a node: every step matches and counts right', () => {
  const trie = new SubscriptionTrie<Sub>();
  const ssid = ssidOfTopic('key/a/');
  const below = ssidOfTopic('key/a/b/');
  const [a, b, c] = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  const step = (expected: string[]): void => {
    assert.deepEqual(ids(trie.match(below).subscribers), expected);
    assert.deepEqual([trie.count, trie.size], [expected.length, expected.length > 0 ? 1 : 0]);
    for (const sub of [a, b, c]) assert.equal(trie.isSubscribed(ssid, sub), expected.includes(sub.id));
  };
  trie.subscribe(ssid, a);
  step(['a']);
  assert.equal(trie.subscribe(ssid, { id: 'a' }), false);
  trie.subscribe(ssid, b);
  trie.subscribe(ssid, c);
  assert.equal(trie.subscribe(ssid, { id: 'b' }), false);
  step(['a', 'b', 'c']);
  assert.equal(trie.unsubscribe(ssid, a), true);
  step(['b', 'c']);
  assert.equal(trie.unsubscribe(ssid, c), true);
  step(['b']);
  assert.equal(trie.unsubscribe(ssid, a), false);
  trie.subscribe(ssid, a);
  step(['a', 'b']);
  trie.unsubscribe(ssid, b);
  trie.unsubscribe(ssid, a);
  step([]);
  trie.subscribe(ssid, c);
  step(['c']);
});

test('pruning keeps subscriptions that share a path', () => {
  const trie = new SubscriptionTrie<Sub>();
  const [short, long] = [{ id: 'short' }, { id: 'long' }];
  trie.subscribe(ssidOfTopic('key/a/'), short);
  trie.subscribe(ssidOfTopic('key/a/b/c/'), long);
  trie.unsubscribe(ssidOfTopic('key/a/'), short);
  assert.deepEqual(ids(trie.match(ssidOfTopic('key/a/b/c/')).subscribers), ['long']);
  trie.subscribe(ssidOfTopic('key/a/'), short);
  trie.unsubscribe(ssidOfTopic('key/a/b/c/'), long);
  assert.deepEqual(ids(trie.match(ssidOfTopic('key/a/b/c/')).subscribers), ['short']);
});

test('matches are cached and the cache is dropped on every change', () => {
  const trie = new SubscriptionTrie<Sub>();
  const ssid = ssidOfTopic('key/a/b/');
  trie.subscribe(ssidOfTopic('key/a/'), { id: 'first' });
  const first = trie.match(ssid);
  assert.equal(trie.match([...ssid]), first, 'same SSID, same cached result');
  assert.equal(trie.matchChannel(ssid[0], ssid.slice(1)), first, 'matchChannel shares the cache');

  const generation = trie.generation;
  assert.equal(trie.subscribe(ssidOfTopic('key/a/'), { id: 'first' }), false);
  assert.equal(trie.generation, generation, 'a no-op changes nothing');
  assert.equal(trie.match(ssid), first);

  trie.subscribe(ssidOfTopic('key/a/+/'), { id: 'second' });
  assert.ok(trie.generation > generation);
  const second = trie.match(ssid);
  assert.notEqual(second, first);
  assert.deepEqual(ids(second.subscribers), ['first', 'second']);

  trie.unsubscribe(ssidOfTopic('key/a/'), { id: 'first' });
  assert.deepEqual(ids(trie.match(ssid).subscribers), ['second']);
  trie.subscribe(ssidOfTopic('key/$share/g/a/'), { id: 'member' });
  assert.equal(trie.match(ssid).groups.length, 1);
});

test('the cache stays bounded and correct past its limit', () => {
  const trie = new SubscriptionTrie<Sub>('emitter', { cacheLimit: 3 });
  trie.subscribe(ssidOfTopic('key/a/'), { id: 'a' });
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(ids(trie.match(ssidOfTopic(`key/a/${i}/`)).subscribers), ['a']);
      assert.deepEqual(trie.match(ssidOfTopic(`key/b/${i}/`)).subscribers, []);
    }
  }
});

test('contracts never see each other, wildcards and share groups included', () => {
  const trie = new SubscriptionTrie<Sub>();
  const a = parseChannel('key/a/').query;
  trie.subscribe(ssidOf(1, a), { id: 'exact' });
  trie.subscribe(ssidOf(1, parseChannel('key/+/').query), { id: 'plus' });
  trie.subscribe(ssidOf(1, parseChannel('key/#/').query), { id: 'hash' });
  trie.subscribe(ssidOf(1, parseChannel('key/$share/g/a/').query), { id: 'member' });
  trie.subscribe([W, ...a], { id: 'wildcard-contract' });
  assert.equal(
    forEachRecipient(trie.match(ssidOf(1, a)), () => {}),
    4,
  );
  const other = trie.match(ssidOf(2, a));
  assert.deepEqual([other.subscribers.length, other.groups.length], [0, 0]);
  assert.equal(
    forEachRecipient(trie.matchChannel(2, a), () => {}),
    0,
  );
});

test('Decision 3: a/#/ matches a/ and everything below it in the emitter strategy', () => {
  const trie = new SubscriptionTrie<Sub>('emitter');
  trie.subscribe(ssidOfTopic('key/a/#/'), { id: 'a#' });
  trie.subscribe(ssidOfTopic('key/#/'), { id: '#' });
  trie.subscribe(ssidOfTopic('key/$share/g/a/#/'), { id: 'member' });
  for (const topic of ['key/a/', 'key/a/b/', 'key/a/b/c/d/']) {
    const match = trie.match(ssidOfTopic(topic));
    assert.deepEqual(ids(match.subscribers), ['#', 'a#'], topic);
    assert.deepEqual(
      match.groups.map((group) => ids(group.map((m) => m.subscriber))),
      [['member']],
      topic,
    );
  }
  const b = trie.match(ssidOfTopic('key/b/c/'));
  assert.deepEqual(ids(b.subscribers), ['#']);
  assert.equal(b.groups.length, 0);
  // Levels written after '#' stay literal: they match nothing a client can publish.
  trie.subscribe(ssidOfTopic('key/x/#/y/'), { id: 'x#y' });
  assert.deepEqual(ids(trie.match(ssidOfTopic('key/x/z/y/')).subscribers), ['#']);
});

test('mqtt strategy: a/#/ matches below a/ but not a/ itself', () => {
  const trie = new SubscriptionTrie<Sub>('mqtt');
  trie.subscribe(ssidOfTopic('key/a/#/'), { id: 'a#' });
  assert.equal(trie.match(ssidOfTopic('key/a/')).subscribers.length, 0);
  assert.deepEqual(ids(trie.match(ssidOfTopic('key/a/b/c/')).subscribers), ['a#']);
});

test('* is a literal level when matching', () => {
  for (const strategy of ['emitter', 'mqtt'] as const) {
    const trie = new SubscriptionTrie<Sub>(strategy);
    trie.subscribe(ssidOfTopic('key/a/*/'), { id: 'star' });
    assert.equal(trie.match(ssidOfTopic('key/a/b/')).subscribers.length, 0, strategy);
    assert.equal(trie.match([hashLevel('key'), hashLevel('a'), hashLevel('*')]).subscribers.length, 1);
  }
});

test('subscribersOf lists direct subscribers and every member of matching groups, once each', () => {
  const trie = new SubscriptionTrie<Sub>();
  const [direct, m1, m2] = [{ id: 'direct' }, { id: 'm1' }, { id: 'm2' }];
  trie.subscribe(ssidOfTopic('key/a/'), direct);
  trie.subscribe(ssidOfTopic('key/$share/g/a/'), m1);
  trie.subscribe(ssidOfTopic('key/$share/g/a/'), m2);
  trie.subscribe(ssidOfTopic('key/$share/h/a/'), m1);
  trie.subscribe(ssidOfTopic('key/$share/h/a/'), direct);
  assert.deepEqual(ids(trie.subscribersOf(ssidOfTopic('key/a/b/'))), ['direct', 'm1', 'm2']);
  assert.deepEqual(ids(trie.subscribersOf(ssidOfTopic('key/z/'))), []);
});

test('observer: told about each subscribe and unsubscribe that changed the trie, not about no-ops', () => {
  const trie = new SubscriptionTrie<{ id: string }>();
  const seen: string[] = [];
  trie.observe({
    added: (ssid, s) => seen.push(`+${s.id}:${ssid.join('.')}`),
    removed: (ssid, s) => seen.push(`-${s.id}:${ssid.join('.')}`),
  });
  const a = { id: 'a' };
  trie.subscribe([1, 2], a);
  trie.subscribe([1, 2], a); // already there
  trie.unsubscribe([1, 3], a); // never there
  trie.unsubscribe([1, 2], { id: 'a' }); // by id: the stored object is reported
  assert.deepEqual(seen, ['+a:1.2', '-a:1.2']);
});
