import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashLevel, WellKnownHash } from '../../src/channel/hash.js';
import { parseChannel } from '../../src/channel/parse.js';
import {
  isShareSsid,
  presenceSsid,
  shareSsid,
  ssidContract,
  ssidEquals,
  ssidKey,
  ssidOf,
} from '../../src/channel/ssid.js';

test('ssidOf prefixes the contract to the level hashes', () => {
  const ssid = ssidOf(123, parseChannel('key/a/b/c/').query);
  assert.deepEqual(ssid, [123, 3238259379, 500706888, 1027807523]);
  assert.equal(ssidContract(ssid), 123);
  // Contracts are uint32: a negative int32 view of the same bits comes out unsigned.
  assert.deepEqual(ssidOf(-1, []), [0xffffffff]);
});

test('a $share channel parses into exactly the shareSsid layout', () => {
  const parsed = parseChannel('key/$share/group1/a/b/');
  const fromParse = ssidOf(7, parsed.query);
  const built = shareSsid(7, 'group1', parseChannel('key/a/b/').query);
  assert.deepEqual(fromParse, built);
  assert.deepEqual(built.slice(0, 3), [7, WellKnownHash.share, hashLevel('group1')]);
  assert.equal(isShareSsid(built), true);
  assert.equal(isShareSsid(ssidOf(7, parseChannel('key/a/b/').query)), false);
  assert.equal(isShareSsid([7, WellKnownHash.share]), false);
});

test('presenceSsid is [0, hash(presence), ...ssid]', () => {
  assert.deepEqual(presenceSsid([5, 1, 2]), [0, 3869262148, 5, 1, 2]);
});

test('ssidKey names SSIDs without collisions (unlike Emitter XOR counters)', () => {
  const ab = ssidOf(1, parseChannel('k/a/b/').query);
  const ba = ssidOf(1, parseChannel('k/b/a/').query);
  assert.notEqual(ssidKey(ab), ssidKey(ba));
  assert.equal(ssidKey(ab), '1.3238259379.500706888');
  assert.equal(ssidKey([1, 23]) === ssidKey([12, 3]), false);
  assert.equal(ssidEquals(ab, [...ab]), true);
  assert.equal(ssidEquals(ab, ba), false);
  assert.equal(ssidEquals(ab, ab.slice(0, 2)), false);
});
