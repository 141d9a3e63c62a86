// Side-by-side benchmark: emitter-ts (with channel keys in its topics), Aedes and Mosquitto, alternating,
// each scenario bounded in time, loopback only. `npm run bench` (about 3 min) or `npm run bench -- --quick`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { startAedes, startEmitterTs, startMosquitto, type RunningBroker } from './brokers.js';
import {
  fanIn,
  fanOut,
  idleConnections,
  latency,
  pointToPoint,
  qos1EndToEnd,
  qos1FanIn,
  wildcard,
  type Result,
  type Scenario,
} from './scenarios.js';
import { measureStorage } from './storage-scenario.js';

const quick = process.argv.includes('--quick');
// `--only <prefix>[,<prefix>]`: just the scenarios whose names start so.
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? process.argv[onlyArg + 1]?.split(',') : undefined;
const seconds = quick ? 2 : 4;
const repetitions = quick ? 1 : 2;
const starters: Array<() => Promise<RunningBroker>> = [startEmitterTs, startAedes, startMosquitto];
const scenarios: Array<[string, Scenario, number]> = [
  ['fan-in 8 -> 1, QoS 0', fanIn, 1],
  ['fan-out 1 -> 200', fanOut, 1],
  ['point-to-point, 200 pairs', pointToPoint, 1],
  ['wildcard, 1,000 + patterns', wildcard, 1],
  ['QoS 1 fan-in, 100 in flight x 8', qos1FanIn, 1],
  ['QoS 1 end to end, 8 -> 1 subscriber at QoS 1', qos1EndToEnd, 1],
  ['latency at 2,000 msg/s', latency, 1],
  [quick ? 'idle connections (2,000)' : 'idle connections (10,000)', idleConnections, quick ? 0.2 : 1],
];

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};
const fmt = (value: number | undefined, digits = 0): string =>
  value === undefined || Number.isNaN(value)
    ? '-'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const rows: string[] = [];
let printed = 0;
for (const [name, scenario, scale] of scenarios) {
  if (only && !only.some((prefix) => name.startsWith(prefix))) continue;
  const results = new Map<string, Result[]>();
  for (let rep = 0; rep < repetitions; rep++) {
    // Alternate the order so no broker always runs first (or on a warmer machine).
    const order = rep % 2 === 0 ? starters : [...starters].reverse();
    for (const start of order) {
      const broker = await start();
      try {
        const result = await scenario(broker, seconds, scale);
        results.set(broker.name, [...(results.get(broker.name) ?? []), result]);
      } finally {
        await broker.stop();
      }
    }
  }
  const summary = (broker: string): Result & { value: number } => {
    const list = results.get(broker) ?? [];
    return {
      value: median(list.map((r) => r.value)),
      unit: list[0]?.unit ?? '',
      cpuPerMessage:
        list[0]?.cpuPerMessage === undefined ? undefined : median(list.map((r) => r.cpuPerMessage ?? 0)),
      generatorCpuPerMessage:
        list[0]?.generatorCpuPerMessage === undefined
          ? undefined
          : median(list.map((r) => r.generatorCpuPerMessage ?? 0)),
      lost: list[0]?.lost === undefined ? undefined : median(list.map((r) => r.lost ?? 0)),
      detail: list
        .map((r) => r.detail)
        .filter(Boolean)
        .join('; '),
    };
  };
  const ours = summary('emitter-ts');
  const aedes = summary('aedes');
  const mosquitto = summary('mosquitto');
  const digits = ours.unit === 'msg/s' ? 0 : ours.unit === 'KiB/conn' ? 1 : 3;
  const cell = (r: Result & { value: number }): string =>
    `${fmt(r.value, digits)}${r.cpuPerMessage === undefined ? '' : ` (${fmt(r.cpuPerMessage, r.cpuPerMessage < 1 ? 2 : 1)} µs)`}`;
  // Broker CPU per message, emitter-ts ÷ peer (the targets are <= 1/3 of Aedes' and <= Mosquitto's).
  const cpuRatio = (peer: Result): string =>
    ours.cpuPerMessage === undefined || !peer.cpuPerMessage
      ? '-'
      : fmt(ours.cpuPerMessage / peer.cpuPerMessage, 2);
  rows.push(
    `| ${name} | ${ours.unit} | ${cell(ours)} | ${cell(aedes)} | ${cell(mosquitto)} | ${fmt(ours.value / aedes.value, 2)} | ${fmt(
      ours.value / mosquitto.value,
      2,
    )} | ${cpuRatio(aedes)} / ${cpuRatio(mosquitto)} | ${fmt(ours.generatorCpuPerMessage, 1)} | ${[ours, aedes, mosquitto].map((r) => fmt(r.lost)).join(' / ')} |`,
  );
  if (ours.detail || aedes.detail || mosquitto.detail) {
    rows.push(
      `| ↳ detail | | ${ours.detail || '-'} | ${aedes.detail || '-'} | ${mosquitto.detail || '-'} | | | | | |`,
    );
  }
  console.log(rows.slice(printed).join('\n'));
  printed = rows.length;
}

const machine = `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
const mosquittoVersion =
  /mosquitto version (\S+)/.exec(
    spawnSync('/usr/sbin/mosquitto', ['-h'], { encoding: 'utf8' }).stdout,
  )?.[1] ?? 'Debian package';
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; mosquitto: ${mosquittoVersion}; ${repetitions} alternating run(s) of ${seconds} s per broker and scenario, medians.`,
  '',
  '| scenario | unit | emitter-ts (broker CPU/msg) | Aedes | Mosquitto | ÷ Aedes | ÷ Mosquitto | CPU/msg ÷ Aedes / ÷ Mosquitto | generator CPU/msg (µs, emitter-ts run) | lost (ours / Aedes / Mosquitto) |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  'Ratios are emitter-ts ÷ peer: above 1 is better for rates, below 1 is better for latency, KiB per connection and CPU per message.',
].join('\n');
const stored = await measureStorage(seconds);
const storageTable = [
  '',
  `Stored messages, emitter-ts only (Aedes and Mosquitto have no per-message ttl storage): QoS 1 publishes with \`?ttl=3600\`, 4 publishers x 100 in flight, ${seconds} s; then ${'`last=100`'} replays, 50 times.`,
  '',
  '| provider | stored msg/s (acked) | `last=100` p50 ms | p99 ms |',
  '|---|---|---|---|',
  ...stored.map((f) => `| ${f.provider} | ${fmt(f.storedPerSecond)} | ${fmt(f.p50, 2)} | ${fmt(f.p99, 2)} |`),
].join('\n');
console.log(storageTable);
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/latest.md', import.meta.url), `${table}\n${storageTable}\n`);
console.log(`\n${table}\n${storageTable}`);
process.exit(0);
