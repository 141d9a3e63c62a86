import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyDesk, type Reply } from '../../src/client/reply-desk.js';

const reply = (req: number, text = ''): Reply => ({
  topic: 'emitter/error/',
  payload: new Uint8Array(),
  body: { req, text },
});

test('a claim gets the reply to its packet, whether the reply came before the claim or after', () => {
  const events: Reply[] = [];
  const desk = new ReplyDesk((r) => events.push(r));
  const got: string[] = [];
  desk.claim(1, (r) => got.push(`late ${String(r.body.text)}`));
  assert.equal(desk.take(1, reply(1, 'a')), true);
  assert.equal(desk.take(2, reply(2, 'b')), true); // before its ack: held
  desk.claim(2, (r) => got.push(`early ${String(r.body.text)}`));
  assert.deepEqual(got, ['late a', 'early b']);
  assert.deepEqual(events, []);
});

test('a released packet sends its replies to the events, held ones first; unclaimed ones are dropped', () => {
  const events: string[] = [];
  const desk = new ReplyDesk((r) => events.push(String(r.body.text)));
  desk.take(3, reply(3, 'held'));
  desk.release(3);
  assert.equal(desk.take(3, reply(3, 'after')), false);
  assert.deepEqual(events, ['held']);

  desk.claim(4, () => assert.fail('unclaimed'));
  desk.unclaim(4);
  assert.equal(desk.take(4, reply(4)), true);
});

test('a new packet with a used id forgets the old one; held replies are bounded', () => {
  const events: string[] = [];
  const desk = new ReplyDesk((r) => events.push(String(r.body.text)));
  desk.release(5);
  desk.take(6, reply(6, 'stale'));
  desk.sent(5);
  desk.sent(6);
  assert.equal(desk.take(5, reply(5)), true, 'id 5 belongs to a new packet now');
  let claimed = 0;
  desk.claim(6, () => claimed++);
  assert.equal(claimed, 0, 'the stale reply to the old packet 6 is gone');

  for (let id = 100; id < 100 + 5000; id++) desk.take(id, reply(id));
  let oldest = 0;
  desk.claim(100, () => oldest++);
  let newest = 0;
  desk.claim(100 + 4999, () => newest++);
  assert.deepEqual([oldest, newest], [0, 1]);
});
