import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EMPTY_OPTIONS,
  isMeDisabled,
  messageTtl,
  parseOptions,
  replayLimit,
  RETAINED_TTL,
  timeWindow,
  TimeRange,
} from '../../src/channel/options.js';
import { parseChannel } from '../../src/channel/parse.js';

const optionsOf = (topic: string) => parseChannel(topic).options;

test('isMeDisabled only for me=0 (Emitter TestGetChannelExclude)', () => {
  assert.equal(isMeDisabled(optionsOf('emitter/a/?me=0')), true);
  assert.equal(isMeDisabled(optionsOf('emitter/a/?me=000')), true);
  assert.equal(isMeDisabled(optionsOf('emitter/a/?me=12000000')), false);
  assert.equal(isMeDisabled(optionsOf('emitter/a/?me=1200a')), false);
  assert.equal(isMeDisabled(optionsOf('emitter/a/?me=1')), false);
  assert.equal(isMeDisabled(optionsOf('emitter/a/')), false);
  // ?me=-1 is not even a valid topic, so the publish never gets this far.
  assert.equal(parseChannel('emitter/a/?me=-1').kind, 0);
});

test('replayLimit defaults to 1 and honours last=0', () => {
  assert.equal(replayLimit(optionsOf('k/a/')), 1);
  assert.equal(replayLimit(optionsOf('k/a/?last=0')), 0);
  assert.equal(replayLimit(optionsOf('k/a/?last=42')), 42);
  assert.equal(replayLimit(optionsOf('k/a/?last=4x')), 1);
});

test('timeWindow fills the unset bounds (Emitter TestGetChannelWindow)', () => {
  assert.deepEqual(timeWindow(optionsOf('k/a/')), { from: 0, until: TimeRange.max });
  assert.deepEqual(timeWindow(optionsOf('k/a/?from=1200&until=2550')), { from: 0, until: TimeRange.max });
  assert.deepEqual(timeWindow(optionsOf('k/a/?from=1514764800&until=1514764900')), {
    from: 1514764800,
    until: 1514764900,
  });
  assert.deepEqual(timeWindow(optionsOf('k/a/?until=1514764900')), { from: 0, until: 1514764900 });
});

test('messageTtl: retain flag, ttl override, clamping', () => {
  assert.equal(messageTtl(EMPTY_OPTIONS, false), 0);
  assert.equal(messageTtl(EMPTY_OPTIONS, true), RETAINED_TTL);
  assert.equal(messageTtl(optionsOf('k/a/?ttl=30'), false), 30);
  assert.equal(messageTtl(optionsOf('k/a/?ttl=30'), true), 30);
  assert.equal(messageTtl(optionsOf('k/a/?ttl=0'), true), RETAINED_TTL);
  assert.equal(messageTtl(optionsOf('k/a/?ttl=0'), false), 0);
  assert.equal(messageTtl(optionsOf('k/a/?ttl=4294967295'), false), RETAINED_TTL);
  assert.equal(messageTtl(optionsOf('k/a/?ttl=99999999999'), false), RETAINED_TTL);
});

test('parseOptions: empty and no known option share the frozen empty object', () => {
  assert.equal(parseOptions(''), EMPTY_OPTIONS);
  assert.equal(parseOptions('req=1&'), EMPTY_OPTIONS);
  assert.equal(parseOptions('a=b=c'), undefined);
  assert.ok(Object.isFrozen(EMPTY_OPTIONS));
});
