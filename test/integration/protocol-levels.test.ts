import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { connectClient, keygen } from '../helpers/clients.js';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.js';

// MQTT 5 is not served yet; until it is, a v5 CONNECT must be refused in v5's own terms, never crash
// the broker (it once took the whole process down: a v3 return code cannot be encoded for v5).

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

describe('protocol levels the broker does not serve', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBrokerProcess();
  });
  after(async () => {
    assert.equal(await broker.stop(), 0, 'the broker exits cleanly');
  });

  test('MQTT.js with protocolVersion 5 gets CONNACK 0x84 and the broker keeps serving', async () => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    const error = await new Promise<Error & { code?: number }>((resolve) => client.once('error', resolve));
    client.end(true);
    assert.equal(error.code, 0x84, `refused as unsupported protocol version: ${error.message}`);
    assert.ok(broker.alive(), `broker still running: ${broker.output()}`);
    await assertServes(broker);
  });

  test('mosquitto_sub -V 5 is refused, and a SUBSCRIBE sent right behind the CONNECT is not served', async () => {
    const sub = spawn(
      'mosquitto_sub',
      ['-h', '127.0.0.1', '-p', String(broker.port), '-V', '5', '-t', 'x/', '-C', '1', '-W', '5'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    sub.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(sub, 'exit')) as [number | null];
    assert.notEqual(code, 0);
    assert.match(stderr, /protocol version/i, 'mosquitto says why');

    // Raw: CONNECT v5 and a SUBSCRIBE in one write; only the refusal comes back, then the close.
    const socket = netConnect(broker.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.write(
      Buffer.concat([
        mqttPacket.generate(
          {
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: 5,
            clientId: 'v5',
            clean: true,
            keepalive: 30,
          },
          { protocolVersion: 5 },
        ),
        mqttPacket.generate(
          { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x/', qos: 0 }] },
          { protocolVersion: 5 },
        ),
      ]),
    );
    const closed = once(socket, 'close');
    const timer = setTimeout(() => socket.destroy(new Error('the broker did not close the socket')), 5000);
    await closed;
    clearTimeout(timer);
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const packets: mqttPacket.Packet[] = [];
    parser.on('packet', (packet: mqttPacket.Packet) => packets.push(packet));
    parser.parse(Buffer.concat(chunks));
    assert.deepEqual(
      packets.map((p) => p.cmd),
      ['connack'],
    );
    assert.equal((packets[0] as mqttPacket.IConnackPacket).reasonCode, 0x84);
    assert.ok(broker.alive());
    await assertServes(broker);
  });

  test('MQTT 3.1 (level 3) and 3.1.1 (level 4) clients are served', async () => {
    for (const protocolVersion of [3, 4] as const) {
      const client = await connectClient(broker.port, {
        protocolVersion,
        protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
      });
      const key = await keygen(client, broker.secret, 'levels/', 'rw');
      await client.mqtt.subscribeAsync(`${key}/levels/`);
      await client.mqtt.publishAsync(`${key}/levels/`, `v${protocolVersion}`);
      const message = await client.next((m) => m.topic === 'levels/', 5000);
      assert.equal(message.payload.toString(), `v${protocolVersion}`);
      await client.end();
    }
  });
});
