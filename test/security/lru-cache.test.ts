import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LruCache } from '../../src/security/lru-cache.js';

test('LruCache keeps at most its capacity and evicts the least recently used entry', () => {
  const cache = new LruCache<string, number>(3);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('c', 3);
  assert.equal(cache.get('a'), 1); // 'b' is now the oldest
  cache.set('d', 4);
  assert.equal(cache.size, 3);
  assert.equal(cache.get('b'), undefined);
  assert.deepEqual([cache.get('a'), cache.get('c'), cache.get('d')], [1, 3, 4]);
});

test('LruCache overwrites in place, deletes and clears', () => {
  const cache = new LruCache<string, string>(2);
  cache.set('a', 'x');
  cache.set('a', 'y');
  assert.equal(cache.size, 1);
  assert.equal(cache.get('a'), 'y');
  assert.equal(cache.delete('a'), true);
  assert.equal(cache.get('a'), undefined);
  cache.set('b', 'z');
  cache.clear();
  assert.equal(cache.size, 0);
});

test('LruCache stays bounded under many distinct keys', () => {
  const cache = new LruCache<number, number>(100);
  for (let i = 0; i < 10_000; i++) cache.set(i, i);
  assert.equal(cache.size, 100);
  assert.equal(cache.get(9_999), 9_999);
  assert.equal(cache.get(9_899), undefined);
});

test('LruCache rejects a capacity below 1', () => {
  assert.throws(() => new LruCache(0), RangeError);
  assert.throws(() => new LruCache(1.5), RangeError);
});

test('LruCache keeps an entry that is read between many new keys', () => {
  const cache = new LruCache<string, number>(10);
  cache.set('hot', 0);
  for (let i = 0; i < 1000; i++) {
    cache.set(`cold${i}`, i);
    assert.equal(cache.get('hot'), 0, `hot entry survived ${i} new keys`);
  }
  assert.equal(cache.size, 10);
});
