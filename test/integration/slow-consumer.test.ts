import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connectClient, keygen } from '../helpers/clients.js';
import { startTestBroker } from '../helpers/broker.js';
import { scrapeMetrics } from '../helpers/metrics.js';
import { connectRaw, type RawClient } from '../helpers/raw-socket.js';
import { within } from '../helpers/wait.js';

/** A raw client that subscribes, waits for its SUBACK and then never reads again. */
async function stalledSubscriber(port: number, topic: string): Promise<RawClient> {
  const client = await connectRaw(port, 'stalled');
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] });
  const suback = await client.next((packet) => packet.cmd === 'suback');
  assert.deepEqual(suback.cmd === 'suback' && suback.granted, [0], 'the stalled client is subscribed');
  client.socket.pause();
  return client;
}

for (const mode of ['drop', 'disconnect'] as const) {
  test(`a subscriber that stops reading is bounded (${mode}); a fast subscriber gets everything`, async () => {
    const server = await startTestBroker({ limits: { outgoingBuffer: 1024 * 1024, slowConsumer: mode } });
    const publisher = await connectClient(server.port);
    const fast = await connectClient(server.port);
    try {
      const key = await keygen(publisher, server.secret, 'flood/', 'rw');
      const stalled = await stalledSubscriber(server.port, `${key}/flood/`);
      await fast.mqtt.subscribeAsync(`${key}/flood/`);
      const before = await scrapeMetrics(server.port);
      const payload = Buffer.alloc(4096, 7);
      const total = 4000; // 16 MiB: far beyond the 1 MiB allowed in the stalled client's queue
      // Paced in batches acknowledged by the broker, so a reader that keeps up is never over the limit.
      for (let i = 0; i < total; i++) {
        if (i % 50 === 49) await publisher.mqtt.publishAsync(`${key}/flood/`, payload, { qos: 1 });
        else publisher.mqtt.publish(`${key}/flood/`, payload);
      }
      await publisher.mqtt.publishAsync(`${key}/flood/`, 'last', { qos: 1 });
      await fast.next((m) => m.payload.toString() === 'last', 30000);
      assert.equal(fast.received.filter((m) => m.topic === 'flood/').length, total + 1);
      // What the broker holds for the stalled client stays at the limit (plus one packet), not 16 MiB.
      const session = [...server.broker.sessions.values()].find((s) => s.clientId === 'stalled');
      const queued = session?.connection.writableLength ?? 0;
      assert.ok(queued <= 1024 * 1024 + 8192, `${queued} bytes queued for the stalled client`);
      // The documented metrics say what happened to the stalled client's deliveries.
      const after = await scrapeMetrics(server.port);
      const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
      if (mode === 'drop') {
        const dropped = delta('emitter_dropped_messages_total');
        assert.ok(dropped > 0, 'emitter_dropped_messages_total counts the deliveries dropped');
        assert.ok(dropped <= total + 1, `${dropped} dropped of ${total + 1}`);
        assert.equal(delta('emitter_slow_consumers_closed_total'), 0);
      } else {
        assert.equal(delta('emitter_slow_consumers_closed_total'), 1);
        assert.equal(delta('emitter_dropped_messages_total'), 0);
        stalled.socket.resume();
        if (!stalled.socket.destroyed)
          await within(once(stalled.socket, 'close'), 10000, 'the slow consumer was not disconnected');
      }
      stalled.close();
    } finally {
      await publisher.end();
      await fast.end();
      await server.close();
    }
  });
}
