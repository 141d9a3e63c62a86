import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashLevel } from '../../src/channel/hash.js';
import {
  EMPTY_MATCH,
  forEachRecipient,
  pickShareMember,
  type Match,
  type QoS,
  type Subscription,
} from '../../src/channel/match.js';
import { SubscriptionTrie } from '../../src/channel/trie.js';

interface Sub {
  readonly id: string;
}

const ssidOfTopic = (topic: string) =>
  topic
    .split('/')
    .filter((level) => level.length > 0)
    .map((level) => hashLevel(level));

function visitIds<S extends Sub>(match: Match<S>, excludeId?: string, random?: () => number): string[] {
  const seen: string[] = [];
  forEachRecipient(match, (s) => seen.push(s.id), excludeId, random);
  return seen;
}

test('each of 3 group members is picked over 300 deliveries', () => {
  const trie = new SubscriptionTrie<Sub>();
  for (const id of ['m1', 'm2', 'm3']) trie.subscribe(ssidOfTopic('key/$share/g/a/'), { id });
  const counts = new Map<string, number>();
  const match = trie.match(ssidOfTopic('key/a/'));
  for (let i = 0; i < 300; i++) {
    const visited = visitIds(match);
    assert.equal(visited.length, 1);
    counts.set(visited[0], (counts.get(visited[0]) ?? 0) + 1);
  }
  // Missing a member in 300 uniform picks has probability 3 * (2/3)^300, about 1e-52.
  assert.deepEqual([...counts.keys()].sort(), ['m1', 'm2', 'm3']);
});

// A subscription of subscriber `id` at `qos`.
const at = (id: string, qos: QoS = 0): Subscription<Sub> => ({ subscriber: { id }, qos });
const matchOf = (direct: Subscription<Sub>[], groups: Subscription<Sub>[][]): Match<Sub> => ({
  subscriptions: direct,
  groups,
  subscribers: direct.map((s) => s.subscriber),
});

test('pickShareMember is uniform over its random input and skips the excluded id', () => {
  const group = [at('a'), at('b'), at('c')];
  assert.equal(pickShareMember(group, undefined, () => 0)?.subscriber.id, 'a');
  assert.equal(pickShareMember(group, undefined, () => 0.5)?.subscriber.id, 'b');
  assert.equal(pickShareMember(group, undefined, () => 0.99)?.subscriber.id, 'c');
  assert.equal(pickShareMember(group, undefined, () => 1)?.subscriber.id, 'c');
  assert.equal(pickShareMember(group, 'a', () => 0)?.subscriber.id, 'b');
  assert.equal(pickShareMember(group, 'b', () => 0.6)?.subscriber.id, 'c');
  assert.equal(pickShareMember(group, 'c', () => 0.99)?.subscriber.id, 'b');
  assert.equal(pickShareMember([at('only')], 'only'), undefined);
  assert.equal(pickShareMember([]), undefined);
});

test('forEachRecipient: direct once, one per group, publisher excluded with me=0', () => {
  const trie = new SubscriptionTrie<Sub>();
  const ssid = ssidOfTopic('key/a/b/');
  trie.subscribe(ssidOfTopic('key/a/'), { id: 'publisher' });
  trie.subscribe(ssidOfTopic('key/a/b/'), { id: 'reader' });
  trie.subscribe(ssidOfTopic('key/$share/g/a/'), { id: 'publisher' });
  trie.subscribe(ssidOfTopic('key/$share/g/a/'), { id: 'worker' });
  const match = trie.match(ssid);
  // The group is never offered its excluded member, so the message still reaches the group.
  for (const r of [0, 0.5, 0.99]) {
    assert.deepEqual(visitIds(match, 'publisher', () => r).sort(), ['reader', 'worker']);
  }
  assert.equal(
    forEachRecipient(EMPTY_MATCH, () => assert.fail('nobody to visit')),
    0,
  );
});

test('a picked member that already received the message is not visited twice', () => {
  const direct = at('both');
  const other = at('other');
  const match = matchOf([direct], [[direct, other], [direct], [other]]);
  // Picks: group 1 -> 'both' (already direct), group 2 -> 'both', group 3 -> 'other'.
  assert.deepEqual(
    visitIds(match, undefined, () => 0),
    ['both', 'other'],
  );
  // Two groups picking the same member deliver once too.
  const twice = matchOf([], [[other], [other, direct]]);
  assert.deepEqual(
    visitIds(twice, undefined, () => 0),
    ['other'],
  );
});

test('the membership check works for matches with many direct subscribers', () => {
  const trie = new SubscriptionTrie<Sub>();
  for (let i = 0; i < 20; i++) trie.subscribe(ssidOfTopic('key/a/'), { id: `s${i}` });
  trie.subscribe(ssidOfTopic('key/$share/g/a/'), { id: 's7' });
  trie.subscribe(ssidOfTopic('key/$share/h/a/'), { id: 'extra' });
  const visited = visitIds(trie.match(ssidOfTopic('key/a/')));
  assert.equal(visited.length, 21);
  assert.equal(new Set(visited).size, 21);
});

test('a recipient reached several ways gets one delivery at the highest QoS granted', () => {
  const visits = (match: Match<Sub>): Array<[string, QoS]> => {
    const seen: Array<[string, QoS]> = [];
    forEachRecipient(
      match,
      (s, qos) => seen.push([s.id, qos]),
      undefined,
      () => 0,
    );
    return seen;
  };
  // Direct at QoS 0, picked by a group at QoS 1: once, at 1.
  assert.deepEqual(visits(matchOf([at('c', 0)], [[at('c', 1)]])), [['c', 1]]);
  // Direct at QoS 2, picked at QoS 0: once, at 2.
  assert.deepEqual(visits(matchOf([at('c', 2)], [[at('c', 0)]])), [['c', 2]]);
  // Picked by two groups at 1 and 2, not direct: once, at 2.
  assert.deepEqual(visits(matchOf([], [[at('m', 1)], [at('m', 2)]])), [['m', 2]]);
  // Only the publisher is excluded; others keep their QoS.
  const seen: Array<[string, QoS]> = [];
  forEachRecipient(matchOf([at('p', 1), at('r', 1)], [[at('p', 2)]]), (s, q) => seen.push([s.id, q]), 'p');
  assert.deepEqual(seen, [['r', 1]]);
});

test('the trie keeps one subscription per subscriber per match, at its highest QoS', () => {
  const trie = new SubscriptionTrie<Sub>();
  const client = { id: 'client' };
  trie.subscribe(ssidOfTopic('key/a/'), client, 0);
  trie.subscribe(ssidOfTopic('key/a/b/'), client, 2);
  trie.subscribe(ssidOfTopic('key/a/+/'), client, 1);
  const match = trie.match(ssidOfTopic('key/a/b/'));
  assert.equal(match.subscriptions.length, 1);
  assert.equal(match.subscriptions[0].qos, 2);
  assert.equal(trie.match(ssidOfTopic('key/a/c/')).subscriptions[0].qos, 1);
  // Re-subscribing changes the QoS in place and drops the cached match.
  assert.equal(trie.subscribe(ssidOfTopic('key/a/b/'), client, 0), true);
  assert.equal(trie.subscribe(ssidOfTopic('key/a/b/'), client, 0), false);
  assert.equal(trie.match(ssidOfTopic('key/a/b/')).subscriptions[0].qos, 1);
  assert.equal(trie.count, 3);
});

test('a subscriber that is its own QoS 0 subscription is stored without a wrapper, and wrapped at QoS 1', () => {
  class Own {
    constructor(readonly id: string) {}
    get subscriber(): this {
      return this;
    }
    get qos(): 0 {
      return 0;
    }
  }
  const trie = new SubscriptionTrie<Own>();
  const own = new Own('own');
  trie.subscribe(ssidOfTopic('key/a/'), own);
  assert.equal(trie.match(ssidOfTopic('key/a/')).subscriptions[0], own);
  trie.subscribe(ssidOfTopic('key/a/'), own, 1);
  const upgraded = trie.match(ssidOfTopic('key/a/')).subscriptions[0];
  assert.notEqual(upgraded, own);
  assert.deepEqual([upgraded.subscriber, upgraded.qos], [own, 1]);
  trie.subscribe(ssidOfTopic('key/a/'), own, 0);
  assert.equal(trie.match(ssidOfTopic('key/a/')).subscriptions[0], own);
});
