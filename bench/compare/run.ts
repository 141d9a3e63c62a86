// Side-by-side benchmark: emitter-ts (with channel keys in its topics), Aedes and Mosquitto, alternating
// rounds, each scenario bounded in time, loopback only. `npm run bench` (about 15 min) or
// `npm run bench -- --quick` (one round, shorter runs: a smoke test, not figures to quote);
// `-- --only fan-in` runs the scenarios whose name contains that text; `-- --rounds 5` sets the rounds.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import {
  startAedes,
  startBareNet,
  startEmitterTs,
  startEmitterTsPlain,
  startEmitterTsSsd,
  startMosquitto,
  type RunningBroker,
} from './brokers.js';
import { ConnectRefused } from './raw-client.js';
import {
  fanIn,
  fanInAt,
  fanOut,
  fanOutAt,
  idleConnections,
  latency,
  offlineDrain,
  pointToPoint,
  qos1EndToEnd,
  qos1FanIn,
  qos2EndToEnd,
  wildcard,
  WILDCARD_DRAIN_MS,
  WILDCARD_WINDOW_PER_PUBLISHER,
  WINDOW_PER_PUBLISHER,
  type Result,
  type Scenario,
} from './scenarios.js';
import { measureCluster } from './cluster-scenario.js';
import { measureStorage } from './storage-scenario.js';

const quick = process.argv.includes('--quick');
// `--only <text>`: run only the scenarios whose name contains it (and skip the storage table).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
const seconds = quick ? 2 : 4;
// `--rounds <n>`: alternating rounds (default 3, 1 with --quick): quick rounds repeated for an A/B on a busy machine.
const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Math.max(1, Number(process.argv[roundsAt + 1])) : quick ? 1 : 3;
// emitter-ts's per-connection read limit (`limit.readRate`), left at its default in these runs.
const READ_RATE = 100000;

type Starter = () => Promise<RunningBroker>;
const peers: Starter[] = [startEmitterTs, startAedes, () => startMosquitto()];
interface ScenarioSpec {
  readonly name: string;
  readonly run: Scenario;
  readonly scale: number;
  /** Brokers run besides the three compared ones (their figures go in the detail table). */
  readonly extra?: Starter[];
  /** The three compared brokers started otherwise than by default (persistence on). */
  readonly peers?: Starter[];
  /**
   * An `extra` broker run in the same rounds whose broker CPU per message the row's emitter-ts figure is
   * compared with round by round (MQTT 5 against 3.1.1), and the most that ratio may be (issue 14).
   */
  readonly baseline?: { readonly name: string; readonly target: number };
}

// emitter-ts with its clients at 3.1.1 inside an MQTT 5 row's rounds: the baseline of the v5 ÷ 3.1.1 ratio.
const V311 = 'emitter-ts, MQTT 3.1.1';
const emitterTs311: Starter = async () => ({ ...(await startEmitterTs()), name: V311, protocolVersion: 4 });
// Persistence on where a broker has it: emitter-ts `ssd` sessions (SQLite, every message queued for a
// persistent session written before its PUBACK), Mosquitto `persistence true` (in memory, saved to disk at
// autosave and exit); Aedes' default aedes-persistence is in memory (its disk/redis/mongo backends are
// other packages).
const persistent: Starter[] = [startEmitterTsSsd, startAedes, () => startMosquitto({ persistence: true })];
const endToEnd: Starter[] = [startEmitterTs, startAedes, () => startMosquitto({ persistence: true })];
const scenarios: ScenarioSpec[] = [
  // Plain-MQTT mode (issue 15) beside the keyed runs: the same scenario, topics without keys.
  { name: 'fan-in 8 -> 1, QoS 0', run: fanIn, scale: 1, extra: [startEmitterTsPlain] },
  { name: 'fan-out 1 -> 200', run: fanOut, scale: 1, extra: [startEmitterTsPlain] },
  // The same at protocol level 5 (CONNECT, SUBSCRIBE and PUBLISH in their v5 forms); Aedes 1.x has no
  // MQTT 5 and refuses the CONNECT. emitter-ts also runs at 3.1.1 in the same rounds for the ratio.
  {
    name: 'fan-in 8 -> 1, QoS 0, MQTT 5',
    run: fanInAt(5),
    scale: 1,
    extra: [emitterTs311],
    baseline: { name: V311, target: 1.1 },
  },
  {
    name: 'fan-out 1 -> 200, MQTT 5',
    run: fanOutAt(5),
    scale: 1,
    extra: [emitterTs311],
    baseline: { name: V311, target: 1.1 },
  },
  { name: 'point-to-point, 200 pairs', run: pointToPoint, scale: 1, extra: [startEmitterTsPlain] },
  { name: 'wildcard, 1,000 + patterns', run: wildcard, scale: 1 },
  { name: 'QoS 1 fan-in, 100 in flight x 8', run: qos1FanIn, scale: 1 },
  // End to end against Mosquitto with persistence on (issue 20); emitter-ts at its default providers, as
  // this row always ran. The sessions are clean: there is nothing per message for a persistent store.
  {
    name: 'QoS 1 end to end, 8 -> 1 subscriber at QoS 1',
    run: qos1EndToEnd,
    scale: 1,
    peers: endToEnd,
  },
  {
    name: 'QoS 2 end to end, 8 -> 1 subscriber at QoS 2',
    run: qos2EndToEnd,
    scale: 1,
    peers: endToEnd,
  },
  {
    name: quick ? 'offline queue drain, 20,000 QoS 1' : 'offline queue drain, 100,000 QoS 1',
    run: offlineDrain,
    scale: quick ? 0.2 : 1,
    peers: persistent,
    extra: [async () => ({ ...(await startEmitterTs()), name: 'emitter-ts, inmemory sessions' })],
  },
  // Mosquitto's default leaves Nagle on, which costs latency: both ways are shown.
  {
    name: 'latency at 2,000 msg/s',
    run: latency,
    scale: 1,
    extra: [() => startMosquitto({ noDelay: true })],
  },
  {
    name: quick ? 'idle connections (2,000)' : 'idle connections (10,000)',
    run: idleConnections,
    scale: quick ? 0.2 : 1,
    extra: [
      startBareNet,
      // What the README advises for a fleet of mostly idle devices: a capped young generation.
      async () => ({
        ...(await startEmitterTs({ NODE_OPTIONS: '--max-semi-space-size=1' })),
        name: 'emitter-ts, --max-semi-space-size=1',
      }),
    ],
  },
];

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (value: number | undefined, digits = 0): string =>
  value === undefined || Number.isNaN(value)
    ? '-'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const micro = (value: number | undefined): string =>
  value === undefined ? '-' : fmt(value, value < 1 ? 2 : 1);
const percent = (value: number | undefined): string =>
  value === undefined ? '-' : `${Math.round(value * 100)}%`;

/** What held a throughput figure back, from what the run measured. */
function limitOf(broker: string, all: Result[]): string {
  const refused = all.find((r) => r.refused !== undefined)?.refused;
  if (refused !== undefined) return `refused the clients: ${refused}`;
  const results = all;
  if (results[0]?.unit !== 'msg/s') return '';
  const writes =
    results[0]?.writesPerMessage === undefined
      ? undefined
      : median(results.map((r) => r.writesPerMessage ?? 0));
  const limit = limitingFactor(broker, results);
  // Write syscalls per delivered message: near 1, each message cost the broker a send of its own.
  return writes === undefined ? limit : `${limit}; ${fmt(writes, 2)} broker writes/msg`;
}

function limitingFactor(broker: string, results: Result[]): string {
  const rate = median(results.map((r) => r.perConnectionRate ?? 0));
  const busy = median(results.map((r) => r.brokerBusy ?? 0));
  const generator = median(results.map((r) => r.generatorBusy ?? 0));
  const other = median(results.map((r) => r.otherBusy ?? 0));
  if (other >= 0.2) return `disturbed: other processes used ${fmt(other, 1)} cores`;
  if (broker.startsWith('emitter-ts') && rate >= 0.9 * READ_RATE)
    return `read-rate limit (${fmt(rate)} of ${fmt(READ_RATE)} msg/s per publisher)`;
  if (busy >= 0.85) return 'broker CPU (one core busy)';
  // The generator shares the 2 cores with the broker: what the broker leaves is its ceiling.
  if (generator >= 0.85 * (cpus().length - busy)) return 'generator (the cores the broker left)';
  const bound = results[0]?.bound ?? 'round trips';
  return `neither saturated: ${bound}`;
}

const main: string[] = [];
const detail: string[] = [];
const versus: string[] = [];
let printed = 0;
for (const spec of scenarios) {
  if (only !== undefined && !spec.name.includes(only)) continue;
  const starters = [...(spec.peers ?? peers), ...(spec.extra ?? [])];
  const results = new Map<string, Result[]>();
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so no broker always runs first (or on a warmer machine).
    const order = round % 2 === 0 ? starters : [...starters].reverse();
    for (const start of order) {
      const broker = await start();
      try {
        // A broker that refused the clients once (no MQTT 5) is not asked again.
        if (results.get(broker.name)?.some((r) => r.refused !== undefined)) continue;
        const result = await spec.run(broker, seconds, spec.scale).catch((error: unknown) => {
          if (!(error instanceof ConnectRefused)) throw error;
          return { value: NaN, unit: '', refused: error.message } satisfies Result;
        });
        results.set(broker.name, [...(results.get(broker.name) ?? []), result]);
      } finally {
        await broker.stop();
      }
    }
  }
  // The figures of a broker: none for one that refused the clients.
  const of = (name: string): Result[] => (results.get(name) ?? []).filter((r) => r.refused === undefined);
  const med = (name: string, pick: (r: Result) => number | undefined): number | undefined => {
    const values = of(name)
      .map(pick)
      .filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : median(values);
  };
  const unit = of('emitter-ts')[0]?.unit ?? '';
  const digits = unit === 'msg/s' ? 0 : unit === 'KiB/conn' ? 1 : 3;
  const cell = (name: string): string => {
    const values = of(name).map((r) => r.value);
    if (values.length === 0) return '-';
    const range =
      values.length > 1 ? ` (${fmt(Math.min(...values), digits)}-${fmt(Math.max(...values), digits)})` : '';
    return `${fmt(median(values), digits)}${range}`;
  };
  const ratio = (peer: string, pick: (r: Result) => number | undefined): string => {
    const ours = med('emitter-ts', pick);
    const theirs = med(peer, pick);
    return ours === undefined || !theirs ? '-' : fmt(ours / theirs, 2);
  };
  const value = (r: Result): number => r.value;
  const cpu = (r: Result): number | undefined => r.cpuPerMessage;
  const names = ['emitter-ts', 'aedes', 'mosquitto'];
  main.push(
    `| ${spec.name} | ${unit} | ${names.map(cell).join(' | ')} | ${ratio('aedes', value)} | ${ratio('mosquitto', value)} | ${ratio('aedes', cpu)} / ${ratio('mosquitto', cpu)} | ${names.map((n) => fmt(med(n, (r) => r.lost))).join(' / ')} |`,
  );
  for (const name of [...results.keys()]) {
    const list = results.get(name) ?? [];
    const perRound = list
      .map((r) =>
        r.refused !== undefined
          ? `refused (${r.refused})`
          : r.unit === 'ms p99'
            ? `p50 ${fmt(r.p50, 3)} / p99 ${fmt(r.value, 3)}`
            : `${fmt(r.value, digits)}${r.detail ? ` (${r.detail})` : ''}`,
      )
      .join('; ');
    detail.push(
      `| ${spec.name} | ${name} | ${perRound} | ${micro(med(name, cpu))} | ${percent(med(name, (r) => r.brokerBusy))} | ${micro(med(name, (r) => r.generatorCpuPerMessage))} | ${percent(med(name, (r) => r.generatorBusy))} | ${limitOf(name, list)} |`,
    );
  }
  if (spec.baseline !== undefined) {
    // Round by round: both ran in the same round, back to back, so the ratio sees the same machine.
    const { name: base, target } = spec.baseline;
    const ours = of('emitter-ts');
    const theirs = of(base);
    const ratios = ours
      .map((r, i) => (r.cpuPerMessage ?? NaN) / (theirs[i]?.cpuPerMessage ?? NaN))
      .filter((r) => Number.isFinite(r));
    const range = (values: number[], digits: number): string =>
      values.length > 1 ? ` (${fmt(Math.min(...values), digits)}-${fmt(Math.max(...values), digits)})` : '';
    const cpus = (list: Result[]): number[] => list.map((r) => r.cpuPerMessage ?? NaN);
    const ratio = ratios.length === 0 ? NaN : median(ratios);
    versus.push(
      `| ${spec.name} | ${micro(med(base, cpu))}${range(cpus(theirs), 2)} | ${micro(med('emitter-ts', cpu))}${range(cpus(ours), 2)} | ${fmt(ratio, 2)}${range(ratios, 2)} | ${Number.isNaN(ratio) ? '-' : ratio <= target ? `met (<= ${fmt(target, 2)})` : `**not met** (> ${fmt(target, 2)})`} | ${micro(med('mosquitto', cpu))} |`,
    );
  }
  if (unit === 'KiB/conn' && results.has('node-net')) {
    const ours = med('emitter-ts', value) ?? NaN;
    const bare = med('node-net', value) ?? NaN;
    detail.push(
      `| ${spec.name} | emitter-ts over a bare Node server | ${fmt(ours - bare, 1)} KiB/conn | | | | | |`,
    );
  }
  console.log([...main.slice(printed)].join('\n'));
  printed = main.length;
}

const machine = `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
const mosquittoVersion =
  /mosquitto version (\S+)/.exec(
    spawnSync('/usr/sbin/mosquitto', ['-h'], { encoding: 'utf8' }).stdout,
  )?.[1] ?? 'Debian package';
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; mosquitto ${mosquittoVersion} at its defaults except unlimited queues; ${rounds} alternating round(s) of ${seconds} s per broker and scenario; medians (min-max). Throughput publishers are a closed loop: at most ${WINDOW_PER_PUBLISHER} messages per publisher in flight end to end, so "lost" is what a broker dropped, not a backlog. Wildcard subscribers drain their sockets every ${WILDCARD_DRAIN_MS} ms (as the independent harness's do), with ${WILDCARD_WINDOW_PER_PUBLISHER} messages per publisher in flight.`,
  '',
  '| scenario | unit | emitter-ts | Aedes | Mosquitto | ÷ Aedes | ÷ Mosquitto | broker CPU/msg ÷ Aedes / ÷ Mosquitto | lost (ours / Aedes / Mosquitto) |',
  '|---|---|---|---|---|---|---|---|---|',
  ...main,
  '',
  'Ratios are emitter-ts ÷ peer: above 1 is better for rates, below 1 is better for latency, KiB per connection and CPU per message.',
  '',
  'Per broker: every round, CPU per delivered message and how busy each side was (CPU seconds per second; the broker is single-threaded, the generator is three processes, five for wildcard, on what the broker leaves of the cores), and what limited the figure.',
  '',
  '| scenario | broker | each round | broker CPU/msg (µs) | broker busy | generator CPU/msg (µs) | generator busy | limited by |',
  '|---|---|---|---|---|---|---|---|',
  ...detail,
  ...(versus.length === 0
    ? []
    : [
        '',
        'MQTT 5 against 3.1.1, emitter-ts: broker CPU per delivered message with every client at protocol level 5 and, in the same rounds, at 3.1.1 (issue 14: at most 1.10); the ratio is the median of the per-round ratios (min-max). Mosquitto at level 5 for scale.',
        '',
        '| scenario | 3.1.1 µs/msg | MQTT 5 µs/msg | MQTT 5 ÷ 3.1.1 | target | Mosquitto MQTT 5 µs/msg |',
        '|---|---|---|---|---|---|',
        ...versus,
      ]),
].join('\n');
const stored = only === undefined ? await measureStorage(seconds) : [];
const storageTable = [
  '',
  `Stored messages, emitter-ts only (Aedes and Mosquitto have no per-message ttl storage): QoS 1 publishes with \`?ttl=3600\`, 4 publishers x 100 in flight, ${seconds} s; then ${'`last=100`'} replays, 50 times.`,
  '',
  '| provider | stored msg/s (acked) | `last=100` p50 ms | p99 ms |',
  '|---|---|---|---|',
  ...stored.map((f) => `| ${f.provider} | ${fmt(f.storedPerSecond)} | ${fmt(f.p50, 2)} | ${fmt(f.p99, 2)} |`),
].join('\n');
// Cross-node and `cluster.workers` rows (`--only cluster` runs them alone).
const clusterTable = (
  only === undefined || only.includes('cluster') ? await measureCluster(seconds, rounds) : []
).join('\n');
// Only a full run replaces the recorded one: `--quick` and `--only` figures are not to quote.
if (!quick && only === undefined) {
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('../results/latest.md', import.meta.url),
    `${table}\n${storageTable}\n${clusterTable}\n`,
  );
}
console.log(`\n${table}\n${storageTable}\n${clusterTable}`);
process.exit(0);
