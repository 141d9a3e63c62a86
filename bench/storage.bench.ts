/**
 * Storage benchmark: store throughput (64 B and 1 KiB payloads, each store awaited before the next, and
 * pipelined in bursts of 1000) and `last=100` query latency among 1000 channels holding 100,000 messages
 * (one channel, the prefix of all of them, and a first-level wildcard), for the inmemory and ssd
 * providers. Run with `npx tsx bench/storage.bench.ts`; it takes about 15 seconds and prints a table.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashLevel } from '../src/channel/hash.js';
import type { Ssid } from '../src/channel/ssid.js';
import { createMessage, MessageIdGenerator, type StoredMessage } from '../src/storage/message.js';
import { createStorage, type Storage } from '../src/storage/storage.js';

const CONTRACT = 0x11248139;
const CHANNELS = 1000;
const POPULATION = 100_000;
const PHASE_MS = 1000;
const BURST = 1000;
const QUERIES = 5000;

type Provider = 'inmemory' | 'ssd';
const dirs: string[] = [];
const ids = new MessageIdGenerator();

function open(provider: Provider): Storage {
  if (provider === 'inmemory') return createStorage('inmemory', { maxBytes: 512 * 1024 * 1024 });
  const dir = mkdtempSync(join(tmpdir(), 'emitter-bench-'));
  dirs.push(dir);
  return createStorage('ssd', { dir });
}

const channelSsids: Ssid[] = Array.from({ length: CHANNELS }, (_, i) => [
  CONTRACT,
  hashLevel('bench'),
  hashLevel(`ch-${i}`),
]);

function message(i: number, payload: Buffer): StoredMessage {
  const channel = i % CHANNELS;
  return createMessage(
    { ssid: channelSsids[channel], channel: `bench/ch-${channel}/`, payload, ttl: 3600 },
    { ids },
  );
}

async function storeRate(provider: Provider, size: number, pipelined: boolean): Promise<number> {
  const storage = open(provider);
  const payload = Buffer.alloc(size, 0x61);
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < PHASE_MS) {
    if (pipelined) {
      const writes: Promise<void>[] = [];
      for (let i = 0; i < BURST; i++) writes.push(storage.store(message(count++, payload)));
      await Promise.all(writes);
    } else {
      for (let i = 0; i < 100; i++) await storage.store(message(count++, payload));
    }
  }
  const rate = (count / (performance.now() - start)) * 1000;
  await storage.close();
  return rate;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function queryLatency(storage: Storage, pattern: (i: number) => Ssid): Promise<[number, number]> {
  const times: number[] = [];
  const phaseStart = performance.now();
  for (let i = 0; i < QUERIES && performance.now() - phaseStart < PHASE_MS; i++) {
    const ssid = pattern(i);
    const start = performance.now();
    const found = await storage.query(ssid, { limit: 100 });
    times.push(performance.now() - start);
    if (found.length !== 100) throw new Error(`expected 100 messages, got ${found.length}`);
  }
  times.sort((a, b) => a - b);
  return [percentile(times, 50), percentile(times, 99)];
}

async function measure(provider: Provider): Promise<Map<string, string>> {
  const rows = new Map<string, string>();
  const rate = (n: number) => `${Math.round(n).toLocaleString('en-US')} msg/s`;
  const ms = ([p50, p99]: [number, number]) => `${p50.toFixed(3)} / ${p99.toFixed(3)} ms`;
  rows.set('store 64 B, awaited one by one', rate(await storeRate(provider, 64, false)));
  rows.set('store 64 B, pipelined x1000', rate(await storeRate(provider, 64, true)));
  rows.set('store 1 KiB, awaited one by one', rate(await storeRate(provider, 1024, false)));
  rows.set('store 1 KiB, pipelined x1000', rate(await storeRate(provider, 1024, true)));

  const storage = open(provider);
  const payload = Buffer.alloc(64, 0x62);
  const start = performance.now();
  for (let i = 0; i < POPULATION; i += BURST) {
    const writes: Promise<void>[] = [];
    for (let j = i; j < i + BURST; j++) writes.push(storage.store(message(j, payload)));
    await Promise.all(writes);
  }
  rows.set(
    `load ${POPULATION.toLocaleString('en-US')} msgs / ${CHANNELS} channels`,
    `${Math.round(performance.now() - start)} ms`,
  );
  const random = (i: number) => (i * 7919) % CHANNELS;
  rows.set(
    'last=100 on one channel, p50 / p99',
    ms(await queryLatency(storage, (i) => channelSsids[random(i)])),
  );
  const prefix: Ssid = [CONTRACT, hashLevel('bench')];
  rows.set('last=100 on bench/ (all channels), p50 / p99', ms(await queryLatency(storage, () => prefix)));
  const wildcards: Ssid[] = channelSsids.map((ssid) => [CONTRACT, hashLevel('+'), ssid[2]]);
  rows.set('last=100 on +/ch-N/, p50 / p99', ms(await queryLatency(storage, (i) => wildcards[random(i)])));
  await storage.close();
  return rows;
}

try {
  const inmemory = await measure('inmemory');
  const ssd = await measure('ssd');
  const width = Math.max(...[...inmemory.keys()].map((k) => k.length));
  console.log(`storage benchmark (${process.version}, ${process.platform}/${process.arch})`);
  console.log(`${''.padEnd(width)}  ${'inmemory'.padStart(22)}  ${'ssd'.padStart(22)}`);
  for (const [name, value] of inmemory) {
    console.log(`${name.padEnd(width)}  ${value.padStart(22)}  ${(ssd.get(name) ?? '').padStart(22)}`);
  }
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
