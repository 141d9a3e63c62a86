// The offline-queue drain of emitter-ts alone, on each session store, alternating rounds:
// `npm run build && node --import tsx bench/drain.bench.ts [rounds] [messages]`. Prints each run's
// drain rate, broker CPU per message (queueing and draining) and RSS; the full comparison with the
// other brokers is the `offline queue drain` row of `npm run bench`.
import { startEmitterTs, startEmitterTsSsd, type RunningBroker } from './compare/brokers.js';
import { offlineDrain } from './compare/scenarios.js';

const rounds = Number(process.argv[2] ?? 3);
const messages = Number(process.argv[3] ?? 100_000);
const stores: Array<[string, () => Promise<RunningBroker>]> = [
  ['ssd', startEmitterTsSsd],
  ['inmemory', () => startEmitterTs()],
];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? stores : [...stores].reverse();
  for (const [name, start] of order) {
    const broker = await start();
    try {
      const result = await offlineDrain(broker, 0, messages / 100_000);
      console.log(
        `${name}: ${Math.round(result.value).toLocaleString('en-US')} msg/s, drain ${result.cpuPerMessage?.toFixed(1)} µs CPU/msg, lost ${result.lost}; ${result.detail}`,
      );
    } finally {
      await broker.stop();
    }
  }
}
