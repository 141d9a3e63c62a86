import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { SilenceWatch, type Watched } from '../../src/mqtt/silence-watch.js';

function item(): Watched & { fired: number } {
  return {
    lastTick: 0,
    allowedTicks: 0,
    fired: 0,
    silenceExceeded() {
      this.fired++;
    },
  };
}

test('a deadline fires once, never early and at most one tick late; touch and unwatch hold it off', () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const watch = new SilenceWatch();
    const silent = item();
    const chatty = item();
    const dropped = item();
    watch.watch(silent, 1000);
    watch.watch(chatty, 1000);
    watch.watch(dropped, 1000);
    watch.unwatch(dropped);
    // 240 ms in, the last sign of life lands just before a tick: it must still get its full second.
    mock.timers.tick(240);
    watch.touch(silent);
    for (let elapsed = 240; elapsed < 1240; elapsed += 10) {
      mock.timers.tick(10);
      watch.touch(chatty);
      assert.equal(silent.fired, 0, `fired early, ${elapsed + 10 - 240} ms after the last sign of life`);
    }
    mock.timers.tick(260);
    assert.equal(silent.fired, 1, 'fired within one tick after the deadline');
    assert.equal(chatty.fired, 0, 'touched 260 ms ago');
    watch.unwatch(chatty);
    mock.timers.tick(5000);
    assert.deepEqual([silent.fired, chatty.fired, dropped.fired], [1, 0, 0]);
  } finally {
    mock.timers.reset();
  }
});
