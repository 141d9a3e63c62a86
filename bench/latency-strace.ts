// Syscalls per message at 2,000 msg/s: `strace -c -f` attached to the broker for one latency run.
//   npm run build && node --import tsx bench/latency-strace.ts [dist | mosquitto]
import { spawn, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { startEmitterTs, startMosquitto } from './compare/brokers.js';
import type { LatencyJob, LatencyReport } from './latency-client.js';

const target = process.argv[2] ?? join(fileURLToPath(new URL('../', import.meta.url)), 'dist');
const broker =
  target === 'mosquitto' ? await startMosquitto({ noDelay: true }) : await startEmitterTs({}, target);
const child = fork(fileURLToPath(new URL('./latency-client.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx'],
});
const job: LatencyJob = { port: broker.port, topic: broker.topic('bench/latency/'), seconds: 2, rate: 2000 };
child.send(job);
await once(child, 'message');
const strace = spawn('strace', ['-c', '-f', '-p', String(broker.pid)], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let out = '';
strace.stderr.on('data', (c: Buffer) => (out += c.toString()));
await new Promise((r) => setTimeout(r, 300));
child.send('go');
const [report] = (await once(child, 'message')) as [LatencyReport];
strace.kill('SIGINT');
await once(strace, 'exit');
console.log(out);
console.log(
  `received ${report.received}; p50 ${report.p50.toFixed(3)} p99 ${report.p99.toFixed(3)} (under strace)`,
);
child.kill();
await broker.stop();
process.exit(0);
