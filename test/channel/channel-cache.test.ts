import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParsedChannelCache } from '../../src/channel/channel-cache.js';
import { parseChannel } from '../../src/channel/parse.js';

test('a cached topic parses as parseChannel does, and the same object comes back for it', () => {
  const cache = new ParsedChannelCache();
  for (const topic of ['key/a/b/', 'key/a/+/', 'key/a/b/?ttl=30&me=0', 'no-slash', 'key/a//']) {
    const first = cache.parse(topic);
    assert.deepEqual(first, parseChannel(topic));
    assert.equal(cache.parse(topic), first, `${topic} is parsed once`);
  }
  assert.equal(cache.size, 5);
});

test('past its limit the cache starts over, so it never holds more than the limit', () => {
  const cache = new ParsedChannelCache(3);
  const first = cache.parse('key/0/');
  for (let i = 1; i < 3; i++) cache.parse(`key/${i}/`);
  assert.equal(cache.size, 3);
  assert.equal(cache.parse('key/0/'), first, 'still held at the limit');
  cache.parse('key/3/');
  assert.equal(cache.size, 1, 'the fourth topic started a new cache');
  const again = cache.parse('key/0/');
  assert.notEqual(again, first, 'parsed anew after the reset');
  assert.deepEqual(again, first);
});
