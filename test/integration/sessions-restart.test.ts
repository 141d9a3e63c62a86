import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, keygen } from '../helpers/clients.js';
import { startBrokerProcess } from '../helpers/broker-process.js';
import { startTestBroker } from '../helpers/broker.js';
import { InMemorySessionStore } from '../../src/storage/index.js';

// With `ssd`, a persistent session and the QoS 1 messages queued for it while its client is away survive
// a `kill -9` of the broker: a PUBACK to the publisher means the queued copy is on disk too.
test('ssd: QoS 1 messages acknowledged while a persistent subscriber is away are delivered after kill -9 and a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emitter-sessions-'));
  const env = { EMITTER_STORAGE_PROVIDER: 'ssd', EMITTER_STORAGE_CONFIG_DIR: dir };
  const first = await startBrokerProcess(env);
  const publisher = await connectClient(first.port, { reconnectPeriod: 0 });
  const key = await keygen(publisher, first.secret, 'orders/', 'rw');

  // The subscriber makes its persistent QoS 1 subscription, then goes away.
  const away = await connectClient(first.port, { clientId: 'warehouse', clean: false });
  await away.mqtt.subscribeAsync(`${key}/orders/`, { qos: 1 });
  await away.end();

  const sent: string[] = [];
  for (let i = 0; i < 50; i++) {
    await publisher.mqtt.publishAsync(`${key}/orders/`, `order ${i}`, { qos: 1 });
    sent.push(`order ${i}`);
  }
  await first.kill(); // no shutdown: whatever was acknowledged must already be on disk
  publisher.mqtt.end(true);

  const second = await startBrokerProcess(env, first.license);
  try {
    const back = await connectClient(second.port, { clientId: 'warehouse', clean: false });
    await back.next((m) => m.payload.toString() === sent[sent.length - 1], 10000);
    const received = back.received.filter((m) => m.topic === 'orders/').map((m) => m.payload.toString());
    assert.deepEqual(received, sent, 'every acknowledged message, in order, once');
    await back.end();
  } finally {
    assert.equal(await second.stop(), 0);
  }
});

test('a QoS 1 PUBACK waits until the copies queued for persistent sessions are in the session store', async () => {
  // A store whose enqueues wait at a gate: the publisher's acknowledgement must wait with them.
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  let reached: () => void = () => {};
  const enqueued = new Promise<void>((resolve) => (reached = resolve));
  class GatedStore extends InMemorySessionStore {
    override async enqueue(...args: Parameters<InMemorySessionStore['enqueue']>) {
      reached();
      await gate;
      return super.enqueue(...args);
    }
  }
  const server = await startTestBroker({ sessions: { store: new GatedStore() } });
  try {
    const publisher = await connectClient(server.port);
    const key = await keygen(publisher, server.secret, 'orders/', 'rw');
    const away = await connectClient(server.port, { clientId: 'warehouse', clean: false });
    await away.mqtt.subscribeAsync(`${key}/orders/`, { qos: 1 });
    await away.end();

    let acknowledged = false;
    const publish = publisher.mqtt.publishAsync(`${key}/orders/`, 'order 1', { qos: 1 }).then(() => {
      acknowledged = true;
    });
    await enqueued;
    // A round trip on the same connection: its answer comes after any PUBACK already sent.
    await publisher.mqtt.publishAsync('emitter/me/', '');
    await publisher.nextJson('emitter/me/');
    assert.equal(acknowledged, false, 'no PUBACK while the queued copy is not stored');
    open();
    await publish;
    assert.equal(acknowledged, true);
    await publisher.end();
  } finally {
    open();
    await server.close();
  }
});
