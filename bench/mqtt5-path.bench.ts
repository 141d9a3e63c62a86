// In-process A/B of the broker's publish path at protocol level 5 against 3.1.1, below the sockets: the
// same broker serves publishers and subscribers at both levels over in-memory streams (`broker.handle`),
// fed pre-encoded PUBLISH batches, and the CPU time of this one process per delivered message is taken for
// each level in alternating blocks. No kernel, no scheduler between generator and broker: on a busy machine
// the ratio holds where the socket harness's (`npm run bench -- --only 'MQTT 5'`) wanders.
// `node --import tsx bench/mqtt5-path.bench.ts [rounds] [ms per block]`.
import { Duplex } from 'node:stream';
import { createBroker } from '../src/index.js';
import { publishFrame, type ProtocolLevel } from './compare/raw-client.js';
import mqttPacket from 'mqtt-packet';

const rounds = Number(process.argv[2] ?? 10);
const blockMs = Number(process.argv[3] ?? 400);
const PAYLOAD = Buffer.alloc(64, 0x61);
const BATCH = 100;

/** A client end of an in-memory connection: what the broker writes is counted, never kept. */
class Pipe extends Duplex {
  bytes = 0;
  frames = 0;
  private waiting: ((chunk: Buffer) => void) | undefined;
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    this.frames++;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(chunk);
    done();
  }
  /** Sends `bytes` to the broker and resolves with its next write (bounded). */
  async ask(bytes: Buffer): Promise<Buffer> {
    const answer = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
      this.waiting = (chunk) => {
        clearTimeout(timer);
        resolve(chunk);
      };
    });
    this.push(bytes);
    return answer;
  }
}

const broker = await createBroker({
  channelKeys: false,
  config: { logging: { level: 'error' }, limit: { readRate: 1_000_000_000 } },
});

async function client(id: string, level: ProtocolLevel): Promise<Pipe> {
  const pipe = new Pipe();
  broker.handle(pipe, '127.0.0.1');
  const opts = { protocolVersion: level };
  await pipe.ask(
    mqttPacket.generate(
      { cmd: 'connect', clientId: id, protocolId: 'MQTT', protocolVersion: level, clean: true, keepalive: 0 },
      opts,
    ),
  );
  return pipe;
}

async function subscribe(pipe: Pipe, topic: string, level: ProtocolLevel): Promise<void> {
  await pipe.ask(
    mqttPacket.generate(
      { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] },
      { protocolVersion: level },
    ),
  );
}

interface Setup {
  readonly publishers: Pipe[];
  readonly subscribers: Pipe[];
  readonly batch: Buffer;
  readonly fanout: number;
  readonly frameLength: number;
}

async function setup(scenario: 'fan-in' | 'fan-out', level: ProtocolLevel): Promise<Setup> {
  const topic = `bench/${scenario}/${level}/`;
  const subscriberCount = scenario === 'fan-in' ? 1 : 200;
  const publisherCount = scenario === 'fan-in' ? 8 : 1;
  const subscribers: Pipe[] = [];
  for (let i = 0; i < subscriberCount; i++) {
    const pipe = await client(`${scenario}-${level}-sub${i}`, level);
    await subscribe(pipe, topic, level);
    subscribers.push(pipe);
  }
  const publishers: Pipe[] = [];
  for (let i = 0; i < publisherCount; i++)
    publishers.push(await client(`${scenario}-${level}-pub${i}`, level));
  const one = publishFrame(topic, PAYLOAD, 0, level);
  return {
    publishers,
    subscribers,
    batch: Buffer.concat(Array.from({ length: BATCH }, () => one)),
    fanout: subscriberCount,
    frameLength: one.length,
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// One block: every publisher sends a batch per event-loop turn (the broker reads it, delivers, and flushes
// what it gathered at the end of the turn) for `blockMs`; CPU µs per delivery.
async function block(s: Setup): Promise<number> {
  const frames0 = s.subscribers.reduce((sum, p) => sum + p.frames, 0);
  const bytes0 = s.subscribers.reduce((sum, p) => sum + p.bytes, 0);
  const cpu0 = process.cpuUsage();
  const end = Date.now() + blockMs;
  let sent = 0;
  while (Date.now() < end) {
    for (const publisher of s.publishers) publisher.push(s.batch);
    sent += BATCH * s.publishers.length;
    await turn();
  }
  await turn();
  const cpu = process.cpuUsage(cpu0);
  const bytes = s.subscribers.reduce((sum, p) => sum + p.bytes, 0) - bytes0;
  const writes = s.subscribers.reduce((sum, p) => sum + p.frames, 0) - frames0;
  // Every delivery is the frame as published (no properties, same topic): bytes say how many arrived.
  const delivered = bytes / s.frameLength;
  if (writes === 0 || Math.abs(delivered - sent * s.fanout) > s.fanout * BATCH * s.publishers.length)
    throw new Error(`delivered ${delivered} of ${sent * s.fanout}`);
  return (cpu.user + cpu.system) / delivered;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
};

console.log(`${rounds} alternating rounds of ${blockMs} ms per level; CPU µs per delivery, median (min-max)`);
console.log('| scenario | 3.1.1 | MQTT 5 | MQTT 5 ÷ 3.1.1 (per round) |');
console.log('|---|---|---|---|');
for (const scenario of ['fan-in', 'fan-out'] as const) {
  const setups = { 4: await setup(scenario, 4), 5: await setup(scenario, 5) };
  // Warm-up: both paths optimised before anything counts.
  await block(setups[4]);
  await block(setups[5]);
  const cpu: Record<ProtocolLevel, number[]> = { 4: [], 5: [] };
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order: ProtocolLevel[] = round % 2 === 0 ? [4, 5] : [5, 4];
    for (const level of order) cpu[level].push(await block(setups[level]));
    ratios.push(cpu[5][round] / cpu[4][round]);
  }
  const cell = (values: number[], digits: number): string =>
    `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)})`;
  console.log(`| ${scenario} | ${cell(cpu[4], 3)} | ${cell(cpu[5], 3)} | ${cell(ratios, 2)} |`);
  for (const pipe of [
    ...setups[4].publishers,
    ...setups[4].subscribers,
    ...setups[5].publishers,
    ...setups[5].subscribers,
  ])
    pipe.destroy();
}
await broker.close();
process.exit(0);
