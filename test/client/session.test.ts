import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type {
  IConnectPacket,
  IPublishPacket,
  ISubscribePacket,
  IUnsubscribePacket,
  Packet,
} from 'mqtt-packet';
import { connectAsync } from '../../src/client/index.js';
import { createServer, type MqttConnection } from '../../src/mqtt/index.js';
import { startTestBroker } from '../helpers/broker.js';
import { nextEvent, nextMessage } from '../helpers/client-events.js';

test('after a broker restart (no session kept) the client subscribes again and receives', async () => {
  const first = await startTestBroker();
  const port = first.port;
  const client = await connectAsync({ host: '127.0.0.1', port, transport: 'tcp', reconnectPeriod: 100 });
  const { key } = await client.promises.keygen({ key: first.secret, channel: 'again/', type: 'rw' });
  await client.promises.subscribe({ key, channel: 'again/' });
  const offline = nextEvent(client, 'offline');
  await first.close();
  await offline;
  const second = await startTestBroker({ license: first.license, listen: { host: '127.0.0.1', port } });
  try {
    // The client reconnects and sends its SUBSCRIBE again: the new broker tells us when it is in place.
    await new Promise<void>((resolve) =>
      second.broker.pubsub.addListener({ subscribed: () => resolve(), unsubscribed: () => {} }),
    );
    const received = nextMessage(client, 'again/');
    await client.promises.publish({ key, channel: 'again/', message: 'after restart' });
    assert.equal((await received).asString(), 'after restart');
  } finally {
    await client.promises.disconnect();
    await second.close();
  }
});

test('clean: false on the real broker: the session is resumed (sessionPresent), nothing is subscribed again, and QoS 1 messages sent while away arrive', async () => {
  const server = await startTestBroker();
  const client = await connectAsync({
    host: '127.0.0.1',
    port: server.port,
    transport: 'tcp',
    clientId: 'sdk-resume',
    clean: false,
    reconnectPeriod: 100,
  });
  const publisher = await connectAsync({ host: '127.0.0.1', port: server.port, transport: 'tcp' });
  try {
    const { key } = await publisher.promises.keygen({ key: server.secret, channel: 'resume/', type: 'rw' });
    assert.deepEqual(await client.promises.subscribe({ key, channel: 'resume/', qos: 1 }), { qos: 1 });
    const subscribes: Packet[] = [];
    client.mqtt.on('packetsend', (packet: Packet) => {
      if (packet.cmd === 'subscribe') subscribes.push(packet);
    });
    let sessionPresent: boolean | undefined;
    client.mqtt.on('connect', (connack) => (sessionPresent = connack.sessionPresent));

    // The connection drops; the broker keeps the session while the client is away.
    const offline = nextEvent(client, 'offline');
    client.mqtt.stream.destroy();
    await offline;
    for (let i = 0; i < 100 && server.broker.registry.offlineCount === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(
      server.broker.registry.offlineCount,
      1,
      'the broker holds the session while the client is away',
    );
    for (let i = 0; i < 3; i++)
      await publisher.promises.publish({ key, channel: 'resume/', message: `while away ${i}`, qos: 1 });

    const messages: string[] = [];
    const all = new Promise<void>((resolve) =>
      client.on('message', (message) => {
        if (message.channel === 'resume/' && messages.push(message.asString()) === 3) resolve();
      }),
    );
    await nextEvent(client, 'connect', () => true, 10000);
    await all;
    assert.equal(sessionPresent, true, 'CONNACK says the session was kept');
    assert.deepEqual(messages, ['while away 0', 'while away 1', 'while away 2']);
    assert.deepEqual(subscribes, [], 'nothing subscribed again');
  } finally {
    await client.promises.disconnect();
    await publisher.promises.disconnect();
    await server.close();
  }
});

// A few lines of fake broker on the MQTT layer choose sessionPresent at will and show exactly what the
// client sends, for both answers.
test('clean: false and the client id reach the broker; sessionPresent=1 means no SUBSCRIBE again, 0 means SUBSCRIBE without replay options', async () => {
  const received: Packet[] = [];
  let wake = (): void => {};
  let sessionPresent = false;
  const connections: MqttConnection[] = [];
  const server = createServer((connection) => {
    connections.push(connection);
    const note = (packet: Packet): void => {
      received.push(packet);
      wake();
    };
    connection.on('connect', (packet) => {
      note(packet);
      connection.connack({ returnCode: 0, sessionPresent });
    });
    connection.on('subscribe', (packet) => {
      note(packet);
      connection.suback({ messageId: packet.messageId, granted: packet.subscriptions.map((s) => s.qos) });
    });
    connection.on('publish', (packet) => {
      note(packet);
      if (packet.qos === 1 && packet.messageId) connection.puback({ messageId: packet.messageId });
    });
    connection.on('unsubscribe', (packet) => {
      note(packet);
      connection.unsuback({ messageId: packet.messageId });
    });
    connection.on('pingreq', () => connection.pingresp());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const next = <T extends Packet>(): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no packet after ${received.length}`)), 5000);
      wake = () => {
        const packet = received.shift();
        if (!packet) return;
        wake = () => {};
        clearTimeout(timer);
        resolve(packet as T);
      };
      wake();
    });

  const client = await connectAsync({
    host: '127.0.0.1',
    port,
    transport: 'tcp',
    clientId: 'device-1',
    clean: false,
    reconnectPeriod: 20,
  });
  try {
    const connect = await next<IConnectPacket>();
    assert.deepEqual([connect.cmd, connect.clean, connect.clientId], ['connect', false, 'device-1']);
    const granted = await client.promises.subscribe({ key: 'KEY', channel: 'room/#/', last: 5, qos: 1 });
    assert.deepEqual(granted, { qos: 1 });
    const subscribe = await next<ISubscribePacket>();
    assert.deepEqual(subscribe.subscriptions, [{ topic: 'KEY/room/#/?last=5', qos: 1 }]);

    // The broker kept the session: nothing is subscribed again, the next packet is the test's marker.
    const reconnect = async (present: boolean): Promise<void> => {
      sessionPresent = present;
      const connected = nextEvent(client, 'connect');
      connections.at(-1)?.destroy();
      await connected;
      client.publish({ key: 'KEY', channel: 'marker/', message: present ? 'kept' : 'lost' });
      const again = await next<IConnectPacket>();
      assert.deepEqual([again.cmd, again.clean, again.clientId], ['connect', false, 'device-1']);
    };
    await reconnect(true);
    const marker = await next<IPublishPacket>();
    assert.deepEqual(
      [marker.cmd, marker.topic, String(marker.payload)],
      ['publish', 'KEY/marker/?me=1', 'kept'],
    );

    // The broker lost it: the client subscribes again, with the QoS it asked for and without `last`
    // (what was replayed once is not replayed twice), before anything sent after the reconnect.
    await reconnect(false);
    const resubscribe = await next<ISubscribePacket>();
    assert.deepEqual(
      [resubscribe.cmd, resubscribe.subscriptions],
      ['subscribe', [{ topic: 'KEY/room/#/', qos: 1 }]],
    );
    const second = await next<IPublishPacket>();
    assert.deepEqual([second.topic, String(second.payload)], ['KEY/marker/?me=1', 'lost']);

    // An unsubscribed filter stays unsubscribed across reconnects.
    await client.promises.unsubscribe({ key: 'KEY', channel: 'room/#/' });
    const unsubscribe = await next<IUnsubscribePacket>();
    assert.deepEqual(unsubscribe.unsubscriptions, ['KEY/room/#/']);
    await reconnect(false);
    const third = await next<IPublishPacket>();
    assert.deepEqual([third.cmd, String(third.payload)], ['publish', 'lost']);
  } finally {
    await client.promises.disconnect();
    await new Promise((resolve) => server.close(resolve));
  }
});
