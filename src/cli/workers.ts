import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Route } from '../http/handler.js';

/** Settings of the process that runs `cluster.workers` broker processes on one port. */
export interface WorkerSupervisorOptions {
  readonly count: number;
  /** The cluster name of the machine; worker i is `<name>-<i>`. */
  readonly name: string;
  /** Environment every worker gets on top of ours (the licence, so all share one). */
  readonly env: Record<string, string>;
  readonly logger: Logger;
}

/**
 * How long a broker has to stop gracefully after SIGTERM before it gives up on stuck clients. The
 * supervisor kills workers still running a little later, so the whole host is down within the README's 10 s.
 */
export const GRACEFUL_STOP_MS = 8000;
const KILL_WORKERS_AFTER_MS = 9000;
const RESTART_DELAY_MS = 1000;
/** A worker's wait for the supervisor's aggregated metrics (prom-client gives up on a worker after 5 s). */
const METRICS_TIMEOUT_MS = 6000;

const METRICS_REQUEST = 'emitter:metrics-request';
const METRICS_REPLY = 'emitter:metrics-reply';

interface MetricsRequest {
  readonly type: typeof METRICS_REQUEST;
  readonly id: number;
}

interface MetricsReply {
  readonly type: typeof METRICS_REPLY;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/**
 * Runs `count` workers sharing the listening ports (Node's cluster module hands out connections) and
 * keeps them running: a worker that dies is started again. Each is a full broker and a cluster node, so
 * they join through Redis like nodes on different machines. A worker's `/metrics` asks this process, which
 * gathers every worker's registry (prom-client's AggregatorRegistry), so any scrape sees the whole host.
 * Resolves once they have all stopped after SIGTERM or SIGINT.
 */
export async function superviseWorkers(options: WorkerSupervisorOptions): Promise<number> {
  const { logger } = options;
  let stopping = false;
  const slots = new Map<number, Worker>();
  let allStopped: (() => void) | undefined;
  const start = (slot: number): void => {
    const worker = cluster.fork({ ...options.env, EMITTER_CLUSTER_NAME: `${options.name}-${slot}` });
    slots.set(slot, worker);
    worker.on('exit', (code, signal) => {
      slots.delete(slot);
      if (stopping) {
        logger.info({ worker: slot, code, signal }, 'worker stopped');
        if (slots.size === 0) allStopped?.();
        return;
      }
      logger.error({ worker: slot, code, signal }, 'worker stopped unexpectedly, starting it again');
      setTimeout(() => {
        if (!stopping) start(slot);
      }, RESTART_DELAY_MS).unref();
    });
  };
  const aggregator = new AggregatorRegistry();
  const answerMetrics = (worker: Worker, message: unknown): void => {
    if (!isMessage<MetricsRequest>(message, METRICS_REQUEST)) return;
    const reply = (fields: Omit<MetricsReply, 'type' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ type: METRICS_REPLY, id: message.id, ...fields });
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (error: Error) => reply({ error: error.message }),
    );
  };
  cluster.on('message', answerMetrics);
  for (let slot = 0; slot < options.count; slot++) start(slot);
  logger.info({ workers: options.count }, 'started worker processes');
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      stopping = true;
      logger.info({ signal }, 'stopping worker processes');
      for (const worker of slots.values()) worker.process.kill('SIGTERM');
      // A worker that has not exited by then is stuck (its own graceful stop is bounded shorter): kill it.
      const timer = setTimeout(() => {
        logger.warn({ workers: [...slots.keys()] }, 'workers did not stop in time, killing them');
        for (const worker of slots.values()) worker.process.kill('SIGKILL');
      }, KILL_WORKERS_AFTER_MS);
      allStopped = () => {
        clearTimeout(timer);
        resolve();
      };
      if (slots.size === 0) allStopped();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  cluster.off('message', answerMetrics);
  return 0;
}

/** True in the process that should supervise workers rather than serve. */
export function isSupervisor(workers: number): boolean {
  return workers > 1 && cluster.isPrimary;
}

/** True in a broker process started by `superviseWorkers`. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/** A worker's side of the host-wide `/metrics`. */
export interface HostMetrics {
  /** The `/metrics` route: every worker's metrics, gathered by the supervisor. */
  readonly route: Route;
  /** The registry this worker contributes (until set, it contributes nothing). */
  share(registry: Registry): void;
}

/**
 * In a worker, as early as possible: answers the supervisor's requests for this worker's metrics (a
 * worker that does not answer stalls every scrape until prom-client's 5 s timeout) and makes the route
 * that asks the supervisor for the whole host's (counters and connection gauges summed).
 */
export function hostMetrics(): HostMetrics {
  AggregatorRegistry.setRegistries([]);
  // Constructing one installs prom-client's answer to the supervisor's requests in this process.
  new AggregatorRegistry();
  let nextId = 0;
  const pending = new Map<number, (reply: MetricsReply) => void>();
  process.on('message', (message: unknown) => {
    if (!isMessage<MetricsReply>(message, METRICS_REPLY)) return;
    pending.get(message.id)?.(message);
  });
  const collect = (): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the worker supervisor did not answer in time'));
      }, METRICS_TIMEOUT_MS);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        pending.delete(id);
        if (reply.text !== undefined) resolve(reply.text);
        else reject(new Error(reply.error ?? 'no metrics'));
      });
      const request: MetricsRequest = { type: METRICS_REQUEST, id };
      if (process.connected && process.send) process.send(request);
      else pending.get(id)?.({ type: METRICS_REPLY, id, error: 'the worker supervisor is gone' });
    });
  return {
    share: (registry) => AggregatorRegistry.setRegistries([registry]),
    route: (_request, response) => {
      collect().then(
        (text) => {
          response.writeHead(200, { 'content-type': Registry.PROMETHEUS_CONTENT_TYPE });
          response.end(text);
        },
        (error: Error) => {
          response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
          response.end(`metrics unavailable: ${error.message}\n`);
        },
      );
    },
  };
}

/**
 * In a worker whose broker has stopped: closes the channel to the supervisor, the last thing that keeps
 * the process alive (without this a stopped worker lingered until the supervisor killed it).
 */
export function leaveSupervisor(): void {
  if (cluster.isWorker && cluster.worker?.isConnected()) cluster.worker.disconnect();
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}
