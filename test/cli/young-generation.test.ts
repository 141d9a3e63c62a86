import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

// In a process of its own: V8's flags and young generation are per process, and the test runner's own
// young generation may already be at its maximum.
const MODULE = fileURLToPath(new URL('../../src/cli/young-generation.ts', import.meta.url));
const SCRIPT = `
import v8 from 'node:v8';
const { governYoungGeneration } = await import(${JSON.stringify(MODULE)});
const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const kept = [];
// Objects that survive: what accepting connections makes; some 10 MB of them, well past a young generation held at its initial size.
const survive = () => { for (let i = 0; i < 50000; i++) kept.push({ i, list: [i, i + 1], text: 'x' + i }); };
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let messages = 0;
const stop = governYoungGeneration(() => messages, { intervalMs: 20, busyRate: 1000 });
const start = young();
survive();
await wait(60);
const idle = young();
// Busy: 100 messages per 20 ms tick is 5,000 msg/s, over the busyRate of 1,000.
const ticker = setInterval(() => (messages += 100), 5);
await wait(100);
survive();
await wait(60);
const busy = young();
clearInterval(ticker);
stop();
process.stdout.write(JSON.stringify({ start, idle, busy }));
`;

async function youngGenerationSizes(flags: string[]): Promise<{ start: number; idle: number; busy: number }> {
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  assert.equal(code, 0);
  return JSON.parse(out) as { start: number; idle: number; busy: number };
}

test('the CLI keeps the young generation from growing while the broker is idle, and lets it grow when busy', async () => {
  const { start, idle, busy } = await youngGenerationSizes([]);
  assert.equal(idle, start, 'no growth while idle, however much survives');
  assert.ok(busy > idle, `grows once busy (${idle} -> ${busy} bytes)`);
});

test('a young-generation flag given to node is left alone', async () => {
  const { start, idle } = await youngGenerationSizes(['--semi-space-growth-factor=2']);
  assert.ok(idle > start, `V8's own growth while idle (${start} -> ${idle} bytes)`);
});
