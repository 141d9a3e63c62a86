// Stored publishes (`?ttl=`) and `last=100` replays on each storage provider of emitter-ts. The peers have
// no per-message ttl storage, so this table has no ratios.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../../test/helpers/redis.js';
import { startEmitterTs } from './brokers.js';
import { RawClient } from './raw-client.js';
import { clients, qos1Pump } from './scenarios.js';

/** One provider's figures. */
export interface StorageFigures {
  readonly provider: string;
  /** QoS 1 stored publishes acknowledged per second (an ack means "stored"). */
  readonly storedPerSecond: number;
  /** Time from SUBSCRIBE `?last=100` to the 100th replayed message, ms. */
  readonly p50: number;
  readonly p99: number;
}

const REPLAYS = 50;

/** Measures every provider in turn; redis through a redis-server started for the run. */
export async function measureStorage(seconds: number): Promise<StorageFigures[]> {
  const figures: StorageFigures[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bench-ssd-'));
  const redis = await startRedis();
  try {
    const providers: Array<[string, Record<string, string>]> = [
      ['inmemory', { EMITTER_STORAGE_PROVIDER: 'inmemory' }],
      ['ssd', { EMITTER_STORAGE_PROVIDER: 'ssd', EMITTER_STORAGE_CONFIG_DIR: dir }],
      ['redis', { EMITTER_STORAGE_PROVIDER: 'redis', EMITTER_STORAGE_CONFIG_URL: redis.url }],
    ];
    for (const [provider, env] of providers) {
      const broker = await startEmitterTs(env);
      try {
        const publishers = await clients(broker, 4, `st-${provider}-`);
        const started = Date.now();
        const acked = await qos1Pump(
          publishers,
          (p) => broker.topic(`bench/stored/${p}/?ttl=3600`),
          started + seconds * 1000,
        );
        const storedPerSecond = acked / ((Date.now() - started) / 1000);
        for (const publisher of publishers) publisher.close();

        const reader = await RawClient.connect(broker.port, `st-reader-${provider}`);
        const samples: number[] = [];
        for (let i = 0; i < REPLAYS; i++) {
          const topic = broker.topic(`bench/stored/${i % 4}/?last=100`);
          const base = reader.received;
          const begin = process.hrtime.bigint();
          let done: () => void = () => {};
          const hundred = new Promise<void>((resolve) => (done = resolve));
          reader.onPublish = () => {
            if (reader.received - base >= 100) done();
          };
          await reader.subscribe(topic);
          await Promise.race([hundred, new Promise((resolve) => setTimeout(resolve, 5000))]);
          samples.push(Number(process.hrtime.bigint() - begin) / 1e6);
          await reader.unsubscribe(topic);
        }
        reader.close();
        samples.sort((a, b) => a - b);
        figures.push({
          provider,
          storedPerSecond,
          p50: samples[Math.floor(samples.length * 0.5)],
          p99: samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))],
        });
      } finally {
        await broker.stop();
      }
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
