import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import mqttPacket from 'mqtt-packet';
import { cpuMicros, machineCpuMicros, rssBytes, writeSyscalls, type RunningBroker } from './brokers.js';
import type {
  PublisherCommand,
  PublisherJob,
  PublisherMessage,
  PublisherReport,
} from './publisher-worker.js';
import type { SubscriberCount, SubscriberJob } from './subscriber-worker.js';
import type { DrainSubscriberJob, DrainSubscriberMessage } from './drain-subscriber-worker.js';
import { publishFrame, RawClient, withPacketId, type ProtocolLevel } from './raw-client.js';

/** What one scenario run measured. */
export interface Result {
  /** Messages (or deliveries) per second; for latency, p99 in ms; for idle, KiB per connection. */
  readonly value: number;
  readonly unit: string;
  /** Broker CPU per delivered message, microseconds (throughput scenarios). */
  readonly cpuPerMessage?: number;
  /** Load generator CPU per delivered message, microseconds: if close to the broker's, it was the bottleneck. */
  readonly generatorCpuPerMessage?: number;
  readonly lost?: number;
  /** Latency runs: the median, ms (the value is the p99). */
  readonly p50?: number;
  /** Broker CPU seconds per second of the run: near 1.0 a single-threaded broker was the limit. */
  readonly brokerBusy?: number;
  /** Generator CPU seconds per second (all its processes): near the cores left over, it was the limit. */
  readonly generatorBusy?: number;
  /** CPU seconds per second used by other processes on the machine: above ~0.2 the figure is disturbed. */
  readonly otherBusy?: number;
  /** Messages per second each publishing connection sent (to compare with a per-connection read limit). */
  readonly perConnectionRate?: number;
  /** What bounds the figure when neither the broker nor the generator saturated a core. */
  readonly bound?: string;
  /** Set when the broker refused the scenario's clients (a broker without MQTT 5): there is no figure. */
  readonly refused?: string;
  /** The closed loop's window per publisher, when the scenario sets its own. */
  readonly windowPerPublisher?: number;
  /** Broker write syscalls per delivered message: below 1, several messages left in one send. */
  readonly writesPerMessage?: number;
  readonly detail?: string;
}

/** A scenario: sets up clients on a broker, runs for `seconds`, measures. */
export type Scenario = (broker: RunningBroker, seconds: number, scale: number) => Promise<Result>;

const PAYLOAD = Buffer.alloc(64, 0x61);
const BATCH = 100;

export async function clients(
  broker: RunningBroker,
  count: number,
  prefix: string,
  protocolVersion: ProtocolLevel = 4,
): Promise<RawClient[]> {
  const list: RawClient[] = [];
  try {
    for (let i = 0; i < count; i++)
      list.push(await RawClient.connect(broker.port, `${prefix}${i}`, { protocolVersion }));
  } catch (error) {
    for (const client of list) client.close();
    throw error;
  }
  return list;
}

// Waits until what is in flight has arrived: stops once deliveries reach `expected`, or stop growing for
// a second, or after 30 s. What is still missing then counts as lost.
async function settle(total: () => number, expected: number): Promise<void> {
  let last = total();
  let still = 0;
  for (let i = 0; i < 300 && total() < expected && still < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = total();
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

const WORKER = fileURLToPath(new URL('./publisher-worker.ts', import.meta.url));
const SUBSCRIBER_WORKER = fileURLToPath(new URL('./subscriber-worker.ts', import.meta.url));
const DRAIN_WORKER = fileURLToPath(new URL('./drain-subscriber-worker.ts', import.meta.url));
const WORKERS = 2;
/** Messages each publisher may have in flight end to end (sent, not yet delivered to every subscriber). */
export const WINDOW_PER_PUBLISHER = 1000;

/** Where a closed loop learns how many messages its subscribers have received. */
export interface Deliveries {
  /** Deliveries counted so far. */
  received(): number;
  /** Called whenever the count grew. */
  onProgress: (() => void) | undefined;
}

// Subscribers read in this process: the count is a running sum kept on each read (summing every
// subscriber's counter on each read cost the generator O(subscribers) per read).
function inProcess(subscribers: readonly RawClient[]): Deliveries {
  let delivered = 0;
  const deliveries: Deliveries = { received: () => delivered, onProgress: undefined };
  for (const subscriber of subscribers) {
    let seen = subscriber.received;
    subscriber.onRead = () => {
      delivered += subscriber.received - seen;
      seen = subscriber.received;
      deliveries.onProgress?.();
    };
  }
  return deliveries;
}

/** What a closed-loop publisher run measured. */
interface PublisherRun {
  /** Messages published (each reaching `fanout` subscribers). */
  readonly sent: number;
  /** Generator CPU (publisher workers), microseconds. */
  readonly cpu: number;
  /** Seconds from the first credit to the deadline. */
  readonly seconds: number;
}

/**
 * Runs publishers in `WORKERS` child processes (the load generator must not be the bottleneck) as a
 * closed loop: the workers send only what this process grants, and it grants only what keeps at most
 * `WINDOW_PER_PUBLISHER` messages per publisher in flight end to end, counted from the subscribers'
 * deliveries. Resolves once the deadline has passed and every worker has reported.
 */
export async function runPublishers(
  port: number,
  publishers: readonly (readonly string[])[],
  subscribers: readonly RawClient[] | Deliveries,
  fanout: number,
  seconds: number,
  protocolVersion: ProtocolLevel = 4,
  windowPerPublisher = WINDOW_PER_PUBLISHER,
): Promise<PublisherRun> {
  const deliveries = Array.isArray(subscribers)
    ? inProcess(subscribers as readonly RawClient[])
    : (subscribers as Deliveries);
  const groups = Array.from({ length: Math.min(WORKERS, publishers.length) }, (_, w) =>
    publishers.filter((_, i) => i % WORKERS === w),
  );
  const children = groups.map(() =>
    fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
  );
  try {
    const ready = children.map((child) => bounded(once(child, 'message'), 30000, 'publisher worker start'));
    groups.forEach((group, w) => {
      const job: PublisherJob = {
        port,
        prefix: `pub${w}-`,
        publishers: group,
        payloadSize: 64,
        batch: BATCH,
        protocolVersion,
      };
      children[w].send(job);
    });
    const batchSizes = (await Promise.all(ready)).map(
      ([message]) => (message as Extract<PublisherMessage, { ready: true }>).batchSizes,
    );
    // Each worker's share of the window, at least two of its largest batches so it never idles on one.
    const windows = batchSizes.map((sizes) =>
      Math.max(windowPerPublisher * sizes.length, 2 * Math.max(...sizes)),
    );
    const window = windows.reduce((a, b) => a + b, 0);
    const reports = children.map((child) =>
      bounded(once(child, 'message'), seconds * 1000 + 30000, 'publisher worker report'),
    );
    let granted = 0;
    // Deliveries of this run (earlier ones, such as route checks, do not count).
    const before = deliveries.received();
    const started = Date.now();
    const deadline = started + seconds * 1000;
    const grant = (total: number): void => {
      for (let w = 0; w < children.length; w++) {
        const credit = Math.round((total * windows[w]) / window);
        if (credit > 0) children[w].send({ credit } satisfies PublisherCommand);
      }
      granted += total;
    };
    // Top up as deliveries arrive, in steps of a quarter window (so a few hundred messages per second
    // cross the IPC channel, not one per delivery).
    const topUp = (): void => {
      if (Date.now() >= deadline) return;
      const room = Math.floor((deliveries.received() - before) / fanout) + window - granted;
      if (room >= window / 4) grant(room);
    };
    deliveries.onProgress = topUp;
    grant(window);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    for (const child of children) child.send({ stop: true } satisfies PublisherCommand);
    const results = (await Promise.all(reports)).map(([report]) => report as PublisherReport);
    deliveries.onProgress = undefined;
    return {
      sent: results.reduce((sum, r) => sum + r.sent, 0),
      cpu: results.reduce((sum, r) => sum + r.cpu, 0),
      seconds,
    };
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
}

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Subscribers in separate processes, draining their sockets periodically (see drain-subscriber-worker.ts). */
interface SubscriberPool extends Deliveries {
  /** CPU time of the pool's processes so far, microseconds. */
  cpu(): number;
  close(): void;
}

/**
 * Connects one subscriber per topic, spread over `WORKERS` processes that drain their sockets every
 * `intervalMs`; resolves once every subscription is acknowledged.
 */
async function drainingSubscribers(
  port: number,
  topics: readonly string[],
  intervalMs: number,
): Promise<SubscriberPool> {
  const counts = new Array<number>(WORKERS).fill(0);
  let total = 0;
  const children = counts.map(() =>
    fork(DRAIN_WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
  );
  const pool: SubscriberPool = {
    received: () => total,
    onProgress: undefined,
    cpu: () =>
      children.reduce((sum, child) => sum + (child.exitCode === null ? cpuMicros(child.pid ?? 0) : 0), 0),
    close: () => {
      for (const child of children) child.kill('SIGKILL');
    },
  };
  try {
    await Promise.all(
      children.map((child, w) => {
        const ready = bounded(once(child, 'message'), 60000, 'subscriber worker start');
        const job: DrainSubscriberJob = {
          port,
          prefix: `drain${w}-`,
          topics: topics.filter((_, i) => i % WORKERS === w),
          intervalMs,
        };
        child.send(job);
        return ready;
      }),
    );
  } catch (error) {
    pool.close();
    throw error;
  }
  children.forEach((child, w) =>
    child.on('message', (message: DrainSubscriberMessage) => {
      if (!('received' in message)) return;
      total += message.received - counts[w];
      counts[w] = message.received;
      pool.onProgress?.();
    }),
  );
  return pool;
}

async function throughput(
  broker: RunningBroker,
  seconds: number,
  publishers: readonly (readonly string[])[],
  subscribers: RawClient[] | SubscriberPool,
  fanout: number,
  protocolVersion: ProtocolLevel = 4,
  windowPerPublisher = WINDOW_PER_PUBLISHER,
): Promise<Result> {
  const pool = Array.isArray(subscribers) ? undefined : subscribers;
  const received = (): number =>
    pool ? pool.received() : (subscribers as RawClient[]).reduce((sum, s) => sum + s.received, 0);
  const cpu0 = cpuMicros(broker.pid);
  const writes0 = writeSyscalls(broker.pid);
  const machine0 = machineCpuMicros();
  const gen0 = process.cpuUsage();
  const pool0 = pool?.cpu() ?? 0;
  const started = Date.now();
  const run = await runPublishers(
    broker.port,
    publishers,
    subscribers,
    fanout,
    seconds,
    protocolVersion,
    windowPerPublisher,
  );
  // With at most a window in flight, what has not arrived a second after the last delivery was dropped.
  await settle(received, run.sent * fanout);
  const elapsed = (Date.now() - started) / 1000;
  const delivered = received();
  const gen = process.cpuUsage(gen0);
  const brokerCpu = cpuMicros(broker.pid) - cpu0;
  const brokerWrites = writeSyscalls(broker.pid) - writes0;
  const generatorCpu = gen.user + gen.system + run.cpu + (pool ? pool.cpu() - pool0 : 0);
  const otherCpu = machineCpuMicros() - machine0 - brokerCpu - generatorCpu;
  if (pool) pool.close();
  else for (const client of subscribers as RawClient[]) client.close();
  return {
    value: delivered / elapsed,
    unit: 'msg/s',
    cpuPerMessage: brokerCpu / Math.max(1, delivered),
    generatorCpuPerMessage: generatorCpu / Math.max(1, delivered),
    brokerBusy: brokerCpu / 1e6 / elapsed,
    generatorBusy: generatorCpu / 1e6 / elapsed,
    otherBusy: Math.max(0, otherCpu) / 1e6 / elapsed,
    perConnectionRate: run.sent / elapsed / publishers.length,
    windowPerPublisher,
    writesPerMessage: brokerWrites / Math.max(1, delivered),
    lost: Math.max(0, run.sent * fanout - delivered),
    bound: `closed-loop window (${windowPerPublisher}/publisher) and round trips`,
  };
}

/** 8 publishers -> 1 subscriber on one channel, QoS 0, 64 B, every client at protocol level `level`. */
export const fanInAt =
  (level: ProtocolLevel): Scenario =>
  async (broker, seconds) => {
    const version = broker.protocolVersion ?? level;
    const [subscriber] = await clients(broker, 1, 'fin-sub', version);
    await subscriber.subscribe(broker.topic('bench/fanin/'));
    const topic = broker.topic('bench/fanin/');
    const publishers = Array.from({ length: 8 }, () => [topic]);
    return throughput(broker, seconds, publishers, [subscriber], 1, version);
  };

/** 1 publisher -> 200 subscribers on one channel, every client at protocol level `level`. */
export const fanOutAt =
  (level: ProtocolLevel): Scenario =>
  async (broker, seconds, scale) => {
    const version = broker.protocolVersion ?? level;
    const subscribers = await clients(broker, Math.round(200 * scale), 'fout-sub', version);
    for (const s of subscribers) await s.subscribe(broker.topic('bench/fanout/'));
    const publishers = [[broker.topic('bench/fanout/')]];
    return throughput(broker, seconds, publishers, subscribers, subscribers.length, version);
  };

/** 8 publishers -> 1 subscriber on one channel, QoS 0, 64 B (MQTT 3.1.1). */
export const fanIn: Scenario = fanInAt(4);

/** 1 publisher -> 200 subscribers on one channel (MQTT 3.1.1). */
export const fanOut: Scenario = fanOutAt(4);

/** 200 publisher/subscriber pairs, one channel each. */
export const pointToPoint: Scenario = async (broker, seconds, scale) => {
  const pairs = Math.round(200 * scale);
  const subscribers = await clients(broker, pairs, 'p2p-sub');
  for (let i = 0; i < pairs; i++) await subscribers[i].subscribe(broker.topic(`bench/p2p/${i}/`));
  const publishers = Array.from({ length: pairs }, (_, i) => [broker.topic(`bench/p2p/${i}/`)]);
  return throughput(broker, seconds, publishers, subscribers, 1);
};

/** Wildcard subscribers drain their sockets this often (as the independent harness's do). */
export const WILDCARD_DRAIN_MS = 10;
/**
 * Wildcard messages in flight per publisher: each subscriber gets a trickle (1/1,000 of the messages) and
 * reads every 10 ms, so the closed loop needs about rate x 10 ms in flight (here 10 per subscriber) not to
 * be the limit itself.
 */
export const WILDCARD_WINDOW_PER_PUBLISHER = 5000;

/**
 * 1,000 subscribers on distinct `+` patterns, publishes spread over 1,000 channels. The subscribers live in
 * worker processes that drain their sockets every 10 ms: read one delivery at a time, as in-process
 * subscribers are, they cost the generator as much as the broker per message and capped the figure.
 */
export const wildcard: Scenario = async (broker, seconds, scale) => {
  const count = Math.round(1000 * scale);
  const subscribers = await drainingSubscribers(
    broker.port,
    Array.from({ length: count }, (_, i) => broker.topic(`w/+/${i}/`)),
    WILDCARD_DRAIN_MS,
  );
  // Two publishers, each cycling over half of the channels.
  const publishers = [0, 1].map((half) =>
    Array.from({ length: Math.ceil(count / 2) }, (_, i) => broker.topic(`w/x/${(2 * i + half) % count}/`)),
  );
  return throughput(broker, seconds, publishers, subscribers, 1, 4, WILDCARD_WINDOW_PER_PUBLISHER);
};

/**
 * QoS 1 or 2 publishers, each keeping `window` publishes in flight (QoS 1: until its PUBACK; QoS 2: until
 * its PUBCOMP, the PUBREL answering PUBREC written by the client) until the deadline; resolves with the
 * number acknowledged. Bounded: a broker that stops acknowledging ends the wait 10 s after the deadline.
 */
export async function qosPump(
  qos: 1 | 2,
  publishers: readonly RawClient[],
  topic: (publisher: number) => string,
  deadline: number,
  window = 100,
): Promise<number> {
  let acked = 0;
  await Promise.all(
    publishers.map(
      (publisher, p) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 10000);
          // Encoded once; each send is a copy with its packet id.
          const frame = publishFrame(topic(p), PAYLOAD, qos, publisher.protocolVersion);
          let id = 0;
          let inFlight = 0;
          const send = (): void => {
            id = (id % 65535) + 1;
            inFlight++;
            publisher.socket.write(withPacketId(frame, id));
          };
          const done = (): void => {
            inFlight--;
            acked++;
            if (Date.now() < deadline) send();
            else if (inFlight === 0) {
              clearTimeout(timer);
              resolve();
            }
          };
          if (qos === 1) publisher.onPuback = done;
          else publisher.onPubcomp = done;
          for (let i = 0; i < window; i++) send();
        }),
    ),
  );
  return acked;
}

/** QoS 1 publishers (see `qosPump`). */
export function qos1Pump(
  publishers: readonly RawClient[],
  topic: (publisher: number) => string,
  deadline: number,
  window = 100,
): Promise<number> {
  return qosPump(1, publishers, topic, deadline, window);
}

/** QoS 1 fan-in: 8 publishers, each keeping 100 publishes in flight. */
export const qos1FanIn: Scenario = async (broker, seconds) => {
  const [subscriber] = await clients(broker, 1, 'q1-sub');
  await subscriber.subscribe(broker.topic('bench/qos1/'));
  const publishers = await clients(broker, 8, 'q1-pub');
  const cpu0 = cpuMicros(broker.pid);
  const machine0 = machineCpuMicros();
  const gen0 = process.cpuUsage();
  const started = Date.now();
  const acked = await qos1Pump(publishers, () => broker.topic('bench/qos1/'), started + seconds * 1000);
  await settle(() => subscriber.received, acked);
  const elapsed = (Date.now() - started) / 1000;
  const gen = process.cpuUsage(gen0);
  const delivered = subscriber.received;
  for (const client of [...publishers, subscriber]) client.close();
  const brokerCpu = cpuMicros(broker.pid) - cpu0;
  return {
    value: delivered / elapsed,
    unit: 'msg/s',
    cpuPerMessage: brokerCpu / Math.max(1, delivered),
    generatorCpuPerMessage: (gen.user + gen.system) / Math.max(1, delivered),
    brokerBusy: brokerCpu / 1e6 / elapsed,
    generatorBusy: (gen.user + gen.system) / 1e6 / elapsed,
    otherBusy: Math.max(0, machineCpuMicros() - machine0 - brokerCpu - gen.user - gen.system) / 1e6 / elapsed,
    perConnectionRate: acked / elapsed / publishers.length,
    lost: Math.max(0, acked - delivered),
  };
};

/** The in-flight window (unacknowledged QoS > 0 deliveries per subscriber) emitter-ts and Mosquitto use here. */
export const BROKER_INFLIGHT_WINDOW = 20;

// Publishes each publisher keeps in flight. QoS 2: 20, because Mosquitto at its defaults disconnects a
// client with more than `max_inflight_messages` (20) QoS 2 publishes not yet released.
const QOS_WINDOW = { 1: 100, 2: 20 } as const;

/**
 * QoS `qos` end to end: 8 publishers at that QoS (QoS 1: 100 in flight each, QoS 2: 20) -> 1 subscriber subscribed at it that
 * acknowledges every delivery (QoS 1: PUBACK; QoS 2: PUBREC, then PUBCOMP for the broker's PUBREL), so the
 * broker's in-flight window and acknowledgement handling on the way out are in the figure. The subscriber
 * runs in a process of its own, so the publishers pumping here do not delay its acknowledgements; what a
 * broker queues for it past its bounds is dropped (`lost`).
 */
export const qosEndToEnd =
  (qos: 1 | 2): Scenario =>
  async (broker, seconds) => {
    const name = `q${qos}e`;
    const topic = broker.topic(`bench/qos${qos}e2e/`);
    const child = fork(SUBSCRIBER_WORKER, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    try {
      const ready = bounded(once(child, 'message'), 30000, 'subscriber worker start');
      const job: SubscriberJob = { port: broker.port, clientId: `${name}-sub`, topic, qos };
      child.send(job);
      await ready;
      const count = async (): Promise<SubscriberCount> => {
        const reply = bounded(once(child, 'message'), 10000, 'subscriber worker count');
        child.send('count');
        return (await reply)[0] as SubscriberCount;
      };
      const publishers = await clients(broker, 8, `${name}-pub`);
      const first = await count();
      const cpu0 = cpuMicros(broker.pid);
      const machine0 = machineCpuMicros();
      const gen0 = process.cpuUsage();
      const started = Date.now();
      const acked = await qosPump(qos, publishers, () => topic, started + seconds * 1000, QOS_WINDOW[qos]);
      // Settle as `settle` does, polling the worker's count (bounded).
      let last = await count();
      for (let i = 0, still = 0; i < 300 && last.received < acked && still < 10; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const now = await count();
        still = now.received === last.received ? still + 1 : 0;
        last = now;
      }
      const elapsed = (Date.now() - started) / 1000;
      const delivered = last.received - first.received;
      const gen = process.cpuUsage(gen0);
      const brokerCpu = cpuMicros(broker.pid) - cpu0;
      // The generator: this process (the publishers) and the subscriber's.
      const generatorCpu = gen.user + gen.system + (last.cpu - first.cpu);
      const otherCpu = machineCpuMicros() - machine0 - brokerCpu - generatorCpu;
      for (const client of publishers) client.close();
      return {
        value: delivered / elapsed,
        unit: 'msg/s',
        cpuPerMessage: brokerCpu / Math.max(1, delivered),
        generatorCpuPerMessage: generatorCpu / Math.max(1, delivered),
        brokerBusy: brokerCpu / 1e6 / elapsed,
        generatorBusy: generatorCpu / 1e6 / elapsed,
        otherBusy: Math.max(0, otherCpu) / 1e6 / elapsed,
        perConnectionRate: acked / elapsed / publishers.length,
        lost: Math.max(0, acked - delivered),
        bound:
          broker.name === 'aedes'
            ? 'round trips to the subscriber'
            : `round trips to the subscriber, at most ${BROKER_INFLIGHT_WINDOW} QoS ${qos} deliveries unacknowledged (in-flight window)`,
      };
    } finally {
      child.kill('SIGKILL');
    }
  };

/** QoS 1 end to end (MQTT 3.1.1). */
export const qos1EndToEnd: Scenario = qosEndToEnd(1);

/** QoS 2 end to end (MQTT 3.1.1): PUBLISH, PUBREC, PUBREL, PUBCOMP both ways. */
export const qos2EndToEnd: Scenario = qosEndToEnd(2);

/** Sends `total` QoS 1 publishes over `publishers` (`window` in flight each); resolves with those acknowledged. */
async function qos1Burst(
  publishers: readonly RawClient[],
  topic: string,
  total: number,
  window = 100,
): Promise<number> {
  let acked = 0;
  const share = Math.ceil(total / publishers.length);
  await Promise.all(
    publishers.map(
      (publisher, p) =>
        new Promise<void>((resolve) => {
          const count = Math.max(0, Math.min(share, total - p * share));
          if (count === 0) return resolve();
          const timer = setTimeout(resolve, 120000); // bounded, whatever the broker does
          let sent = 0;
          let done = 0;
          const send = (): void => {
            sent++;
            publisher.socket.write(
              mqttPacket.generate({
                cmd: 'publish',
                topic,
                payload: PAYLOAD,
                qos: 1,
                messageId: (sent % 65535) + 1,
                retain: false,
                dup: false,
              }),
            );
          };
          publisher.onPuback = () => {
            acked++;
            if (++done === count) {
              clearTimeout(timer);
              resolve();
            } else if (sent < count) send();
          };
          for (let i = 0; i < Math.min(window, count); i++) send();
        }),
    ),
  );
  return acked;
}

/**
 * Offline queue drain: a persistent QoS 1 subscriber (`cleanSession: false`) goes away, 8 QoS 1
 * publishers (100 in flight each) queue 100,000 messages for it, then it comes back and acknowledges
 * every delivery (the broker's in-flight window paces it). The figure is messages per second from its
 * CONNECT to the last delivery; the detail gives the drain time and the broker's RSS: before the
 * messages, holding them, and the peak while draining.
 */
export const offlineDrain: Scenario = async (broker, _seconds, scale) => {
  const total = Math.round(100_000 * scale);
  const topic = broker.topic('bench/drain/');
  const away = await RawClient.connect(broker.port, 'drain-sub', { clean: false });
  await away.subscribe(topic, 1);
  await new Promise<void>((resolve) => {
    away.socket.once('close', () => resolve());
    away.socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
  });
  const publishers = await clients(broker, 8, 'drain-pub');
  const rssBefore = rssBytes(broker.pid);
  const fillCpu0 = cpuMicros(broker.pid);
  const filling = Date.now();
  const acked = await qos1Burst(publishers, topic, total);
  const fillSeconds = (Date.now() - filling) / 1000;
  const fillCpuPerMessage = (cpuMicros(broker.pid) - fillCpu0) / Math.max(1, acked);
  for (const client of publishers) client.close();
  const rssQueued = rssBytes(broker.pid);
  let rssPeak = rssQueued;
  const cpu0 = cpuMicros(broker.pid);
  const gen0 = process.cpuUsage();
  const started = Date.now();
  const subscriber = await RawClient.connect(broker.port, 'drain-sub', { clean: false, ackQos1: true });
  // Until every acknowledged message arrived, or nothing came for 5 s, or 180 s (bounded).
  let last = 0;
  let lastChange = Date.now();
  while (subscriber.received < acked && Date.now() - lastChange < 5000 && Date.now() - started < 180000) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    rssPeak = Math.max(rssPeak, rssBytes(broker.pid));
    if (subscriber.received !== last) {
      last = subscriber.received;
      lastChange = Date.now();
    }
  }
  const elapsed = (Date.now() - started) / 1000;
  const brokerCpu = cpuMicros(broker.pid) - cpu0;
  const gen = process.cpuUsage(gen0);
  const received = subscriber.received;
  subscriber.close();
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
  return {
    value: received / elapsed,
    unit: 'msg/s',
    cpuPerMessage: brokerCpu / Math.max(1, received),
    generatorCpuPerMessage: (gen.user + gen.system) / Math.max(1, received),
    brokerBusy: brokerCpu / 1e6 / elapsed,
    generatorBusy: (gen.user + gen.system) / 1e6 / elapsed,
    lost: Math.max(0, acked - received),
    detail: `${acked.toLocaleString('en-US')} queued in ${fillSeconds.toFixed(1)} s (${fillCpuPerMessage.toFixed(1)} µs CPU/msg), drained in ${elapsed.toFixed(2)} s; RSS ${mib(rssBefore)} -> ${mib(rssQueued)} MiB queued, ${mib(rssPeak)} MiB peak`,
  };
};

/** 1 publisher at a fixed 2,000 msg/s -> 1 subscriber: p99 latency (p50 and max in the detail). */
export const latency: Scenario = async (broker, seconds) => {
  const [subscriber] = await clients(broker, 1, 'lat-sub');
  await subscriber.subscribe(broker.topic('bench/latency/'));
  const [publisher] = await clients(broker, 1, 'lat-pub');
  const samples: number[] = [];
  subscriber.onPublish = (payload) => {
    samples.push(Number(process.hrtime.bigint() - payload.readBigUInt64BE(0)) / 1e6);
  };
  const total = 2000 * seconds;
  const started = Date.now();
  let sent = 0;
  // A 1 ms timer sends whatever the 2,000 msg/s schedule has due (no busy loop: the broker shares the
  // cores with the generator), each stamped with its real send time.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - started) * 2000) / 1000));
      for (; sent < due; sent++) {
        const payload = Buffer.alloc(64);
        payload.writeBigUInt64BE(process.hrtime.bigint(), 0);
        publisher.socket.write(
          mqttPacket.generate({
            cmd: 'publish',
            topic: broker.topic('bench/latency/'),
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
  await settle(() => samples.length, total);
  publisher.close();
  subscriber.close();
  samples.sort((a, b) => a - b);
  const at = (q: number): number =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return {
    value: at(0.99),
    p50: at(0.5),
    unit: 'ms p99',
    lost: total - samples.length,
    detail: `p50 ${at(0.5).toFixed(3)} ms, max ${(samples[samples.length - 1] ?? NaN).toFixed(2)} ms`,
  };
};

/** Idle connections, each subscribed to its own channel: broker RSS per connection. */
export const idleConnections: Scenario = async (broker, _seconds, scale) => {
  const count = Math.round(10000 * scale);
  // One connection first, so one-off allocations (codec caches, first-use code) are not spread over
  // the idle connections.
  const warm = await RawClient.connect(broker.port, 'idle-warm');
  await warm.subscribe(broker.topic('idle/warm/'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = rssBytes(broker.pid);
  const list: RawClient[] = [];
  for (let i = 0; i < count; i++) {
    const client = await RawClient.connect(broker.port, `idle${i}`);
    await client.subscribe(broker.topic(`idle/${i}/`));
    list.push(client);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = rssBytes(broker.pid);
  for (const client of [warm, ...list]) client.close();
  return { value: (after - before) / count / 1024, unit: 'KiB/conn', detail: `${count} connections` };
};
