import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactMap } from '../../src/channel/compact-map.js';

const sub = (channel: string): { ssid: number[]; channel: string } => ({
  ssid: [1, channel.length],
  channel,
});

test('one, several, then one entry again: get, has, size and keys follow every step', () => {
  const subs = new CompactMap<string, { ssid: number[]; channel: string }>();
  const check = (expected: Record<string, string>): void => {
    assert.equal(subs.size, Object.keys(expected).length);
    assert.deepEqual(subs.keys().sort(), Object.keys(expected).sort());
    const copied = new Map<string, { ssid: number[]; channel: string }>();
    subs.copyInto(copied);
    assert.deepEqual([...copied.keys()].sort(), Object.keys(expected).sort());
    for (const id of ['x', 'y', 'z']) {
      assert.equal(subs.has(id), id in expected);
      assert.equal(subs.get(id)?.channel, expected[id]);
    }
  };
  check({});
  assert.equal(subs.delete('x'), false);
  subs.set('x', sub('a/'));
  check({ x: 'a/' });
  subs.set('x', sub('a/b/')); // replaces, still one
  check({ x: 'a/b/' });
  assert.equal(subs.delete('y'), false);
  subs.set('y', sub('c/'));
  subs.set('z', sub('d/'));
  check({ x: 'a/b/', y: 'c/', z: 'd/' });
  for (const id of subs.keys()) subs.delete(id); // keys() is a copy
  check({});
  subs.set('z', sub('e/'));
  check({ z: 'e/' });
  assert.equal(subs.delete('z'), true);
  check({});
});
