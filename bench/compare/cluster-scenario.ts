// Cluster rows of `npm run bench`: a message that crosses Redis against the same message on one node, in
// the same run, alternating rounds; and `cluster.workers` 1 against 2 on one port. emitter-ts only (built
// dist/), a redis-server of its own, loopback only, every wait bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import mqttPacket from 'mqtt-packet';
import { generateLicense, KeyAuthority } from '../../src/security/index.js';
import { scrapeMetrics } from '../../test/helpers/metrics.js';
import { cpuMicros, machineCpuMicros } from './brokers.js';
import { RawClient } from './raw-client.js';
import { runPublishers } from './scenarios.js';

// BENCH_CLUSTER_PARTS=latency,pairs,workers (the default: all) runs some of the rows, for profiling.
const parts = (process.env.BENCH_CLUSTER_PARTS ?? 'latency,pairs,workers').split(',');
// BENCH_EMITTER_DIST=<dir>: another build's dist/ (an A/B comparison of two commits).
const MAIN = process.env.BENCH_EMITTER_DIST
  ? join(process.env.BENCH_EMITTER_DIST, 'cli/main.js')
  : fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const PAIRS = 200;
const LATENCY_RATE = 2000;

/** A process tree (a broker, or a worker supervisor and its workers) or a redis-server. */
interface Proc {
  readonly pid: number;
  readonly port: number;
  readonly child: ChildProcess;
}

/** CPU (user + system, microseconds) of a process and all its descendants, from /proc. */
function treeCpuMicros(pid: number): number {
  let total = 0;
  try {
    total = cpuMicros(pid);
  } catch {
    return 0;
  }
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(' ').filter(Boolean)) total += treeCpuMicros(Number(child));
  }
  return total;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function waitForOutput(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${output}`)), 60000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
  });
  // Keep draining its output: a pipe nobody reads stalls the process. BENCH_CLUSTER_LOG=1: brokers'
  // warnings and errors (and stderr) are shown.
  if (process.env.BENCH_CLUSTER_LOG)
    child.stdout?.on('data', (c: Buffer) => {
      if (/warn|Redis|"level":[45]/.test(c.toString())) process.stderr.write(c);
    });
  child.stdout?.resume();
}

async function startRedisServer(dir: string): Promise<Proc> {
  const port = await freePort();
  const child = spawn(
    '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await waitForOutput(child, /Ready to accept connections/, 'redis-server');
  return { pid: child.pid ?? 0, port, child };
}

async function startNode(env: Record<string, string>, started: RegExp): Promise<Proc> {
  const port = await freePort();
  // BENCH_CPU_PROF_DIR=<dir>: profile every broker process (`node --cpu-prof`), as in brokers.ts;
  // BENCH_NODE_FLAGS: more node flags for them (`--trace-gc`).
  const profile = process.env.BENCH_CPU_PROF_DIR;
  const flags = [
    ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
    ...(process.env.BENCH_NODE_FLAGS?.split(' ') ?? []),
  ];
  const child = spawn(process.execPath, [...flags, MAIN], {
    env: {
      ...process.env,
      EMITTER_LISTEN: `127.0.0.1:${port}`,
      EMITTER_LOGGING_LEVEL: 'info',
      EMITTER_MONITOR_PROVIDER: 'noop',
      EMITTER_LIMIT_MAXCONNECTIONS: '0',
      EMITTER_LIMIT_CONNECTRATE: '0',
      EMITTER_LIMIT_OUTGOINGBUFFER: String(256 * 1024 * 1024),
      ...env,
    },
    stdio: ['ignore', 'pipe', process.env.BENCH_CLUSTER_LOG ? 'inherit' : 'pipe'],
  });
  await waitForOutput(child, started, 'emitter-ts');
  return { pid: child.pid ?? 0, port, child };
}

async function stopProc(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = once(proc.child, 'exit');
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 12000);
  await exited;
  clearTimeout(timer);
}

/**
 * Waits (bounded, 10 s) until every subscriber got a probe from each of `probers` publisher connections:
 * subscriptions reach other nodes asynchronously, and with workers the publishers land on any of them
 * (round robin), so several probing connections cover every worker.
 */
async function waitForRoutes(
  port: number,
  topics: readonly string[],
  subscribers: RawClient[],
): Promise<void> {
  const probers = 8;
  const publishers: RawClient[] = [];
  for (let i = 0; i < probers; i++) publishers.push(await RawClient.connect(port, `probe${i}`));
  const seen = subscribers.map(() => new Set<number>());
  subscribers.forEach((subscriber, s) => {
    subscriber.onPublish = (payload) => {
      if (payload.length === 6 && payload.toString('latin1', 0, 5) === 'probe') seen[s].add(payload[5]);
    };
  });
  const deadline = Date.now() + 10000;
  try {
    while (seen.some((set) => set.size < probers)) {
      if (Date.now() > deadline) throw new Error('cluster bench: no route to every subscriber within 10 s');
      publishers.forEach((publisher, p) => {
        const payload = Buffer.from(`probe${String.fromCharCode(p)}`, 'latin1');
        for (const topic of topics)
          publisher.socket.write(
            mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }),
          );
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Let the last probes drain before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    for (const publisher of publishers) publisher.close();
    for (const subscriber of subscribers) subscriber.onPublish = undefined;
  }
}

/** What one throughput run measured. */
interface Throughput {
  readonly rate: number;
  readonly delivered: number;
  readonly lost: number;
  /** CPU per delivered message, µs: the brokers (all their processes) and redis-server. */
  readonly brokerCpu: number;
  readonly redisCpu: number;
  /** CPU seconds per second the brokers, the generator and the rest of the machine used. */
  readonly brokerBusy: number;
  readonly generatorBusy: number;
  readonly otherBusy: number;
  /** Across nodes: node A's and node B's cluster counters over the run, to tell where a loss happened. */
  readonly hop?: HopCounters;
}

/** Cluster counters of a cross-node run (differences of the nodes' `/metrics` over it). */
interface HopCounters {
  /** Messages node A sent towards B, and those it could not send (Redis unreachable). */
  readonly forwarded: number;
  readonly dropped: number;
  /** Messages node B received from A, and deliveries it dropped for slow subscribers. */
  readonly received: number;
  readonly slow: number;
  /** Deliveries node B wrote to its subscribers. */
  readonly out: number;
  /** PUBLISH commands Redis ran (all of them: the batches, and the nodes' few control events). */
  readonly publishes: number;
}

/** Node A's and node B's counters now (A's forwarded and dropped, B's received and slow-consumer drops). */
async function hopCounters(a: number, b: number, redis: number): Promise<HopCounters> {
  const admin = new Redis({ port: redis, host: '127.0.0.1', lazyConnect: true });
  const [ma, mb, stats] = await Promise.all([
    scrapeMetrics(a),
    scrapeMetrics(b),
    admin.connect().then(() => admin.info('commandstats')),
  ]).finally(() => admin.disconnect());
  return {
    publishes: Number(/cmdstat_publish:calls=(\d+)/.exec(stats)?.[1] ?? NaN),
    forwarded: ma.get('emitter_cluster_forwarded_total') ?? NaN,
    dropped: ma.get('emitter_cluster_dropped_total') ?? NaN,
    received: mb.get('emitter_cluster_received_total') ?? NaN,
    slow: mb.get('emitter_dropped_messages_total') ?? NaN,
    out: mb.get('emitter_messages_out_total') ?? NaN,
  };
}

/** 200 pairs, publishers connected to `from`, subscribers to `to` (closed loop as the other rows). */
async function pairs(
  from: number,
  to: number,
  name: string,
  seconds: number,
  brokers: readonly number[],
  redis: number | undefined,
  /** Across nodes: redis-server's port, to read the nodes' and Redis's counters around the run. */
  redisPort?: number,
): Promise<Throughput> {
  const topics = Array.from({ length: PAIRS }, (_, i) => `${name}/${i}/`);
  const subscribers: RawClient[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const subscriber = await RawClient.connect(to, `${name}-sub${i}`.replace(/\//g, '-'));
    await subscriber.subscribe(topics[i]);
    subscribers.push(subscriber);
  }
  await waitForRoutes(from, topics, subscribers);
  const base = subscribers.reduce((sum, s) => sum + s.received, 0);
  const hop0 = redisPort ? await hopCounters(from, to, redisPort) : undefined;
  const cpu = (): number => brokers.reduce((sum, pid) => sum + treeCpuMicros(pid), 0);
  const cpu0 = cpu();
  const redis0 = redis === undefined ? 0 : cpuMicros(redis);
  const machine0 = machineCpuMicros();
  const gen0 = process.cpuUsage();
  const started = Date.now();
  const run = await runPublishers(
    from,
    topics.map((topic) => [topic]),
    subscribers,
    1,
    seconds,
  );
  const received = (): number => subscribers.reduce((sum, s) => sum + s.received, 0) - base;
  // What has not arrived a second after the last delivery was dropped (bounded: 30 s).
  for (let i = 0, still = 0, last = received(); i < 300 && received() < run.sent && still < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    still = received() === last ? still + 1 : 0;
    last = received();
  }
  const elapsed = (Date.now() - started) / 1000;
  const delivered = received();
  const brokerCpu = cpu() - cpu0;
  const redisCpu = redis === undefined ? 0 : cpuMicros(redis) - redis0;
  const gen = process.cpuUsage(gen0);
  const generatorCpu = gen.user + gen.system + run.cpu;
  const otherCpu = machineCpuMicros() - machine0 - brokerCpu - redisCpu - generatorCpu;
  for (const subscriber of subscribers) subscriber.close();
  const hop1 = hop0 && redisPort ? await hopCounters(from, to, redisPort) : undefined;
  const hop =
    hop0 && hop1
      ? {
          forwarded: hop1.forwarded - hop0.forwarded,
          dropped: hop1.dropped - hop0.dropped,
          received: hop1.received - hop0.received,
          slow: hop1.slow - hop0.slow,
          publishes: hop1.publishes - hop0.publishes,
          out: hop1.out - hop0.out,
        }
      : undefined;
  const per = Math.max(1, delivered);
  return {
    rate: delivered / elapsed,
    delivered,
    lost: Math.max(0, run.sent - delivered),
    brokerCpu: brokerCpu / per,
    redisCpu: redisCpu / per,
    brokerBusy: (brokerCpu + redisCpu) / 1e6 / elapsed,
    generatorBusy: generatorCpu / 1e6 / elapsed,
    otherBusy: Math.max(0, otherCpu) / 1e6 / elapsed,
    hop,
  };
}

/** What one latency run measured (ms). */
interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly lost: number;
}

/** One publisher on `from` at a fixed 2,000 msg/s -> one subscriber on `to`: p50 and p99 in ms. */
async function latency(from: number, to: number, topic: string, seconds: number): Promise<Latency> {
  const subscriber = await RawClient.connect(to, `lat-sub-${from}-${to}`);
  await subscriber.subscribe(topic);
  await waitForRoutes(from, [topic], [subscriber]);
  const publisher = await RawClient.connect(from, `lat-pub-${from}-${to}`);
  const samples: number[] = [];
  subscriber.onPublish = (payload) => {
    if (payload.length === 64)
      samples.push(Number(process.hrtime.bigint() - payload.readBigUInt64BE(0)) / 1e6);
  };
  const total = LATENCY_RATE * seconds;
  const started = Date.now();
  let sent = 0;
  // As the single-node latency row: a 1 ms timer sends what the schedule has due (no busy loop on the
  // shared cores), each message stamped with its real send time.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - started) * LATENCY_RATE) / 1000));
      for (; sent < due; sent++) {
        const payload = Buffer.alloc(64);
        payload.writeBigUInt64BE(process.hrtime.bigint(), 0);
        publisher.socket.write(
          mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }),
        );
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
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

/**
 * The Redis hop alone, no broker: an ioredis client PUBLISHes a 64-byte stamped message at 2,000 msg/s
 * (the same 1 ms timer) to an ioredis subscriber in this process. What a cross-node message pays on top
 * of this is the brokers' share.
 */
async function redisHop(port: number, seconds: number): Promise<Latency> {
  const publisher = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  const subscriber = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
    await subscriber.subscribe('bench:hop');
    const samples: number[] = [];
    subscriber.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
      if (payload.length === 64)
        samples.push(Number(process.hrtime.bigint() - payload.readBigUInt64BE(0)) / 1e6);
    });
    const total = LATENCY_RATE * seconds;
    const started = Date.now();
    let sent = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((Date.now() - started) * LATENCY_RATE) / 1000));
        for (; sent < due; sent++) {
          const payload = Buffer.alloc(64);
          payload.writeBigUInt64BE(process.hrtime.bigint(), 0);
          void publisher.publish('bench:hop', payload);
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    for (let i = 0, last = -1; i < 20 && samples.length < total && samples.length !== last; i++) {
      last = samples.length;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    samples.sort((a, b) => a - b);
    const at = (q: number): number =>
      samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
    return { p50: at(0.5), p99: at(0.99), lost: total - samples.length };
  } finally {
    publisher.disconnect();
    subscriber.disconnect();
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (value: number, digits = 0): string =>
  Number.isNaN(value)
    ? '-'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** `median (min-max)` of the rounds. */
const spread = (values: readonly number[], digits = 0): string =>
  values.length > 1
    ? `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}-${fmt(Math.max(...values), digits)})`
    : fmt(values[0] ?? NaN, digits);

/**
 * Runs the cluster rows (`rounds` alternating rounds of `seconds` each) and returns them as markdown:
 * cross-node latency and 200-pair throughput against a single node, and `cluster.workers` 1 against 2.
 */
export async function measureCluster(seconds: number, rounds: number): Promise<string[]> {
  const { license, text } = generateLicense();
  const created = new KeyAuthority(license).createKey({
    secret: license.newMasterKey(),
    channel: '#/',
    type: 'rw',
    ttl: 0,
  });
  if ('status' in created) throw new Error(created.message);
  const topic = (channel: string): string => `${created.key}/${channel}`;
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  const redis = await startRedisServer(dir);
  const redisUrl = `redis://127.0.0.1:${redis.port}`;
  const serving = /service started/;
  const procs: Proc[] = [redis];
  const latencyRows: Record<'single' | 'cross' | 'hop', Latency[]> = { single: [], cross: [], hop: [] };
  const pairRows = {
    single: [] as Throughput[],
    cross: [] as Throughput[],
    w1: [] as Throughput[],
    w2: [] as Throughput[],
  };
  try {
    const single = await startNode({ EMITTER_LICENSE: text }, serving);
    procs.push(single);
    const a = await startNode(
      { EMITTER_LICENSE: text, EMITTER_CLUSTER_NAME: 'a', EMITTER_CLUSTER_REDIS: redisUrl },
      serving,
    );
    procs.push(a);
    const b = await startNode(
      { EMITTER_LICENSE: text, EMITTER_CLUSTER_NAME: 'b', EMITTER_CLUSTER_REDIS: redisUrl },
      serving,
    );
    procs.push(b);
    for (let round = 0; round < rounds; round++) {
      const runs: Array<() => Promise<void>> = [
        async () => {
          latencyRows.single.push(await latency(single.port, single.port, topic(`lat/s${round}/`), seconds));
        },
        async () => {
          latencyRows.cross.push(await latency(a.port, b.port, topic(`lat/c${round}/`), seconds));
        },
        async () => {
          pairRows.single.push(
            await pairs(single.port, single.port, topic(`p/s${round}`), seconds, [single.pid], undefined),
          );
        },
        async () => {
          pairRows.cross.push(
            await pairs(a.port, b.port, topic(`p/c${round}`), seconds, [a.pid, b.pid], redis.pid, redis.port),
          );
        },
      ];
      // Alternate which of each pair goes first.
      if (parts.includes('latency')) latencyRows.hop.push(await redisHop(redis.port, seconds));
      const order = round % 2 === 0 ? [0, 1, 2, 3] : [1, 0, 3, 2];
      for (const i of order) if (parts.includes(i < 2 ? 'latency' : 'pairs')) await runs[i]();
    }
    await Promise.all([single, a, b].map(stopProc));
    // `cluster.workers`: the same 200 pairs on one port, connections spread over the workers by Node.
    const workersFor = async (count: number): Promise<Throughput> => {
      const host = await startNode(
        {
          EMITTER_LICENSE: text,
          EMITTER_CLUSTER_NAME: `w${count}`,
          EMITTER_CLUSTER_REDIS: redisUrl,
          EMITTER_CLUSTER_WORKERS: String(count),
        },
        count > 1 ? new RegExp(`(service started[\\s\\S]*){${count}}`) : serving,
      );
      try {
        // Let the workers meet (each loads the others' snapshots) before the first route check.
        await new Promise((resolve) => setTimeout(resolve, 500));
        return await pairs(host.port, host.port, topic(`p/w${count}`), seconds, [host.pid], redis.pid);
      } finally {
        await stopProc(host);
      }
    };
    for (let round = 0; round < rounds && parts.includes('workers'); round++) {
      const order = round % 2 === 0 ? [1, 2] : [2, 1];
      for (const count of order) (count === 1 ? pairRows.w1 : pairRows.w2).push(await workersFor(count));
    }
  } finally {
    await Promise.all(procs.map(stopProc));
    rmSync(dir, { recursive: true, force: true });
  }
  const ratio = (ours: readonly number[], theirs: readonly number[]): string =>
    fmt(median(ours) / median(theirs), 2);
  const rate = (list: readonly Throughput[]): number[] => list.map((r) => r.rate);
  const row = (name: string, list: readonly Throughput[], reference?: readonly Throughput[]): string =>
    `| ${name} | ${spread(rate(list))} | ${reference ? ratio(rate(list), rate(reference)) : '-'} | ${fmt(median(list.map((r) => r.brokerCpu)), 2)} | ${fmt(median(list.map((r) => r.redisCpu)), 2)} | ${fmt(median(list.map((r) => r.brokerBusy)), 2)} / ${fmt(median(list.map((r) => r.generatorBusy)), 2)} / ${fmt(median(list.map((r) => r.otherBusy)), 2)} | ${fmt(median(list.map((r) => r.lost)))} |`;
  const lat = (list: readonly Latency[]): string =>
    `${spread(
      list.map((r) => r.p50),
      3,
    )} | ${spread(
      list.map((r) => r.p99),
      3,
    )} | ${fmt(median(list.map((r) => r.lost)))}`;
  return [
    '',
    `Cluster, emitter-ts only: two nodes on one redis-server (publishers on node A, subscribers on node B) against a single node in the same run, then \`cluster.workers\` 1 against 2 on one port; ${rounds} alternating round(s) of ${seconds} s; medians (min-max). Latency: 1 publisher at ${fmt(LATENCY_RATE)} msg/s -> 1 subscriber; throughput: ${PAIRS} pairs, closed loop as above. CPU per delivered message sums every broker process (A and B; a worker supervisor and its workers) and, separately, redis-server.`,
    '',
    '| cluster latency at 2,000 msg/s | p50 ms | p99 ms | lost |',
    '|---|---|---|---|',
    `| single node | ${lat(latencyRows.single)} |`,
    `| across nodes (A -> Redis -> B) | ${lat(latencyRows.cross)} |`,
    `| the Redis hop alone (ioredis PUBLISH -> ioredis subscriber, no broker) | ${lat(latencyRows.hop)} |`,
    '',
    `| cluster point-to-point, ${PAIRS} pairs | msg/s | ÷ single node | broker CPU/msg (µs) | redis CPU/msg (µs) | busy: brokers+redis / generator / other (cores) | lost |`,
    '|---|---|---|---|---|---|---|',
    row('single node', pairRows.single),
    row('across nodes (A -> Redis -> B)', pairRows.cross, pairRows.single),
    row('`cluster.workers: 1`', pairRows.w1),
    row('`cluster.workers: 2` (one port)', pairRows.w2, pairRows.w1),
    '',
    `Across nodes, each round (where a loss happened): ${
      pairRows.cross
        .map((r) =>
          r.hop
            ? `node A forwarded ${fmt(r.hop.forwarded)} (${fmt(r.hop.dropped)} not sent), node B received ${fmt(r.hop.received)} and delivered ${fmt(r.hop.out)} (${fmt(r.hop.slow)} dropped for slow subscribers), the subscribers counted ${fmt(r.delivered)}; ${fmt(r.hop.forwarded / Math.max(1, r.hop.publishes))} messages per Redis PUBLISH`
            : '-',
        )
        .join('; ') || '-'
    }.`,
  ];
}

// `node --import tsx bench/compare/cluster-scenario.ts [seconds] [rounds]`: the cluster rows alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 3);
  const rounds = Number(process.argv[3] ?? 3);
  console.log((await measureCluster(seconds, rounds)).join('\n'));
  process.exit(0);
}
