import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** Settings of the process that runs `cluster.workers` broker processes on one port. */
export interface WorkerSupervisorOptions {
  readonly count: number;
  /** The cluster name of the machine; worker i is `<name>-<i>`. */
  readonly name: string;
  /** Environment every worker gets on top of ours (the licence, so all share one). */
  readonly env: Record<string, string>;
  readonly logger: Logger;
}

const RESTART_DELAY_MS = 1000;
const SHUTDOWN_TIMEOUT_MS = 15000;

/**
 * Runs `count` workers sharing the listening ports (Node's cluster module hands out connections) and
 * keeps them running: a worker that dies is started again. Each is a full broker and a cluster node, so
 * they join through Redis like nodes on different machines. Resolves once they have all stopped after
 * SIGTERM or SIGINT.
 */
export async function superviseWorkers(options: WorkerSupervisorOptions): Promise<number> {
  const { logger } = options;
  let stopping = false;
  const slots = new Map<number, Worker>();
  const start = (slot: number): void => {
    const worker = cluster.fork({ ...options.env, EMITTER_CLUSTER_NAME: `${options.name}-${slot}` });
    slots.set(slot, worker);
    worker.on('exit', (code, signal) => {
      slots.delete(slot);
      if (stopping) return;
      logger.error({ worker: slot, code, signal }, 'worker stopped unexpectedly, starting it again');
      setTimeout(() => {
        if (!stopping) start(slot);
      }, RESTART_DELAY_MS).unref();
    });
  };
  for (let slot = 0; slot < options.count; slot++) start(slot);
  logger.info({ workers: options.count }, 'started worker processes');
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      stopping = true;
      logger.info({ signal }, 'stopping worker processes');
      for (const worker of slots.values()) worker.process.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const worker of slots.values()) worker.process.kill('SIGKILL');
        resolve();
      }, SHUTDOWN_TIMEOUT_MS);
      const check = setInterval(() => {
        if (slots.size > 0) return;
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }, 50);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** True in the process that should supervise workers rather than serve. */
export function isSupervisor(workers: number): boolean {
  return workers > 1 && cluster.isPrimary;
}
