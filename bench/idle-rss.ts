// RSS per idle subscribed connection, A/B: alternating runs of emitter-ts builds (and node options) and a
// bare Node `net` server holding the same sockets, the harness's idle scenario each time.
//   npm run build && node --import tsx bench/idle-rss.ts [--count 5000] [--reps 3] [--base <dist>] [--node-options "<flags>"]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBareNet, startEmitterTs, type RunningBroker } from './compare/brokers.js';
import { idleConnections } from './compare/scenarios.js';

const arg = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const count = Number(arg('count', '5000'));
const reps = Number(arg('reps', '3'));
const base = arg('base', '');
const nodeOptions = arg('node-options', '');
const current = join(fileURLToPath(new URL('../', import.meta.url)), 'dist');
const targets: Array<[string, () => Promise<RunningBroker>]> = [['node-net', startBareNet]];
if (base) targets.push(['base', () => startEmitterTs({}, base)]);
targets.push(['this', () => startEmitterTs({}, current)]);
if (nodeOptions)
  targets.push([`this ${nodeOptions}`, () => startEmitterTs({ NODE_OPTIONS: nodeOptions }, current)]);
const results = new Map<string, number[]>();
for (let rep = 0; rep < reps; rep++) {
  for (const [label, start] of rep % 2 === 0 ? targets : [...targets].reverse()) {
    const broker = await start();
    try {
      const result = await idleConnections(broker, 0, count / 10000);
      results.set(label, [...(results.get(label) ?? []), result.value]);
      console.log(`${rep} ${label}: ${result.value.toFixed(2)} KiB/conn`);
    } finally {
      await broker.stop();
    }
  }
}
console.log(`\n| target | KiB RSS per idle subscribed connection (${count}), median (min-max) |\n|---|---|`);
for (const [label, values] of results) {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(
    `| ${label} | ${sorted[Math.floor((sorted.length - 1) / 2)].toFixed(2)} (${sorted[0].toFixed(2)}-${sorted[sorted.length - 1].toFixed(2)}) |`,
  );
}
process.exit(0);
