// Latency at 2,000 msg/s, A/B: many short alternating runs of two emitter-ts builds (and Mosquitto), so a
// shared, noisy machine still gives comparable distributions. Per run: p50, p90, p99, max, and the broker's
// CPU per message (a figure other processes on the machine disturb far less than wall-clock latency).
//   npm run build && node --import tsx bench/latency-ab.ts [--base <dist>] [--reps 10] [--seconds 2] [--mosquitto]
// The publisher and the subscriber run in a child process of their own (bench/latency-client.ts), so
// nothing else this process does (starting brokers, reading /proc) sits in the measured path.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMicros, startEmitterTs, startMosquitto, type RunningBroker } from './compare/brokers.js';
import type { LatencyJob, LatencyReport } from './latency-client.js';

const arg = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const reps = Number(arg('reps', '10'));
const seconds = Number(arg('seconds', '2'));
const rate = Number(arg('rate', '2000'));
const base = arg('base', '');
const current = join(fileURLToPath(new URL('../', import.meta.url)), 'dist');
const CLIENT = fileURLToPath(new URL('./latency-client.ts', import.meta.url));

const targets: Array<[string, () => Promise<RunningBroker>]> = [];
// BROKER_NODE_OPTIONS: node options for the emitter-ts processes (a probe preloaded with --import, say);
// PROBE_OUT=<prefix> is passed on as <prefix>-<label>.txt.
const brokerEnv = (label: string): Record<string, string> => {
  const env: Record<string, string> = {};
  if (process.env.BROKER_NODE_OPTIONS) env.NODE_OPTIONS = process.env.BROKER_NODE_OPTIONS;
  if (process.env.PROBE_OUT) env.PROBE_OUT = `${process.env.PROBE_OUT}-${label}.txt`;
  return env;
};
if (base) targets.push(['base', () => startEmitterTs(brokerEnv('base'), base)]);
targets.push(['this', () => startEmitterTs(brokerEnv('this'), current)]);
if (process.argv.includes('--mosquitto')) {
  targets.push(['mosquitto-nodelay', () => startMosquitto({ noDelay: true })]);
}

interface Run extends LatencyReport {
  readonly cpuPerMessage: number;
}
const runs = new Map<string, Run[]>();

async function measure(broker: RunningBroker): Promise<Run> {
  const child = fork(CLIENT, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const job: LatencyJob = { port: broker.port, topic: broker.topic('bench/latency/'), seconds, rate };
    const ready = once(child, 'message');
    child.send(job);
    await ready; // connected and subscribed
    const cpu0 = cpuMicros(broker.pid);
    const done = once(child, 'message');
    child.send('go');
    const [report] = (await done) as [LatencyReport];
    const cpu = cpuMicros(broker.pid) - cpu0;
    return { ...report, cpuPerMessage: cpu / Math.max(1, report.received) };
  } finally {
    child.kill('SIGKILL');
  }
}

for (let rep = 0; rep < reps; rep++) {
  const order = rep % 2 === 0 ? targets : [...targets].reverse();
  for (const [label, start] of order) {
    const broker = await start();
    try {
      const run = await measure(broker);
      runs.set(label, [...(runs.get(label) ?? []), run]);
      console.log(
        `${rep} ${label.padEnd(18)} p50 ${run.p50.toFixed(3)} p90 ${run.p90.toFixed(3)} p99 ${run.p99.toFixed(3)} max ${run.max.toFixed(2)} ms; ${run.cpuPerMessage.toFixed(1)} µs CPU/msg; lost ${run.lost}`,
      );
    } finally {
      await broker.stop();
    }
  }
}

const quantiles = (values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `${at(0.5).toFixed(3)} (${sorted[0].toFixed(3)}-${sorted[sorted.length - 1].toFixed(3)})`;
};
console.log('\n| target | p50 ms, median of runs (min-max) | p90 | p99 | broker CPU µs/msg |');
console.log('|---|---|---|---|---|');
for (const [label, list] of runs) {
  console.log(
    `| ${label} | ${quantiles(list.map((r) => r.p50))} | ${quantiles(list.map((r) => r.p90))} | ${quantiles(list.map((r) => r.p99))} | ${quantiles(list.map((r) => r.cpuPerMessage)).replace(/(\d+\.\d)\d\d/g, '$1')} |`,
  );
}
process.exit(0);
