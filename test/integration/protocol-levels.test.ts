import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.js';

// Levels 3 (MQTT 3.1), 4 (3.1.1) and 5 share a port and the WebSocket path; any other level is refused in
// terms its client can read and closed, never a crash (a v5 CONNECT once took the whole process down).

/** The packet of the next `connect` or `disconnect` event of an MQTT.js client. */
function firstPacket<T = unknown>(client: MqttClient, event: 'connect' | 'disconnect'): Promise<T> {
  return new Promise((resolve) => client.once(event, (packet: unknown) => resolve(packet as T)));
}

/** A publish and its delivery through the broker still work: it serves healthy clients. */
async function assertServes(broker: BrokerProcess): Promise<void> {
  const client = await connectClient(broker.port);
  try {
    const key = await keygen(client, broker.secret, 'alive/', 'rw');
    await client.mqtt.subscribeAsync(`${key}/alive/`);
    await client.mqtt.publishAsync(`${key}/alive/`, 'still here');
    const message = await client.next((m) => m.topic === 'alive/', 5000);
    assert.equal(message.payload.toString(), 'still here');
  } finally {
    await client.end();
  }
}

/** Runs a command to its end (bounded) and resolves with its exit code and output. */
async function run(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Sends a CONNECT whose protocol level is `level` on a bare socket; resolves with all it got before the close. */
async function rawConnect(port: number, level: number): Promise<Buffer> {
  const connect = mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: `level${level}`,
    clean: true,
    keepalive: 30,
  });
  connect[8] = level; // fixed header (2), protocol name (6), then the level
  const socket = netConnect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(connect);
  const closed = once(socket, 'close');
  const timer = setTimeout(() => socket.destroy(new Error('the broker did not close the socket')), 5000);
  await closed;
  clearTimeout(timer);
  return Buffer.concat(chunks);
}

describe('protocol levels', () => {
  let broker: BrokerProcess;
  let key: string;
  let helper: TestClient;
  before(async () => {
    broker = await startBrokerProcess();
    helper = await connectClient(broker.port);
    key = await keygen(helper, broker.secret, 'levels/#/', 'rwslp');
  });
  after(async () => {
    await helper.end();
    assert.equal(await broker.stop(), 0, 'the broker exits cleanly');
  });

  test('MQTT 3.1, 3.1.1 and 5 clients share a channel, over TCP and WebSocket', async () => {
    const clients: TestClient[] = [];
    for (const transport of ['tcp', 'ws'] as const) {
      for (const protocolVersion of [3, 4, 5] as const) {
        clients.push(
          await connectClient(broker.port, {
            transport,
            protocolVersion,
            protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
          }),
        );
      }
    }
    for (const client of clients) await client.mqtt.subscribeAsync(`${key}/levels/mixed/`);
    await clients[5].mqtt.publishAsync(`${key}/levels/mixed/`, 'to every level', { qos: 1 });
    for (const client of clients) {
      const message = await client.next((m) => m.topic === 'levels/mixed/', 5000);
      assert.equal(message.payload.toString(), 'to every level');
    }
    for (const client of clients) await client.end();
  });

  test('mosquitto_pub and mosquitto_sub -V 5 publish and receive', async () => {
    const sub = spawn(
      'mosquitto_sub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(broker.port),
        '-V',
        '5',
        '-q',
        '1',
        '-t',
        `${key}/levels/mosq/`,
        '-C',
        '1',
        '-W',
        '10',
        '-v',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    sub.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // The subscription is in place once a retained-free probe round trip shows it: poll with publishes.
    const exited = once(sub, 'exit') as Promise<[number | null]>;
    let code: number | null = null;
    let done = false;
    void exited.then(([c]) => {
      code = c;
      done = true;
    });
    for (let i = 0; i < 50 && !done; i++) {
      const pub = await run('mosquitto_pub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(broker.port),
        '-V',
        '5',
        '-q',
        '1',
        '-t',
        `${key}/levels/mosq/`,
        '-m',
        'from mosquitto',
      ]);
      assert.equal(pub.code, 0, pub.stderr);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    await exited;
    assert.equal(code, 0);
    assert.equal(out.trim(), 'levels/mosq/ from mosquitto');
  });

  test('an unknown level below 5 gets CONNACK 0x01, above 5 the MQTT 5 CONNACK 0x84; then the close', async () => {
    const low = await rawConnect(broker.port, 2);
    assert.deepEqual([...low], [0x20, 0x02, 0x00, 0x01]);
    const high = await rawConnect(broker.port, 6);
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const packets: mqttPacket.Packet[] = [];
    parser.on('packet', (packet: mqttPacket.Packet) => packets.push(packet));
    parser.parse(high);
    assert.deepEqual(
      packets.map((p) => p.cmd),
      ['connack'],
    );
    assert.equal((packets[0] as mqttPacket.IConnackPacket).reasonCode, 0x84);
    assert.ok(broker.alive(), `broker still running: ${broker.output()}`);
    await assertServes(broker);
  });

  test('MQTT.js 5 and mosquitto_sub -V 5 are served by a broker process that stays up', async () => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    const connack = await firstPacket<mqttPacket.IConnackPacket>(client, 'connect');
    assert.equal(connack.reasonCode, 0);
    client.end(true);
    const sub = await run('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(broker.port),
      '-V',
      '5',
      '-t',
      `${key}/levels/none/`,
      '-W',
      '1',
    ]);
    assert.doesNotMatch(sub.stderr, /protocol version|refused/i);
    assert.ok(broker.alive());
    await assertServes(broker);
  });
});
