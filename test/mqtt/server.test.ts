import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once, type EventEmitter } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import WebSocket from 'ws';
import {
  createSecureServer,
  createServer,
  encodePublish,
  listenSharedPort,
  MqttErrorCode,
  type MqttConnection,
  type MqttProtocolError,
  type SharedPortServer,
} from '../../src/mqtt/index.js';

/** A tiny echo broker on the mqtt.js-style API: every PUBLISH goes back to its sender. */
function echo(client: MqttConnection): void {
  client.on('connect', () => client.connack({ returnCode: 0, sessionPresent: false }));
  client.on('subscribe', (packet) => client.suback({ messageId: packet.messageId, granted: [0] }));
  client.on('publish', (packet) => {
    if (packet.qos === 1 && packet.messageId) client.puback({ messageId: packet.messageId });
    client.writeEncoded(encodePublish({ topic: packet.topic, payload: Buffer.from(packet.payload) }));
  });
  client.on('pingreq', () => client.pingresp());
}

async function roundTrip(url: string, options: mqtt.IClientOptions = {}): Promise<string> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  try {
    await client.subscribeAsync('t');
    const received = once(client as unknown as EventEmitter, 'message') as Promise<[string, Buffer]>;
    await client.publishAsync('t', 'ping', { qos: 1 });
    const [topic, payload] = await received;
    return `${topic}:${payload.toString()}`;
  } finally {
    await client.endAsync();
  }
}

describe('createServer and createSecureServer (the mqtt.js server API)', () => {
  test('a client event per connection, packet events, reply methods', async () => {
    const addresses: string[] = [];
    const server = createServer((client) => {
      addresses.push(client.remoteAddress);
      echo(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    assert.equal(await roundTrip(`mqtt://127.0.0.1:${port}`), 't:ping');
    assert.deepEqual(addresses, ['127.0.0.1']);
    await new Promise((resolve) => server.close(resolve));
  });

  test('TLS with a certificate made by openssl', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emitter-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const server = createSecureServer(join(dir, 'key.pem'), join(dir, 'cert.pem'), echo);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const ca = readFileSync(join(dir, 'cert.pem'));
    assert.equal(await roundTrip(`mqtts://127.0.0.1:${port}`, { ca, servername: 'localhost' }), 't:ping');
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('the shared port', () => {
  let shared: SharedPortServer;
  let port: number;
  const errors: MqttProtocolError[] = [];

  before(async () => {
    shared = await listenSharedPort({
      host: '127.0.0.1',
      port: 0,
      connection: { maxPacketSize: 1024, connectTimeout: 500 },
      sniffTimeout: 400,
      onConnection: (client) => {
        client.on('error', (error) => errors.push(error));
        echo(client);
      },
      onRequest: (_request, response) => response.end('hello over http'),
    });
    port = shared.address().port;
  });
  after(() => shared.close());

  test('serves MQTT over TCP, MQTT over WebSocket (any path) and HTTP on one port', async () => {
    assert.equal(await roundTrip(`mqtt://127.0.0.1:${port}`), 't:ping');
    assert.equal(await roundTrip(`ws://127.0.0.1:${port}/mqtt`), 't:ping');
    assert.equal(
      await roundTrip(`ws://127.0.0.1:${port}/`, { protocolVersion: 3, protocolId: 'MQIsdp' }),
      't:ping',
    );
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/anything`)).text(), 'hello over http');
  });

  for (const [offered, echoed] of [
    [['mqttv3.1'], 'mqttv3.1'],
    [['mqtt'], 'mqtt'],
    [['other', 'mqtt'], 'mqtt'],
    [[], ''],
  ] as const) {
    test(`WebSocket offering [${offered.join(', ')}] gets "${echoed}" echoed`, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, [...offered]);
      await once(ws, 'open');
      assert.equal(ws.protocol, echoed);
      ws.close();
    });
  }

  test('MQTT packets split across WebSocket frames, and several in one frame', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['mqtt']);
    await once(ws, 'open');
    const connect = mqttPacket.generate({
      cmd: 'connect',
      clientId: 'frames',
      protocolVersion: 4,
      keepalive: 0,
      clean: true,
      protocolId: 'MQTT',
    });
    const publish = mqttPacket.generate({
      cmd: 'publish',
      topic: 't',
      payload: Buffer.from('x'),
      qos: 0,
      retain: false,
      dup: false,
    });
    const received: Buffer[] = [];
    ws.on('message', (data: Buffer) => received.push(data));
    ws.send(connect.subarray(0, 5));
    ws.send(Buffer.concat([connect.subarray(5), publish, publish]));
    // One packet per WebSocket message, as Emitter sends them; each wait is bounded.
    while (received.length < 3) await once(ws, 'message', { signal: AbortSignal.timeout(5000) });
    assert.equal(received[0][0], 0x20, 'CONNACK first');
    assert.deepEqual(
      received.slice(1, 3).map((b) => b[0]),
      [0x30, 0x30],
      'both PUBLISH packets echoed',
    );
    ws.close();
  });

  async function closedWith(bytes: Buffer | undefined, code: string): Promise<void> {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    if (bytes) socket.write(bytes);
    socket.resume();
    await once(socket, 'close');
    assert.ok(
      errors.some((error) => error.code === code),
      `expected ${code}, got ${errors.map((e) => e.code)}`,
    );
  }

  test('protocol violations close that connection only, with a stable code', async () => {
    const survivor = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    await closedWith(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), MqttErrorCode.PacketTooLarge);
    await closedWith(Buffer.from([0x30, 0x03, 0x00, 0x01, 0x61]), MqttErrorCode.FirstPacket);
    await closedWith(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]), MqttErrorCode.Malformed);
    await closedWith(Buffer.from([0x10, 0x04, 0x00, 0x00, 0x00, 0x00]), MqttErrorCode.Malformed);
    await closedWith(Buffer.from([0x01]), MqttErrorCode.ConnectTimeout);
    await survivor.subscribeAsync('t');
    const received = once(survivor as unknown as EventEmitter, 'message');
    await survivor.publishAsync('t', 'still here');
    assert.equal(((await received) as [string, Buffer])[1].toString(), 'still here');
    await survivor.endAsync();
  });

  test('a socket that never sends a byte is closed after the sniff timeout, not before', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    const started = Date.now();
    socket.resume();
    await once(socket, 'close', { signal: AbortSignal.timeout(5000) });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 390, `closed after ${elapsed} ms, before the 400 ms sniff timeout`);
  });

  test('keep-alive: silence for 1.5 x keepalive closes the connection', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        clientId: 'quiet',
        protocolVersion: 4,
        keepalive: 1,
        clean: true,
        protocolId: 'MQTT',
      }),
    );
    socket.resume();
    const started = Date.now();
    await once(socket, 'close');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1400, `closed after ${elapsed} ms, not before 1.5 s`);
    assert.ok(errors.some((error) => error.code === MqttErrorCode.KeepaliveTimeout));
  });
});

test('encodePublish matches mqtt-packet on random QoS 0 packets', () => {
  for (let i = 0; i < 300; i++) {
    const topic = 'a/'.repeat(1 + (i % 40)) + String.fromCharCode(0x61 + (i % 26));
    const payload = Buffer.alloc((i * 997) % 70000, i % 256);
    const retain = i % 7 === 0;
    const ours = encodePublish({ topic, payload, retain });
    const oracle = mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain, dup: false });
    assert.deepEqual(ours, oracle, `packet ${i}`);
  }
});
