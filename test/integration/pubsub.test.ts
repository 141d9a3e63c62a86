import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

for (const transport of ['tcp', 'ws'] as const) {
  describe(`publish/subscribe over ${transport}`, () => {
    let server: TestBroker;
    let alice: TestClient;
    let bob: TestClient;
    let key: string;

    before(async () => {
      server = await startTestBroker();
      alice = await connectClient(server.port, { transport });
      bob = await connectClient(server.port, { transport });
      key = await keygen(alice, server.secret, 'chat/#/', 'rw');
    });
    after(async () => {
      await alice.end();
      await bob.end();
      await server.close();
    });

    test('keygen returns a 32-character key for the channel requested', async () => {
      await alice.mqtt.publishAsync(
        'emitter/keygen/',
        JSON.stringify({ key: server.secret, channel: 'room/', type: 'rwslp', ttl: 60 }),
      );
      const reply = await alice.nextJson('emitter/keygen/');
      assert.equal(reply.status, 200);
      assert.equal(reply.channel, 'room/');
      assert.match(String(reply.key), /^[A-Za-z0-9_-]{32}$/);
    });

    test('a subscriber to a prefix receives messages on deeper channels, on the bare channel topic', async () => {
      await bob.mqtt.subscribeAsync(`${key}/chat/`);
      await alice.mqtt.publishAsync(`${key}/chat/room1/?ttl=0`, 'hello');
      const message = await bob.next((m) => m.topic === 'chat/room1/');
      assert.equal(message.payload.toString(), 'hello');
    });

    test('a + wildcard subscription receives matching channels only', async () => {
      await bob.mqtt.subscribeAsync(`${key}/chat/+/typing/`);
      await alice.mqtt.publishAsync(`${key}/chat/room9/typing/`, 'yes');
      const message = await bob.next((m) => m.topic === 'chat/room9/typing/');
      assert.equal(message.payload.toString(), 'yes');
    });

    test('the publisher receives its own message unless me=0', async () => {
      await alice.mqtt.subscribeAsync(`${key}/chat/echo/`);
      await alice.mqtt.publishAsync(`${key}/chat/echo/?me=0`, 'silent');
      await alice.mqtt.publishAsync(`${key}/chat/echo/?me=1`, 'loud');
      const message = await alice.next((m) => m.topic === 'chat/echo/');
      assert.equal(message.payload.toString(), 'loud', 'the me=0 message must not come back');
      await alice.mqtt.unsubscribeAsync(`${key}/chat/echo/`);
    });

    test('binary payloads arrive intact and QoS 1 publishes are acknowledged', async () => {
      const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await bob.mqtt.subscribeAsync(`${key}/chat/binary/`);
      const packet = await alice.mqtt.publishAsync(`${key}/chat/binary/`, payload, { qos: 1 });
      assert.ok(packet, 'QoS 1 publish resolves once the PUBACK arrives');
      const message = await bob.next((m) => m.topic === 'chat/binary/');
      assert.deepEqual(message.payload, payload);
    });

    test('after unsubscribe no more messages arrive', async () => {
      await bob.mqtt.subscribeAsync(`${key}/chat/leave/`);
      await bob.mqtt.unsubscribeAsync(`${key}/chat/leave/`);
      await bob.mqtt.unsubscribeAsync(`${key}/chat/`);
      await bob.mqtt.unsubscribeAsync(`${key}/chat/+/typing/`);
      await alice.mqtt.publishAsync(`${key}/chat/leave/`, 'gone');
      // A marker on a channel bob still follows proves the earlier message had its chance to arrive.
      await bob.mqtt.subscribeAsync(`${key}/chat/marker/`);
      await alice.mqtt.publishAsync(`${key}/chat/marker/`, 'marker');
      await bob.next((m) => m.topic === 'chat/marker/');
      assert.equal(bob.received.filter((m) => m.topic === 'chat/leave/').length, 0);
    });

    test('emitter/me/ returns the connection id', async () => {
      await alice.mqtt.publishAsync('emitter/me/', '');
      const reply = await alice.nextJson('emitter/me/');
      assert.equal(reply.status, 200);
      assert.match(String(reply.id), /^[A-Z2-7]{26}$/);
    });

    test('QoS 1 requests carry req, the PUBLISH packet id', async () => {
      await alice.mqtt.publishAsync('emitter/me/', '', { qos: 1 });
      const reply = await alice.nextJson('emitter/me/');
      assert.equal(typeof reply.req, 'number');
      assert.ok((reply.req as number) > 0);
    });
  });
}

describe('matcher: mqtt', () => {
  test('uses MQTT-style exact-length matching', async () => {
    const server = await startTestBroker({ matcher: 'mqtt' });
    const client = await connectClient(server.port);
    try {
      const key = await keygen(client, server.secret, 'm/#/', 'rw');
      await client.mqtt.subscribeAsync(`${key}/m/a/`);
      await client.mqtt.publishAsync(`${key}/m/a/deeper/`, 'no');
      await client.mqtt.publishAsync(`${key}/m/a/`, 'yes');
      const message = await client.next();
      assert.equal(message.topic, 'm/a/');
      assert.equal(message.payload.toString(), 'yes');
    } finally {
      await client.end();
      await server.close();
    }
  });
});
