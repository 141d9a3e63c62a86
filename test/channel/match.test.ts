import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashLevel } from '../../src/channel/hash.js';
import { EMPTY_MATCH, forEachRecipient, pickShareMember, type Match } from '../../src/channel/match.js';
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

test('pickShareMember is uniform over its random input and skips the excluded id', () => {
  const group = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  assert.equal(pickShareMember(group, undefined, () => 0)?.id, 'a');
  assert.equal(pickShareMember(group, undefined, () => 0.5)?.id, 'b');
  assert.equal(pickShareMember(group, undefined, () => 0.99)?.id, 'c');
  assert.equal(pickShareMember(group, undefined, () => 1)?.id, 'c');
  assert.equal(pickShareMember(group, 'a', () => 0)?.id, 'b');
  assert.equal(pickShareMember(group, 'b', () => 0.6)?.id, 'c');
  assert.equal(pickShareMember(group, 'c', () => 0.99)?.id, 'b');
  assert.equal(pickShareMember([{ id: 'only' }], 'only'), undefined);
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
  const direct = { id: 'both' };
  const other = { id: 'other' };
  const match: Match<Sub> = { subscribers: [direct], groups: [[direct, other], [direct], [other]] };
  // Picks: group 1 -> 'both' (already direct), group 2 -> 'both', group 3 -> 'other'.
  assert.deepEqual(
    visitIds(match, undefined, () => 0),
    ['both', 'other'],
  );
  // Two groups picking the same member deliver once too.
  const twice: Match<Sub> = { subscribers: [], groups: [[other], [other, direct]] };
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
