import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageIdAt } from '../../src/storage/message.js';
import { fixedPrefixLength, matchesPattern, planQuery, replayPattern } from '../../src/storage/query.js';
import { CONTRACT, ssidOf, T0 } from './fixtures/messages.js';

test('matchesPattern: prefix, `+`, `#`, contract', () => {
  const table: Array<[string, string, boolean]> = [
    ['a/', 'a/', true],
    ['a/', 'a/b/c/', true],
    ['a/b/', 'a/', false],
    ['a/+/', 'a/', false],
    ['a/+/', 'a/x/', true],
    ['a/+/c/', 'a/x/c/d/', true],
    ['a/+/c/', 'a/x/d/', false],
    ['a/#/', 'a/', false],
    ['a/#/', 'a/x/y/', true],
    ['a/#/q/', 'a/x/y/', true],
    ['+/b/', 'z/b/', true],
    ['+/b/', 'z/c/', false],
    ['*/', 'a/', false],
    ['*/', '*/', true],
    ['', 'anything/', true],
  ];
  for (const [pattern, ssid, expected] of table) {
    assert.equal(matchesPattern(ssidOf(pattern), ssidOf(ssid)), expected, `${pattern} vs ${ssid}`);
  }
  assert.equal(matchesPattern(ssidOf('a/', 1), ssidOf('a/', 2)), false);
});

test('replayPattern strips a share group; fixedPrefixLength stops at the first wildcard', () => {
  assert.deepEqual(replayPattern(ssidOf('$share/g/a/b/')), ssidOf('a/b/'));
  assert.deepEqual(replayPattern(ssidOf('a/b/')), ssidOf('a/b/'));
  assert.equal(fixedPrefixLength(ssidOf('a/b/+/c/')), 3);
  assert.equal(fixedPrefixLength(ssidOf('+/b/')), 1);
  assert.equal(fixedPrefixLength([CONTRACT]), 1);
});

test('planQuery: window and startFromId become an id range', () => {
  const plan = planQuery(ssidOf('a/'), { from: T0 / 1000, until: T0 / 1000 + 9, limit: 3 }, 1000);
  assert.ok(plan !== undefined);
  assert.deepEqual(plan.lower, messageIdAt(T0));
  assert.deepEqual(plan.upper, messageIdAt(T0 + 10_000));
  const start = messageIdAt(T0 + 5000);
  assert.deepEqual(
    planQuery(ssidOf('a/'), { until: T0 / 1000 + 9, limit: 3, startFromId: start }, 1000)?.upper,
    start,
  );
  assert.equal(planQuery(ssidOf('a/'), { limit: 0 }, 1000), undefined);
  assert.equal(planQuery(ssidOf('a/'), { from: 20, until: 10, limit: 1 }, 1000), undefined);
  assert.equal(
    planQuery(ssidOf('a/'), { from: T0 / 1000, startFromId: messageIdAt(T0), limit: 1 }, 1000),
    undefined,
  );
  assert.equal(planQuery(ssidOf('a/'), { limit: 2.7 }, 1000)?.limit, 2);
  assert.equal(planQuery(ssidOf('a/'), { limit: 1, maxBytes: 10 }, 1000)?.maxBytes, 10);
  assert.equal(planQuery(ssidOf('a/'), { limit: 1, maxBytes: 10_000 }, 1000)?.maxBytes, 1000);
});
