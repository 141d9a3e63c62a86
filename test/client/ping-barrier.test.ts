import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PingBarrier } from '../../src/client/ping-barrier.js';

/** A pinger that writes at once (connected) or queues (offline), reporting as MQTT.js's packetsend. */
function setUp(connected = true): { barrier: PingBarrier; pings: () => number } {
  let pings = 0;
  const barrier: PingBarrier = new PingBarrier({
    sendPing: () => {
      if (!connected) return;
      pings++;
      barrier.packetSent('pingreq');
    },
  });
  return { barrier, pings: () => pings };
}

const settled = async (promise: Promise<void>): Promise<boolean> => {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

test('waiters in one turn share a ping and resolve at its PINGRESP', async () => {
  const { barrier, pings } = setUp();
  const a = barrier.wait();
  const b = barrier.wait();
  assert.equal(await settled(a), false);
  assert.equal(pings(), 1);
  barrier.packetReceived('pingresp');
  assert.equal(await settled(a), true);
  assert.equal(await settled(b), true);
});

test('a keep-alive ping already in flight does not settle a later waiter', async () => {
  const { barrier, pings } = setUp();
  barrier.packetSent('pingreq'); // MQTT.js's own keep-alive
  const waiter = barrier.wait();
  assert.equal(await settled(waiter), false);
  assert.equal(pings(), 1);
  barrier.packetReceived('pingresp'); // answers the keep-alive
  assert.equal(await settled(waiter), false);
  barrier.packetReceived('pingresp');
  assert.equal(await settled(waiter), true);
});

test('offline (the ping is queued) or closed: waiters resolve at once', async () => {
  const offline = setUp(false);
  assert.equal(await settled(offline.barrier.wait()), true);
  const closing = setUp();
  const waiter = closing.barrier.wait();
  assert.equal(await settled(waiter), false);
  closing.barrier.closed();
  assert.equal(await settled(waiter), true);
});
