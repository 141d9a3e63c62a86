// Cross-node figures next to single-node ones, measured in the same run: a redis-server and two
// emitter-ts nodes (built dist/) on loopback; QoS 0, 64-byte payloads, real channel keys in the topics.
// `npm run bench:cluster` (about 30 s). Each scenario is bounded in time and count.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import mqttPacket from 'mqtt-packet';
import { generateLicense, KeyAuthority } from '../src/security/index.js';
import { scrapeMetrics } from '../test/helpers/metrics.js';
import { startRedis } from '../test/helpers/redis.js';
import { RawClient } from './compare/raw-client.js';
import { runPublishers } from './compare/scenarios.js';

const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

interface Node {
  readonly port: number;
  readonly child: ChildProcess;
}

async function startNode(name: string, license: string, redis: string | undefined): Promise<Node> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      EMITTER_LICENSE: license,
      EMITTER_LISTEN: '127.0.0.1:0',
      EMITTER_CLUSTER_NAME: name,
      EMITTER_CLUSTER_REDIS: redis ?? '',
      EMITTER_MONITOR_PROVIDER: 'noop',
      EMITTER_LIMIT_CONNECTRATE: '0',
      EMITTER_LIMIT_OUTGOINGBUFFER: String(256 * 1024 * 1024),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${name} did not start: ${output}`)), 20000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"address":"127\.0\.0\.1:(\d+)"/.exec(output);
      if (match && output.includes('service started')) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return { port, child };
}

async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null) return;
  node.child.kill('SIGKILL');
  await once(node.child, 'exit');
}

/** Floods `SECONDS` of batched publishes from `from` to a subscriber on `to`; delivered msg/s and lost. */
async function throughput(from: number, to: number, topic: string): Promise<{ rate: number; lost: number }> {
  const subscriber = await RawClient.connect(to, '');
  await subscriber.subscribe(topic);
  const publisher = await RawClient.connect(from, '');
  await waitForRoute(publisher, subscriber, topic);
  publisher.close();
  const base = subscriber.received;
  const started = Date.now();
  // Four publishers in two worker processes, so the generator is not what limits the figure; closed
  // loop (a bounded number in flight end to end).
  const { sent } = await runPublishers(from, [[topic], [topic], [topic], [topic]], [subscriber], 1, SECONDS);
  // Let what is in flight arrive (bounded: stops when nothing more comes for 1 s, or after 30 s; a node
  // busy with a large batch from Redis can pause deliveries for a few hundred ms).
  for (let i = 0, still = 0, last = subscriber.received; i < 300 && still < 10; i++) {
    if (subscriber.received - base >= sent) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
    still = subscriber.received === last ? still + 1 : 0;
    last = subscriber.received;
  }
  const delivered = subscriber.received - base;
  const elapsed = (Date.now() - started) / 1000;
  subscriber.close();
  return { rate: delivered / elapsed, lost: sent - delivered };
}

/** 2,000 msg/s for `SECONDS` from `from` to a subscriber on `to`: latency percentiles in ms. */
async function latency(
  from: number,
  to: number,
  topic: string,
): Promise<{ p50: number; p99: number; lost: number }> {
  const subscriber = await RawClient.connect(to, '');
  await subscriber.subscribe(topic);
  const publisher = await RawClient.connect(from, '');
  await waitForRoute(publisher, subscriber, topic);
  const samples: number[] = [];
  subscriber.onPublish = (payload) => {
    if (payload.length === 64 && payload[8] === 0x62)
      samples.push(Number(process.hrtime.bigint() - payload.readBigUInt64BE(0)) / 1e6);
  };
  const total = 2000 * SECONDS;
  const started = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    const due = started + BigInt(Math.round((i * 1e9) / 2000));
    while (process.hrtime.bigint() < due) await new Promise((resolve) => setImmediate(resolve));
    const payload = Buffer.alloc(64, 0x62);
    payload.writeBigUInt64BE(process.hrtime.bigint(), 0);
    publisher.socket.write(
      mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }),
    );
  }
  for (let i = 0, last = -1; i < 20 && samples.length < total && samples.length !== last; i++) {
    last = samples.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  publisher.close();
  subscriber.close();
  samples.sort((a, b) => a - b);
  const at = (q: number): number =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), lost: total - samples.length };
}

// Subscriptions reach other nodes asynchronously: probe (bounded) until one message gets through.
async function waitForRoute(publisher: RawClient, subscriber: RawClient, topic: string): Promise<void> {
  const probe = mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload: Buffer.from('probe'),
    qos: 0,
    retain: false,
    dup: false,
  });
  const base = subscriber.received;
  for (let i = 0; i < 200; i++) {
    publisher.socket.write(probe);
    await new Promise((resolve) => setTimeout(resolve, 25));
    if (subscriber.received > base) {
      await new Promise((resolve) => setTimeout(resolve, 100)); // let the other probes drain
      return;
    }
  }
  throw new Error('no route from publisher to subscriber within 5 s');
}

const { license, text } = generateLicense();
const created = new KeyAuthority(license).createKey({
  secret: license.newMasterKey(),
  channel: '#/',
  type: 'rw',
  ttl: 0,
});
if ('status' in created) throw new Error(created.message);
const topic = (channel: string): string => `${created.key}/${channel}`;

const redis = await startRedis();
const single = await startNode('single', text, undefined);
const a = await startNode('a', text, redis.url);
const b = await startNode('b', text, redis.url);
try {
  const rows: string[] = [];
  const fmt = (n: number, digits = 0): string =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const t1 = await throughput(single.port, single.port, topic('bench/single/'));
  const t2 = await throughput(a.port, a.port, topic('bench/same/'));
  const t3 = await throughput(a.port, b.port, topic('bench/cross/'));
  const [ma, mb] = await Promise.all([scrapeMetrics(a.port), scrapeMetrics(b.port)]);
  const cross = `node a forwarded ${ma.get('emitter_cluster_forwarded_total')}, dropped ${ma.get('emitter_cluster_dropped_total')}; node b received ${mb.get('emitter_cluster_received_total')}, delivered ${mb.get('emitter_messages_out_total')}, dropped for slow consumers ${mb.get('emitter_dropped_messages_total')}`;
  const l1 = await latency(single.port, single.port, topic('lat/single/'));
  const l3 = await latency(a.port, b.port, topic('lat/cross/'));
  rows.push(
    `| single node (no cluster) | ${fmt(t1.rate)} | ${fmt(t1.lost)} | ${fmt(l1.p50, 3)} | ${fmt(l1.p99, 3)} |`,
  );
  rows.push(`| cluster, same node | ${fmt(t2.rate)} | ${fmt(t2.lost)} | - | - |`);
  rows.push(
    `| cluster, across nodes (via Redis) | ${fmt(t3.rate)} | ${fmt(t3.lost)} | ${fmt(l3.p50, 3)} | ${fmt(l3.p99, 3)} |`,
  );
  const machine = `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
  console.log(
    [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; ${SECONDS} s per figure, 4 publishers (throughput) or 1 at 2,000 msg/s (latency) -> 1 subscriber, QoS 0, 64 B.`,
      '',
      '| path | delivered msg/s | lost | p50 ms at 2,000 msg/s | p99 ms |',
      '|---|---|---|---|---|',
      ...rows,
      '',
      `Cross-node counters after the throughput run: ${cross}.`,
    ].join('\n'),
  );
} finally {
  await Promise.all([single, a, b].map(stopNode));
  await redis.stop();
}
process.exit(0);
