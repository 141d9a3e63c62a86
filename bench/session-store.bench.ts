/**
 * Session store benchmark: the QoS 1 delivery path of a persistent session, per provider (inmemory, ssd,
 * redis on a local redis-server, and on a 3-master Redis Cluster when `--cluster` is given). One message
 * is an enqueue, a markSent and an acknowledge (PUBACK); the figure is messages per second, and calls per
 * second is three times that.
 * - one session, each call awaited: the latency-bound case (ssd: a commit per call; redis: a round trip);
 * - one session, each message enqueued as sent (with its packet id) and acknowledged, 20 in flight and
 *   nothing else awaited: what a caller that relies on the store's per-session call order gets;
 * - 100 sessions at once, each awaiting its own calls: a fan-out to 100 persistent subscribers;
 * - bursts of 1000 enqueues to 10 sessions, then 1000 markSent + acknowledge, nothing awaited in between:
 *   an offline queue filling, then draining.
 * With `ssd`, a batch of only `acknowledge` calls commits `LAZY_COMMIT_MS` late (see ssd.ts): the phases
 * that await acknowledgements wait for that, which the broker never does (nothing waits on a drain's
 * bookkeeping), so their ssd rates are latency-bound; read the CPU figures.
 * Each phase runs about `PHASE_MS`; 64-byte payloads. Beside each rate: CPU microseconds per message
 * of this process (the broker's share) and, for standalone redis, of redis-server too: on a busy machine
 * the rates move with the load, the CPU figures much less. Run with `npm run bench:sessions` (add
 * `-- --cluster` for a 3-master Redis Cluster too).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSessionStore, type QueuedMessage, type SessionStore } from '../src/storage/sessions/index.js';
import { Redis } from 'ioredis';
import { startRedis, startRedisCluster, type RedisClusterHandle } from '../test/helpers/redis.js';

const PHASE_MS = 2000;
const SESSIONS = 100;
const BURST = 1000;
const BURST_SESSIONS = 10;
const WINDOW = 20;
const payload = Buffer.alloc(64, 0x61);
const message: QueuedMessage = { topic: 'bench/qos1/', payload, qos: 1, retain: false };

type Opener = () => SessionStore;
/** Microseconds of CPU a server process has used so far, for providers that have one. */
type ServerCpu = () => Promise<number>;

// Packet ids per session, as a connection hands them out.
class PacketIds {
  private next = 0;
  take(): number {
    this.next = (this.next % 65535) + 1;
    return this.next;
  }
}

async function cycle(store: SessionStore, clientId: string, ids: PacketIds): Promise<void> {
  const { seq } = await store.enqueue(clientId, message);
  const packetId = ids.take();
  await store.markSent(clientId, seq ?? 0, packetId);
  if (!(await store.acknowledge(clientId, packetId))) throw new Error('acknowledge found nothing');
}

interface Figures {
  readonly count: number;
  readonly ms: number;
}

async function timed(run: () => Promise<number>): Promise<Figures> {
  const start = performance.now();
  const count = await run();
  return { count, ms: performance.now() - start };
}

async function oneSession(store: SessionStore): Promise<Figures> {
  const ids = new PacketIds();
  return timed(async () => {
    let count = 0;
    const start = performance.now();
    while (performance.now() - start < PHASE_MS) {
      for (let i = 0; i < 50; i++, count++) await cycle(store, 'solo', ids);
    }
    return count;
  });
}

// The path a caller can take when a message goes out at once: enqueue it as sent with its packet id
// and acknowledge it by that id, nothing awaited but the window (a session's calls keep their order).
async function oneSessionPipelined(store: SessionStore): Promise<Figures> {
  const ids = new PacketIds();
  return timed(async () => {
    let count = 0;
    const start = performance.now();
    while (performance.now() - start < PHASE_MS) {
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < WINDOW; i++, count++) {
        const packetId = ids.take();
        calls.push(store.enqueue('solo', message, packetId), store.acknowledge('solo', packetId));
      }
      await Promise.all(calls);
    }
    return count;
  });
}

async function manySessions(store: SessionStore): Promise<Figures> {
  return timed(async () => {
    let count = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: SESSIONS }, async (_, s) => {
        const ids = new PacketIds();
        while (performance.now() - start < PHASE_MS) {
          await cycle(store, `many-${s}`, ids);
          count++;
        }
      }),
    );
    return count;
  });
}

async function bursts(store: SessionStore): Promise<Figures> {
  const ids = Array.from({ length: BURST_SESSIONS }, () => new PacketIds());
  return timed(async () => {
    let count = 0;
    const start = performance.now();
    while (performance.now() - start < PHASE_MS) {
      const enqueued = await Promise.all(
        Array.from({ length: BURST }, (_, i) => store.enqueue(`burst-${i % BURST_SESSIONS}`, message)),
      );
      const acks: Promise<boolean>[] = [];
      enqueued.forEach(({ seq }, i) => {
        const session = i % BURST_SESSIONS;
        const packetId = ids[session].take();
        void store.markSent(`burst-${session}`, seq ?? 0, packetId);
        acks.push(store.acknowledge(`burst-${session}`, packetId));
      });
      if (!(await Promise.all(acks)).every(Boolean)) throw new Error('acknowledge found nothing');
      count += BURST;
    }
    return count;
  });
}

async function measure(open: Opener, serverCpu?: ServerCpu): Promise<string[]> {
  const out: string[] = [];
  for (const phase of [oneSession, oneSessionPipelined, manySessions, bursts]) {
    const store = open();
    try {
      const server = await serverCpu?.();
      const cpu = process.cpuUsage();
      const { count, ms } = await phase(store);
      const used = process.cpuUsage(cpu);
      const perMessage = (us: number) => (us / count).toFixed(1);
      let text = `${Math.round((count / ms) * 1000).toLocaleString('en-US')} msg/s, ${perMessage(used.user + used.system)}`;
      if (serverCpu && server !== undefined) text += ` + ${perMessage((await serverCpu()) - server)}`;
      out.push(`${text} us`);
    } finally {
      await store.close();
    }
  }
  return out;
}

const dirs: string[] = [];
const redis = await startRedis();
const admin = new Redis(redis.url);
const redisCpu: ServerCpu = async () => {
  const info = await admin.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6;
};
let cluster: RedisClusterHandle | undefined;
try {
  const providers: [string, Opener, ServerCpu?][] = [
    ['inmemory', () => createSessionStore('inmemory')],
    [
      'ssd',
      () => {
        const dir = mkdtempSync(join(tmpdir(), 'emitter-bench-sessions-'));
        dirs.push(dir);
        return createSessionStore('ssd', {}, { dir });
      },
    ],
    [
      'redis',
      () => createSessionStore('redis', {}, { url: redis.url, prefix: `bench:${Math.random()}:` }),
      redisCpu,
    ],
  ];
  if (process.argv.includes('--cluster')) {
    const seeds = (cluster = await startRedisCluster(3)).urls;
    providers.push([
      'redis cluster',
      () => createSessionStore('redis', {}, { cluster: seeds, prefix: `bench:${Math.random()}:` }),
    ]);
  }
  const rows = [
    '1 session, each call awaited',
    `1 session, enqueue as sent + ack, ${WINDOW} in flight`,
    `${SESSIONS} sessions at once`,
    `bursts of ${BURST} over ${BURST_SESSIONS} sessions`,
  ];
  const results = new Map<string, string[]>();
  for (const [name, open, serverCpu] of providers) results.set(name, await measure(open, serverCpu));
  const width = Math.max(...rows.map((r) => r.length));
  console.log(
    `session store benchmark: one message = enqueue + markSent + acknowledge (or enqueue as sent + ` +
      `acknowledge); msg/s, CPU per message ` +
      `(this process + redis-server) (${process.version}, ${process.platform}/${process.arch})`,
  );
  console.log(`${''.padEnd(width)}${[...results.keys()].map((n) => n.padStart(34)).join('')}`);
  rows.forEach((row, i) => {
    console.log(`${row.padEnd(width)}${[...results.values()].map((r) => r[i].padStart(34)).join('')}`);
  });
} finally {
  admin.disconnect();
  await redis.stop();
  await cluster?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
