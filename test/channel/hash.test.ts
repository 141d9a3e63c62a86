import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashLevel, WellKnownHash } from '../../src/channel/hash.js';

test('hashLevel matches the Go broker test vectors', () => {
  const vectors: Array<[string, number]> = [
    ['', 1325880984],
    ['keyban', 861724010],
    ['me', 2539734036],
    ['$share', 1480642916],
    ['link', 2667034312],
    ['+', 1815237614],
    ['#', 4285801373],
    ['presence', 3869262148],
    ['query', 3939663052],
    ['a', 3238259379],
    ['b', 500706888],
    ['c', 1027807523],
    ['a/b/c', 1472197536],
    ['hello world', 4008393376],
    ['keygen', 548658350],
    ['history', 2974457405],
    ['emitter', 2717831230],
    ['cluster', 1620747398],
    ['stats', 2556334163],
  ];
  for (const [input, expected] of vectors) {
    assert.equal(hashLevel(input), expected, `hash of ${JSON.stringify(input)}`);
  }
});

test('hashLevel gives the same result for strings and bytes, including non-ASCII', () => {
  for (const text of ['a', 'abcd', 'abcde', 'héllo', 'x'.repeat(300)]) {
    assert.equal(hashLevel(text), hashLevel(new TextEncoder().encode(text)));
  }
  assert.equal(WellKnownHash.share, 1480642916);
});
