import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import fc from 'fast-check';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { connectClient, keygen } from '../helpers/clients.js';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.js';
import { scrapeMetrics } from '../helpers/metrics.js';

// Fuzzing at the broker level: random but well-formed packet sequences, of every packet type and
// every protocol level, in any order, sent to a running broker process. Whatever they do, the broker
// keeps serving a healthy client and never fails on a packet (a failure would be contained to its
// connection and counted, but it is still a bug). Bounded for CI; `npm run fuzz` goes longer.
const runs = Math.min(Number(process.env.FUZZ_RUNS ?? 150), 5000);
const CHECK_EVERY = 25;

describe('broker-level fuzzing with well-formed packet sequences', () => {
  let broker: BrokerProcess;
  let key = '';
  let secret = '';
  before(async () => {
    broker = await startBrokerProcess({ EMITTER_LIMIT_CONNECTRATE: '0' });
    secret = broker.secret;
    const client = await connectClient(broker.port);
    key = await keygen(client, secret, 'fuzz/#/', 'rwslpe');
    await client.end();
  });
  after(async () => {
    assert.equal(await broker.stop(), 0, `clean exit after fuzzing: ${broker.output().slice(-2000)}`);
  });

  test('no packet sequence crashes the broker or fails its handling', async () => {
    const topic = fc.oneof(
      fc.constantFrom(
        () => `${key}/fuzz/`,
        () => `${key}/fuzz/a/?ttl=30`,
        () => `${key}/fuzz/?last=3&me=0`,
        () => `${key}/fuzz/+/`,
        () => `${key}/fuzz/#/`,
        () => `${key}/$share/g/fuzz/`,
        () => 'emitter/keygen/',
        () => 'emitter/presence/',
        () => 'emitter/link/',
        () => 'emitter/me/',
        () => 'emitter/history/',
        () => 'emitter/keyban/',
        () => 'emitter/unknown/',
        () => 'a1',
        () => '#',
        () => '+/x',
        () => `${key.slice(0, 10)}/fuzz/`,
        () => '',
      ),
      fc.string({ maxLength: 40 }).map((text) => () => text),
    );
    const jsonField = fc.oneof(
      fc.constantFrom<unknown>(null, true, false, 0, -1, 1e12, 'rw', 'fuzz/', 'a1'),
      fc.constant('KEY'),
      fc.constant('SECRET'),
      fc.string({ maxLength: 12 }),
    );
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((bytes) => () => Buffer.from(bytes)),
      fc
        .dictionary(
          fc.constantFrom(
            'key',
            'channel',
            'type',
            'ttl',
            'status',
            'changes',
            'name',
            'subscribe',
            'private',
            'secret',
            'target',
            'banned',
            'startFromID',
          ),
          jsonField,
        )
        .map(
          (body) => () =>
            Buffer.from(
              JSON.stringify(body, (_name, value: unknown) =>
                value === 'KEY' ? key : value === 'SECRET' ? secret : value,
              ),
            ),
        ),
    );
    const qos = fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>;
    const messageId = fc.integer({ min: 1, max: 65535 });
    const level = fc.constantFrom(3, 4, 5);
    type PacketMaker = () => Packet;
    const packet: fc.Arbitrary<PacketMaker> = fc.oneof(
      fc
        .record({
          protocolVersion: level,
          clientId: fc.string({ maxLength: 23 }),
          clean: fc.boolean(),
          keepalive: fc.integer({ min: 0, max: 120 }),
          username: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
          will: fc.option(fc.record({ topic, payload, qos, retain: fc.boolean() }), { nil: undefined }),
        })
        .map((c) => (): Packet => ({
          cmd: 'connect',
          protocolId: c.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
          protocolVersion: c.protocolVersion,
          clientId: c.clientId,
          clean: c.clean,
          keepalive: c.keepalive,
          username: c.username,
          will: c.will && {
            topic: c.will.topic(),
            payload: c.will.payload(),
            qos: c.will.qos,
            retain: c.will.retain,
          },
        })),
      fc
        .record({ topic, payload, qos, retain: fc.boolean(), dup: fc.boolean(), messageId })
        .map((p) => (): Packet => ({
          cmd: 'publish',
          topic: p.topic(),
          payload: p.payload(),
          qos: p.qos,
          retain: p.retain,
          dup: p.dup,
          messageId: p.qos > 0 ? p.messageId : undefined,
        })),
      fc
        .record({ cmd: fc.constantFrom('puback', 'pubrec', 'pubrel', 'pubcomp'), messageId })
        .map((p) => (): Packet => ({ cmd: p.cmd, messageId: p.messageId }) as Packet),
      fc
        .record({
          messageId,
          subscriptions: fc.array(fc.record({ topic, qos }), { minLength: 1, maxLength: 3 }),
        })
        .map((s) => (): Packet => ({
          cmd: 'subscribe',
          messageId: s.messageId,
          subscriptions: s.subscriptions.map(({ topic: t, qos: q }) => ({ topic: t(), qos: q })),
        })),
      fc
        .record({ messageId, topics: fc.array(topic, { minLength: 1, maxLength: 3 }) })
        .map((u) => (): Packet => ({
          cmd: 'unsubscribe',
          messageId: u.messageId,
          unsubscriptions: u.topics.map((t) => t()),
        })),
      fc.constantFrom('pingreq', 'disconnect', 'pingresp').map((cmd) => (): Packet => ({ cmd }) as Packet),
      fc.constant((): Packet => ({ cmd: 'connack', returnCode: 0, sessionPresent: false })),
      messageId.map((id) => (): Packet => ({ cmd: 'suback', messageId: id, granted: [0] })),
      messageId.map((id) => (): Packet => ({ cmd: 'unsuback', messageId: id, granted: [] })),
    );
    // Usually CONNECT first (otherwise the broker only closes the socket), then anything.
    const sequence = fc.record({
      encodeLevel: level,
      connectFirst: fc.boolean(),
      first: packet,
      rest: fc.array(fc.tuple(packet, level), { maxLength: 12 }),
    });

    let count = 0;
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(sequence, async (s) => {
        const frames: Buffer[] = [];
        const add = (make: PacketMaker, protocolVersion: number): void => {
          try {
            frames.push(mqttPacket.generate(make(), { protocolVersion }));
          } catch {
            // a combination mqtt-packet cannot encode (e.g. a v3 packet with v5-only fields): skip it
          }
        };
        if (s.connectFirst) {
          add(
            () =>
              ({ cmd: 'connect', protocolVersion: s.encodeLevel, clientId: 'fuzz', keepalive: 30 }) as Packet,
            s.encodeLevel,
          );
        }
        add(s.first, s.encodeLevel);
        for (const [make, protocolVersion] of s.rest) add(make, protocolVersion);
        if ((await sendAndClose(broker.port, frames)) > 0) answered++;
        assert.ok(broker.alive(), `the broker died: ${broker.output().slice(-2000)}`);
        if (++count % CHECK_EVERY === 0) await assertServes(broker, secret);
      }),
      { numRuns: runs, includeErrorInReport: true },
    );
    // Most sequences open with CONNECT, so most reach the session's handlers and get an answer.
    assert.ok(answered > runs / 3, `${answered} of ${runs} sequences were answered`);
    await assertServes(broker, secret);
    const metrics = await scrapeMetrics(broker.port);
    assert.equal(
      metrics.get('emitter_connection_failures_total'),
      0,
      `no packet's handling failed: ${broker.output().slice(-3000)}`,
    );
  });
});

/** Writes the frames in two chunks, half-closes, waits (bounded) for the close; returns the bytes answered. */
async function sendAndClose(port: number, frames: Buffer[]): Promise<number> {
  const socket = netConnect(port, '127.0.0.1');
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  // The broker may reset a connection it refuses: that is an answer, not a test failure.
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const timer = setTimeout(() => socket.destroy(), 5000);
  socket.once('connect', () => {
    const bytes = Buffer.concat(frames);
    const cut = Math.floor(bytes.length / 2);
    socket.write(bytes.subarray(0, cut));
    socket.end(bytes.subarray(cut));
  });
  await closed;
  clearTimeout(timer);
  return received;
}

/** A healthy client can still subscribe, publish and receive. */
async function assertServes(broker: BrokerProcess, secret: string): Promise<void> {
  const client = await connectClient(broker.port);
  try {
    const key = await keygen(client, secret, 'health/', 'rw');
    await client.mqtt.subscribeAsync(`${key}/health/`);
    await client.mqtt.publishAsync(`${key}/health/`, 'ok');
    assert.equal((await client.next((m) => m.topic === 'health/', 5000)).payload.toString(), 'ok');
  } finally {
    await client.end();
  }
}
