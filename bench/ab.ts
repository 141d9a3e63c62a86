// A/B benchmark of two emitter-ts builds in the same run, alternating, for changes that must not slow the
// QoS 0 paths: `npm run build && node --import tsx bench/ab.ts <other-dist-dir> [reps] [scenario,...]`. The other build
// is, for instance, `git archive <commit> | tar -x -C /tmp/base && (cd /tmp/base && npx tsc -p tsconfig.build.json)`.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmitterTs } from './compare/brokers.js';
import {
  fanIn,
  fanInAt,
  fanOut,
  fanOutAt,
  idleConnections,
  pointToPoint,
  qos1EndToEnd,
  wildcard,
  type Result,
  type Scenario,
} from './compare/scenarios.js';

const other = process.argv[2];
if (!other) throw new Error('usage: bench/ab.ts <other-dist-dir> [repetitions]');
const repetitions = Number(process.argv[3] ?? 3);
const seconds = 2;
const current = join(fileURLToPath(new URL('../', import.meta.url)), 'dist');
const builds: Array<[string, string]> = [
  ['base', other],
  ['this', current],
];
const scenarios: Array<[string, Scenario, number]> = [
  ['fan-out 1 -> 200, QoS 0', fanOut, 1],
  ['fan-in 8 -> 1, QoS 0', fanIn, 1],
  ['fan-out 1 -> 200, MQTT 5', fanOutAt(5), 1],
  ['fan-in 8 -> 1, MQTT 5', fanInAt(5), 1],
  ['point-to-point, 200 pairs', pointToPoint, 1],
  ['wildcard, 1,000 + patterns', wildcard, 1],
  ['idle connections (2,000)', idleConnections, 0.2],
  ['QoS 1 end to end, 8 -> 1', qos1EndToEnd, 1],
];
// Optional third argument: a comma-separated list of scenario name prefixes to run.
const only = process.argv[4]?.split(',');
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};
console.log(`| scenario | unit | base (CPU µs/msg) | this (CPU µs/msg) | this ÷ base |`);
console.log('|---|---|---|---|---|');
for (const [name, scenario, scale] of scenarios) {
  if (only && !only.some((prefix) => name.startsWith(prefix))) continue;
  const results = new Map<string, Result[]>();
  for (let rep = 0; rep < repetitions; rep++) {
    const order = rep % 2 === 0 ? builds : [...builds].reverse();
    for (const [label, dist] of order) {
      // AB_BASE_NODE_OPTIONS / AB_THIS_NODE_OPTIONS: node options of each side (same build, other flags).
      const nodeOptions = process.env[label === 'base' ? 'AB_BASE_NODE_OPTIONS' : 'AB_THIS_NODE_OPTIONS'];
      const broker = await startEmitterTs(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}, dist);
      try {
        results.set(label, [...(results.get(label) ?? []), await scenario(broker, seconds, scale)]);
      } finally {
        await broker.stop();
      }
    }
  }
  const cell = (label: string): { value: number; cpu: number | undefined; text: string } => {
    const list = results.get(label) ?? [];
    const value = median(list.map((r) => r.value));
    const cpu =
      list[0]?.cpuPerMessage === undefined ? undefined : median(list.map((r) => r.cpuPerMessage ?? 0));
    return {
      value,
      cpu,
      text: `${value.toFixed(list[0]?.unit === 'msg/s' ? 0 : 2)}${cpu === undefined ? '' : ` (${cpu.toFixed(2)})`}`,
    };
  };
  const base = cell('base');
  const ours = cell('this');
  const unit = results.get('this')?.[0]?.unit ?? '';
  console.log(
    `| ${name} | ${unit} | ${base.text} | ${ours.text} | ${(ours.value / base.value).toFixed(2)} |`,
  );
}
