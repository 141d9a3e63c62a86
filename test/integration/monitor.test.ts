import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { connectClient, keygen } from '../helpers/clients.js';
import { startTestBroker } from '../helpers/broker.js';

test('monitor "self" publishes a stats snapshot on stats/<node>/ under the licence contract', async () => {
  const server = await startTestBroker({ monitor: { provider: 'self', node: 'node-a', interval: 100 } });
  const client = await connectClient(server.port);
  try {
    const key = await keygen(client, server.secret, 'stats/#/', 'r');
    await client.mqtt.subscribeAsync(`${key}/stats/`);
    const message = await client.next((m) => m.topic === 'stats/node-a/', 5000);
    const stats = JSON.parse(message.payload.toString()) as Record<string, number | string>;
    assert.equal(stats.node, 'node-a');
    assert.equal(stats.connections, 1);
    assert.equal(stats.subscriptions, 1);
    assert.ok(Number(stats.rss) > 0);
  } finally {
    await client.end();
    await server.close();
  }
});

test('monitor "statsd" sends gauges over UDP with the broker tag', async () => {
  const statsd = createSocket('udp4');
  statsd.bind(0, '127.0.0.1');
  await once(statsd, 'listening');
  const port = statsd.address().port;
  const server = await startTestBroker({
    monitor: { provider: 'statsd', node: 'node-b', interval: 100, url: `127.0.0.1:${port}` },
  });
  try {
    const [datagram] = (await once(statsd, 'message')) as [Buffer];
    const lines = datagram.toString().split('\n');
    assert.ok(lines.includes('emitter.node.conns:0|g|#broker:node-b'), lines.join(' '));
    assert.ok(lines.some((line) => line.startsWith('emitter.proc.rss:')));
  } finally {
    statsd.close();
    await server.close();
  }
});
