// Its own file, so its own process: the silence watch is process-wide and no other test adds to it here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { listenSharedPort } from '../../src/mqtt/index.js';
import { silenceWatch } from '../../src/mqtt/silence-watch.js';

async function waitFor(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    assert.ok(Date.now() < deadline, 'timed out');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('a socket that closes before its first byte leaves the silence watch at once', async () => {
  const shared = await listenSharedPort({
    host: '127.0.0.1',
    port: 0,
    sniffTimeout: 60000,
    onConnection: () => assert.fail('no MQTT connection expected'),
  });
  try {
    const socket = net.connect(shared.address().port, '127.0.0.1');
    socket.on('error', () => {});
    await waitFor(() => shared.connections === 1);
    assert.equal(silenceWatch.size, 1, 'watched until its first byte');
    socket.destroy();
    await waitFor(() => shared.connections === 0);
    assert.equal(silenceWatch.size, 0, 'not left to wait out the 60 s deadline');
  } finally {
    await shared.close();
  }
});
