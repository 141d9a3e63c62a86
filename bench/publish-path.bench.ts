// In-process micro-benchmark of the publish path below the socket: authorise, match, encode, hand the
// packet to each subscriber's connection (a stand-in that counts bytes). For comparing two builds of the
// delivery code without network noise (each build and size in a process of its own, alternating):
// `npm run build && node --import tsx bench/publish-path.bench.ts [dist-dir ...]` (default: this dist).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const DURATION_MS = 1500;

interface Built {
  readonly publish: () => void;
  readonly bytes: () => number;
}

// A subscriber whose connection only counts what it is given, in the build's delivery contract (before,
// deliver(packet: Buffer); after, deliver(delivery, qos)). Like the broker's sessions, it is its own QoS 0
// subscription (`subscriber`, `qos`), which the earlier build simply ignores.
class FakeSession {
  readonly username = '';
  readonly subscriptions = new Map();
  readonly links = new Map();
  readonly deliver: (value: never) => void;
  constructor(
    readonly id: string,
    counter: { bytes: number },
    messages: boolean,
  ) {
    this.deliver = messages
      ? (delivery: { packet(qos: number, version: number): Buffer }) => {
          counter.bytes += delivery.packet(0, 4).length;
        }
      : (packet: Buffer) => {
          counter.bytes += packet.length;
        };
  }
  get clientId(): string {
    return this.id;
  }
  get subscriber(): this {
    return this;
  }
  get qos(): 0 {
    return 0;
  }
  holdDeliveries() {
    return { release() {}, replay() {} };
  }
  sendJson() {}
}

async function build(dist: string, subscribers: number): Promise<Built> {
  const load = async <T>(path: string): Promise<T> =>
    (await import(pathToFileURL(join(dist, path)).href)) as T;
  const channel = await load<{
    parseChannel(topic: string): { query: number[] };
    ssidOf(contract: number, query: number[]): number[];
    SubscriptionTrie: new () => { subscribe(ssid: number[], s: object): boolean };
  }>('channel/index.js');
  const security = await load<{
    generateLicense(): { license: { newMasterKey(): string; contract: number } };
    KeyAuthority: new (license: object) => { createKey(o: object): { key: string } };
  }>('security/index.js');
  const { PubSub } = await load<{
    PubSub: new (deps: object) => { publish(sender: undefined, channel: object, payload: Buffer): unknown };
  }>('services/pubsub/pubsub.js');
  const { InMemoryStorage } = await load<{ InMemoryStorage: new () => object }>('storage/index.js');
  const { license } = security.generateLicense();
  const authority = new security.KeyAuthority(license);
  const { key } = authority.createKey({
    secret: license.newMasterKey(),
    channel: 'bench/#/',
    type: 'rw',
    ttl: 0,
  });
  const trie = new channel.SubscriptionTrie();
  const counter = { bytes: 0 };
  const messages = existsSync(join(dist, 'mqtt/delivery.js'));
  const parsed = channel.parseChannel(`${key}/bench/fan/`);
  for (let i = 0; i < subscribers; i++)
    trie.subscribe(
      channel.ssidOf(license.contract, parsed.query),
      new FakeSession(`s${i}`, counter, messages),
    );
  const pubsub = new PubSub({ authority, trie, storage: new InMemoryStorage() });
  const payload = Buffer.alloc(64, 0x61);
  return { publish: () => void pubsub.publish(undefined, parsed, payload), bytes: () => counter.bytes };
}

function measure(built: Built): number {
  for (let i = 0; i < 20_000; i++) built.publish();
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    for (let i = 0; i < 1000; i++) built.publish();
    count += 1000;
  }
  return ((performance.now() - start) * 1000) / count; // µs per publish
}

// Each build and size runs in a process of its own (the JIT must not mix them); the order alternates.
if (process.argv[2] === '--one') {
  const built = await build(process.argv[3], Number(process.argv[4]));
  console.log(measure(built).toFixed(3));
} else {
  const dists = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const list = dists.length > 0 ? dists : [join(root, 'dist')];
  const rounds = 3;
  for (const subscribers of [1, 200]) {
    const results = new Map<string, number[]>();
    for (let round = 0; round < rounds; round++) {
      for (const dist of round % 2 === 0 ? list : [...list].reverse()) {
        const run = spawnSync(
          process.execPath,
          ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', dist, String(subscribers)],
          { encoding: 'utf8' },
        );
        results.set(dist, [...(results.get(dist) ?? []), Number(run.stdout.trim())]);
      }
    }
    for (const [dist, values] of results) {
      const sorted = [...values].sort((a, b) => a - b);
      console.log(
        `${subscribers} subscriber(s), ${dist}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(3)} µs per publish (${values.map((v) => v.toFixed(2)).join(', ')})`,
      );
    }
  }
}
