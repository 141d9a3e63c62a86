// The measuring client of bench/latency-ab.ts, in a process of its own: one publisher at a fixed rate (a
// 1 ms timer sends what the schedule has due, each message stamped right before its write) and one
// subscriber, which takes its clock as soon as the chunk holding a message is read.
import mqttPacket from 'mqtt-packet';
import { RawClient } from './compare/raw-client.js';

/** What the parent asks for. */
export interface LatencyJob {
  readonly port: number;
  readonly topic: string;
  readonly seconds: number;
  readonly rate: number;
}

/** What one run measured, in ms. */
export interface LatencyReport {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly received: number;
  readonly lost: number;
}

async function run(job: LatencyJob): Promise<void> {
  const subscriber = await RawClient.connect(job.port, 'lat-sub');
  await subscriber.subscribe(job.topic);
  const publisher = await RawClient.connect(job.port, 'lat-pub');
  const samples: number[] = [];
  subscriber.onPublish = (payload) => {
    samples.push(Number(process.hrtime.bigint() - payload.readBigUInt64BE(0)) / 1e6);
  };
  process.send?.('ready');
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const total = Math.round(job.rate * job.seconds);
  const started = Date.now();
  let sent = 0;
  const payload = Buffer.alloc(64);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - started) * job.rate) / 1000));
      for (; sent < due; sent++) {
        payload.writeBigUInt64BE(process.hrtime.bigint(), 0);
        publisher.socket.write(
          mqttPacket.generate({
            cmd: 'publish',
            topic: job.topic,
            payload,
            qos: 0,
            retain: false,
            dup: false,
          }),
        );
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  for (let i = 0; i < 50 && samples.length < total; i++) await new Promise((r) => setTimeout(r, 20));
  samples.sort((a, b) => a - b);
  const at = (q: number): number =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  const report: LatencyReport = {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: samples[samples.length - 1] ?? NaN,
    received: samples.length,
    lost: total - samples.length,
  };
  process.send?.(report);
  publisher.close();
  subscriber.close();
}

process.once('message', (job: LatencyJob) => void run(job));
