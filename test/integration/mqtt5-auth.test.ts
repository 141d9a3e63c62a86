/**
 * MQTT 5 enhanced authentication, which the broker does not support: a CONNECT naming an Authentication
 * Method gets CONNACK 0x8C and the close [MQTT-4.12.0-1]; Authentication Data alone is a protocol error
 * (CONNACK 0x82); an AUTH packet from a client is a protocol error [MQTT-4.12.0-7] (DISCONNECT 0x82), an
 * AUTH before CONNECT or from a 3.1.1 client a close. Raw packets, MQTT.js 5 and mosquitto_sub -V 5; the
 * broker keeps serving everyone else.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import mqttPacket, { type IConnackPacket, type IDisconnectPacket, type IPublishPacket } from 'mqtt-packet';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { RawMqtt5Client } from '../helpers/raw-mqtt5.js';
import { connectRaw } from '../helpers/raw-socket.js';

let counter = 0;
const uniqueId = (name: string): string => `${name}-${process.pid}-${++counter}`;

/** `promise`, or a rejection saying what did not happen within `ms`: every network wait is bounded. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('MQTT 5 enhanced authentication (not supported)', () => {
  let server: TestBroker;
  let helper: TestClient;
  let key: string;
  before(async () => {
    server = await startTestBroker();
    helper = await connectClient(server.port);
    key = await keygen(helper, server.secret, 'auth/#/', 'rw');
  });
  after(async () => {
    await helper.end();
    await server.close();
  });

  // Everyone else is still served: a round trip through the broker after each refusal.
  async function stillServing(): Promise<void> {
    const topic = `${key}/auth/alive/`;
    await helper.mqtt.subscribeAsync(topic);
    const payload = `alive-${++counter}`;
    await helper.mqtt.publishAsync(topic, payload);
    await helper.next((m) => m.payload.toString() === payload);
  }

  test('CONNECT with an Authentication Method: CONNACK 0x8C with a reason string, then the close; its will is not published', async () => {
    const watcher = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('watch') });
    watcher.client.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: `${key}/auth/will/`, qos: 0 }],
    });
    await watcher.client.expect('suback');
    const socket = net.connect(server.port, '127.0.0.1');
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const packets: mqttPacket.Packet[] = [];
    parser.on('packet', (packet: mqttPacket.Packet) => packets.push(packet));
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.write(
      mqttPacket.generate(
        {
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 5,
          clientId: uniqueId('scram'),
          clean: true,
          keepalive: 0,
          properties: {
            authenticationMethod: 'SCRAM-SHA-1',
            authenticationData: Buffer.from('n,,n=user,r=abc'),
          },
          will: { topic: `${key}/auth/will/`, payload: Buffer.from('will'), qos: 0, retain: false },
        },
        { protocolVersion: 5 },
      ),
    );
    await within(once(socket, 'close'), 5000, 'the close');
    assert.equal(packets.length, 1, 'a CONNACK, nothing else');
    const connack = packets[0] as IConnackPacket;
    assert.equal(connack.cmd, 'connack');
    assert.equal(connack.reasonCode, 0x8c);
    assert.match(connack.properties?.reasonString ?? '', /SCRAM-SHA-1.*not supported/);
    assert.equal(connack.properties?.authenticationMethod, undefined);
    await stillServing();
    assert.equal(watcher.client.packets.filter((p) => p.cmd === 'publish').length, 0, 'no will');
    watcher.client.close();
  });

  test('CONNECT with Authentication Data and no method: CONNACK 0x82 (protocol error)', async () => {
    // mqtt-packet will not write data without a method: the property goes in by hand.
    const frame = mqttPacket.generate(
      {
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 5,
        clientId: uniqueId('data'),
        clean: true,
        keepalive: 0,
        properties: { authenticationMethod: 'x', authenticationData: Buffer.from([7]) },
      },
      { protocolVersion: 5 },
    );
    // Drop the method property (0x15, length 1, 'x': 4 bytes) and fix the two lengths.
    const at = frame.indexOf(Buffer.from([0x15, 0x00, 0x01, 0x78]));
    assert.ok(at > 0);
    const stripped = Buffer.concat([frame.subarray(0, at), frame.subarray(at + 4)]);
    stripped[1] -= 4; // remaining length (one byte here)
    stripped[at - 1] -= 4; // property length, right before the first property
    const socket = net.connect(server.port, '127.0.0.1');
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const packets: mqttPacket.Packet[] = [];
    parser.on('packet', (packet: mqttPacket.Packet) => packets.push(packet));
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.write(stripped);
    await within(once(socket, 'close'), 5000, 'the close');
    assert.equal((packets[0] as IConnackPacket | undefined)?.reasonCode, 0x82);
    await stillServing();
  });

  test('an AUTH packet from a connected v5 client: DISCONNECT 0x82, then the close', async () => {
    const { client, connack } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('reauth') });
    assert.equal(connack.reasonCode, 0);
    assert.equal(connack.properties?.authenticationMethod, undefined, 'no method offered [MQTT-4.12.0-6]');
    client.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-SHA-1' } });
    const disconnect = (await client.expect('disconnect')) as IDisconnectPacket;
    assert.equal(disconnect.reasonCode, 0x82);
    assert.match(disconnect.properties?.reasonString ?? '', /AUTH/);
    await client.closedByBroker();
    await stillServing();
  });

  test('an AUTH before CONNECT, or from a 3.1.1 client: the connection closes, nothing else happens', async () => {
    const early = net.connect(server.port, '127.0.0.1');
    const got: Buffer[] = [];
    early.on('data', (chunk: Buffer) => got.push(chunk));
    early.write(mqttPacket.generate({ cmd: 'auth', reasonCode: 0x18 }, { protocolVersion: 5 }));
    await within(once(early, 'close'), 5000, 'the close');
    assert.equal(Buffer.concat(got).length, 0, 'no CONNACK, no DISCONNECT before a CONNECT');

    const v4 = await connectRaw(server.port, uniqueId('v4auth'));
    v4.socket.write(Buffer.from([0xf0, 0x00]));
    await within(once(v4.socket, 'close'), 5000, 'the close');
    await stillServing();
  });

  test('MQTT.js 5 with an authenticationMethod gets the connection refused with code 140', async () => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${server.port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      properties: { authenticationMethod: 'GS2-KRB5' },
    });
    const error = await within(
      new Promise<Error & { code?: number }>((resolve) => client.once('error', resolve)),
      5000,
      'the refusal',
    );
    assert.equal(error.code, 140);
    client.end(true);
  });

  test('mosquitto_sub -V 5 -D connect authentication-method: refused, and a plain v5 subscriber still works', async () => {
    const sub = spawn('mosquitto_sub', [
      ...['-V', '5', '-h', '127.0.0.1', '-p', String(server.port), '-t', `${key}/auth/m/`, '-W', '5'],
      ...['-D', 'connect', 'authentication-method', 'SCRAM-SHA-256'],
    ]);
    let output = '';
    sub.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    sub.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await within(once(sub, 'exit'), 10000, 'mosquitto_sub exit')) as [number];
    assert.notEqual(code, 0);
    assert.match(output, /authentication method|0x8c|140/i);

    const { client } = await RawMqtt5Client.connect(server.port, { clientId: uniqueId('after') });
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${key}/auth/m/`, qos: 0 }] });
    await client.expect('suback');
    await helper.mqtt.publishAsync(`${key}/auth/m/`, 'fine');
    assert.equal(((await client.expect('publish')) as IPublishPacket).payload.toString(), 'fine');
    client.close();
  });
});
