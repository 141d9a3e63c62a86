import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { connectClient, keygen } from '../helpers/clients.js';
import { startTestBroker } from '../helpers/broker.js';

/** A raw client that subscribes and then never reads again. */
async function stalledSubscriber(port: number, topic: string): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(
    mqttPacket.generate({
      cmd: 'connect',
      clientId: 'stalled',
      protocolVersion: 4,
      keepalive: 0,
      clean: true,
      protocolId: 'MQTT',
    }),
  );
  socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] }));
  await once(socket, 'data'); // CONNACK (and maybe SUBACK): now stop reading
  socket.pause();
  return socket;
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
      if (mode === 'drop') assert.ok(server.broker.counters.droppedSlowConsumer > 0);
      else {
        assert.equal(server.broker.counters.slowConsumersClosed, 1);
        stalled.resume();
        if (!stalled.destroyed) await once(stalled, 'close');
      }
      stalled.destroy();
    } finally {
      await publisher.end();
      await fast.end();
      await server.close();
    }
  });
}
