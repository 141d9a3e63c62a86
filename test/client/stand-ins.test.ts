import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateTopic } from 'mqtt';
import { FilterStandIns } from '../../src/client/stand-ins.js';

test('filters MQTT.js refuses go through under a stand-in and are swapped back as the packet is written', () => {
  const standIns = new FilterStandIns();
  for (const filter of ['K/a/', 'K/a/+/', 'K/a/#', 'K/a/?last=5']) {
    assert.equal(validateTopic(filter), true);
    assert.equal(standIns.standIn(filter), filter);
  }
  const wildcard = standIns.standIn('K/a/#/');
  const replay = standIns.standIn('K/a/#/?last=5');
  assert.equal(validateTopic('K/a/#/'), false);
  assert.ok(validateTopic(wildcard) && validateTopic(replay));
  assert.notEqual(wildcard, replay);

  const subscribe = { cmd: 'subscribe', subscriptions: [{ topic: wildcard }, { topic: 'K/b/' }] };
  standIns.restore(subscribe);
  assert.deepEqual(subscribe.subscriptions, [{ topic: 'K/a/#/' }, { topic: 'K/b/' }]);
  const unsubscribe = { cmd: 'unsubscribe', unsubscriptions: [replay] };
  standIns.restore(unsubscribe);
  assert.deepEqual(unsubscribe.unsubscriptions, ['K/a/#/?last=5']);
  // Swapped once: a stand-in name is not kept after its packet went out.
  const again = { cmd: 'subscribe', subscriptions: [{ topic: wildcard }] };
  standIns.restore(again);
  assert.deepEqual(again.subscriptions, [{ topic: wildcard }]);
});
