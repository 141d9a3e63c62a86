import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import type {
  IConnackPacket,
  IConnectPacket,
  IDisconnectPacket,
  IPubackPacket,
  IPublishPacket,
} from 'mqtt-packet';
import { createServer, type MqttConnection } from '../../src/mqtt/index.js';
import { RawMqtt5Client } from '../helpers/raw-mqtt5.js';

// The mqtt.js-style server API with MQTT 5: packets reach the application with their properties, and
// what it sends back carries its own (CONNACK, PUBLISH, acknowledgements with reason codes, DISCONNECT).

test('createServer passes MQTT 5 packets and properties both ways', async () => {
  let connect: IConnectPacket | undefined;
  const connections: MqttConnection[] = [];
  const server = createServer((client) => {
    connections.push(client);
    client.on('connect', (packet) => {
      connect = packet;
      client.connack({
        reasonCode: 0,
        sessionPresent: false,
        properties: { topicAliasMaximum: 3, userProperties: { server: 'yes' } },
      });
    });
    client.on('subscribe', (packet) =>
      client.suback({ messageId: packet.messageId, granted: packet.subscriptions.map((s) => s.qos) }),
    );
    client.on('publish', (packet) => {
      // Echo with the properties as received, then acknowledge with "no matching subscribers".
      client.publish({ ...packet, qos: 0, messageId: undefined, properties: { ...packet.properties } });
      if (packet.messageId) {
        client.puback({
          messageId: packet.messageId,
          reasonCode: 0x10,
          properties: { userProperties: { acked: 'by app' } },
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 30, userProperties: { client: 'v5' } },
  });
  try {
    const connack = await new Promise<IConnackPacket>((resolve) => client.once('connect', resolve));
    assert.equal(connect?.protocolVersion, 5);
    assert.equal(connect?.properties?.sessionExpiryInterval, 30);
    assert.deepEqual({ ...connect?.properties?.userProperties }, { client: 'v5' });
    assert.equal(connack.properties?.topicAliasMaximum, 3);
    assert.deepEqual({ ...connack.properties?.userProperties }, { server: 'yes' });

    await client.subscribeAsync('echo', { qos: 0 });
    const echoed = new Promise<IPublishPacket>((resolve) =>
      client.once('message', (_topic, _payload, packet) => resolve(packet as IPublishPacket)),
    );
    const acked = new Promise<IPubackPacket>((resolve) =>
      client.on('packetreceive', (received) => {
        if (received.cmd === 'puback') resolve(received);
      }),
    );
    await client.publishAsync('echo', 'hi', {
      qos: 1,
      properties: { contentType: 'text/plain', userProperties: { n: ['1', '2'] } },
    });
    const packet = await echoed;
    assert.equal(packet.properties?.contentType, 'text/plain');
    assert.deepEqual({ ...packet.properties?.userProperties }, { n: ['1', '2'] });
    const ack = await acked;
    assert.equal(ack.reasonCode, 0x10);
    assert.deepEqual({ ...ack.properties?.userProperties }, { acked: 'by app' });

    const disconnected = new Promise<IDisconnectPacket>((resolve) => client.once('disconnect', resolve));
    connections[0].disconnect(0x89, 'busy');
    const disconnect = await disconnected;
    assert.equal(disconnect.reasonCode, 0x89);
    assert.equal(disconnect.properties?.reasonString, 'busy');
  } finally {
    client.end(true);
    await new Promise((resolve) => server.close(resolve));
  }
});

test('createServer hands an MQTT 5 AUTH packet to the application as an auth event', async () => {
  const server = createServer((client) => {
    client.on('connect', () => client.connack({ reasonCode: 0, sessionPresent: false }));
    client.on('auth', (packet) => {
      // The application decides: here it refuses enhanced authentication (0x8C is a CONNACK code only:
      // DISCONNECT has no Bad Authentication Method, so a protocol error).
      client.disconnect(0x82, `no ${String(packet.properties?.authenticationMethod)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const { client } = await RawMqtt5Client.connect(port, { clientId: 'auth-app' });
  try {
    client.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-SHA-1' } });
    const disconnect = (await client.expect('disconnect')) as IDisconnectPacket;
    assert.equal(disconnect.reasonCode, 0x82);
    assert.equal(disconnect.properties?.reasonString, 'no SCRAM-SHA-1');
    await client.closedByBroker();
  } finally {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
