import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RETAINED_TTL } from '../../src/channel/options.js';
import {
  compareMessageIds,
  createMessage,
  encodeMessageId,
  expiresAt,
  isExpired,
  MESSAGE_ID_LENGTH,
  MessageIdGenerator,
  messageIdAt,
  messageIdFromBase64,
  messageIdTime,
  messageIdToBase64,
  parseMessageId,
} from '../../src/storage/message.js';
import { ssidOf, T0 } from './fixtures/messages.js';

test('ids are 16 bytes and sort by time, then sequence', () => {
  const a = encodeMessageId({ time: T0, sequence: 5, instance: 1 });
  const b = encodeMessageId({ time: T0, sequence: 6, instance: 0 });
  const c = encodeMessageId({ time: T0 + 1, sequence: 0, instance: 0 });
  assert.equal(a.length, MESSAGE_ID_LENGTH);
  assert.ok(compareMessageIds(a, b) < 0 && compareMessageIds(b, c) < 0);
  assert.deepEqual(parseMessageId(a), { time: T0, sequence: 5, instance: 1 });
  assert.equal(messageIdTime(c), T0 + 1);
  assert.ok(compareMessageIds(messageIdAt(T0), a) < 0);
  assert.ok(compareMessageIds(messageIdAt(T0 + 1), c) <= 0);
});

test('a generator never goes back, even when its clock does', () => {
  let now = T0;
  const ids = new MessageIdGenerator({ now: () => now });
  const first = ids.next();
  now = T0 - 5000;
  const second = ids.next();
  now = T0 + 10;
  const third = ids.next();
  assert.ok(compareMessageIds(first, second) < 0 && compareMessageIds(second, third) < 0);
  assert.equal(messageIdTime(second), T0);
  assert.equal(messageIdTime(ids.next(T0 - 1000)), T0 - 1000, 'an explicit time is kept');
});

test('ids round-trip through standard base64; junk is refused', () => {
  const id = new MessageIdGenerator().next();
  const text = messageIdToBase64(id);
  assert.equal(text.length, 24);
  assert.deepEqual(messageIdFromBase64(text), id);
  assert.equal(messageIdFromBase64('not base64!'), undefined);
  assert.equal(messageIdFromBase64(Buffer.alloc(12).toString('base64')), undefined);
  assert.equal(messageIdFromBase64(Buffer.alloc(16, 0xff).toString('base64')), undefined);
  assert.equal(parseMessageId(Buffer.alloc(15)), undefined);
});

test('expiresAt: 0 without ttl, at least ttl seconds, RETAINED_TTL becomes retain', () => {
  assert.equal(expiresAt(T0, 0), 0);
  assert.equal(expiresAt(T0, 10), T0 / 1000 + 10);
  assert.equal(expiresAt(T0 + 1, 10), T0 / 1000 + 11);
  assert.equal(expiresAt(T0, RETAINED_TTL), T0 / 1000 + 2_592_000);
  assert.equal(expiresAt(T0, RETAINED_TTL, 60), T0 / 1000 + 60);
  assert.equal(isExpired(0, T0 * 10), false);
  assert.equal(isExpired(T0 / 1000 + 10, T0 + 9999), false);
  assert.equal(isExpired(T0 / 1000 + 10, T0 + 10_000), true);
});

test('createMessage fills id, time and expires', () => {
  const message = createMessage(
    { ssid: ssidOf('a/b/'), channel: 'a/b/', payload: Buffer.from('x'), ttl: RETAINED_TTL, time: T0 },
    { retain: 100 },
  );
  assert.equal(message.time, T0);
  assert.equal(messageIdTime(message.id), T0);
  assert.equal(message.expires, T0 / 1000 + 100);
  assert.throws(() => encodeMessageId({ time: -1, sequence: 0, instance: 0 }), RangeError);
});
