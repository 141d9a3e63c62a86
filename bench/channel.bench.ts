/**
 * Channel hot-path micro-benchmark: parse + match of a 3-level topic with a 32-character key, the work
 * every PUBLISH does. Run with `npx tsx bench/channel.bench.ts`; it takes about five seconds.
 */

import { performance } from 'node:perf_hooks';
import { forEachRecipient, parseChannel, ssidOf, SubscriptionTrie } from '../src/channel/index.js';

interface Sub {
  readonly id: string;
}

const KEY = 'xm54Sj0srWlSEctra-yU6ZA6Z2e6pp7c';
const TOPIC = `${KEY}/sensors/building-7/temperature/`;
const CONTRACT = 0x11248139;
const DURATION_MS = 700;

function populate(cacheLimit?: number): SubscriptionTrie<Sub> {
  const trie = new SubscriptionTrie<Sub>('emitter', { cacheLimit });
  // 5,000 unrelated subscriptions, then the few that the benchmark topic reaches.
  for (let i = 0; i < 5000; i++) {
    const channel = parseChannel(`${KEY}/room-${i % 50}/device-${i}/+/`);
    trie.subscribe(ssidOf(CONTRACT, channel.query), { id: `c${i}` });
  }
  for (const [id, channel] of [
    ['all', 'sensors/'],
    ['building', 'sensors/building-7/'],
    ['wild', 'sensors/+/temperature/'],
    ['member1', '$share/workers/sensors/'],
    ['member2', '$share/workers/sensors/'],
  ]) {
    trie.subscribe(ssidOf(CONTRACT, parseChannel(`${KEY}/${channel}`).query), { id });
  }
  return trie;
}

let sink = 0;
function measure(name: string, run: () => number): void {
  for (let i = 0; i < 50_000; i++) sink += run(); // warm up so the optimised code is measured
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < DURATION_MS) {
    for (let i = 0; i < 10_000; i++) sink += run();
    ops += 10_000;
    elapsed = performance.now() - start;
  }
  const perSecond = (ops / elapsed) * 1000;
  console.log(`${name.padEnd(44)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} ops/s`);
}

const trie = populate();
const uncached = populate(1);
const query = parseChannel(TOPIC).query;
const other = parseChannel(`${KEY}/sensors/building-8/humidity/`).query;
let flip = false;
const noop = () => {};

console.log(`topic: ${TOPIC} (${process.version})`);
measure('parseChannel', () => parseChannel(TOPIC).query.length);
measure('matchChannel (cached)', () => trie.matchChannel(CONTRACT, query).subscribers.length);
measure('match(ssidOf(...)) (cached)', () => trie.match(ssidOf(CONTRACT, query)).subscribers.length);
// A cache of one entry and two alternating topics: every call walks the trie.
measure('matchChannel (cache miss every call)', () => {
  flip = !flip;
  return uncached.matchChannel(CONTRACT, flip ? other : query).subscribers.length;
});
measure('parse + matchChannel + forEachRecipient', () => {
  const channel = parseChannel(TOPIC);
  return forEachRecipient(trie.matchChannel(CONTRACT, channel.query), noop);
});
if (sink === 42) console.log('');
