import { once } from 'node:events';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { TestClient } from './clients.js';
import { scrapeMetrics } from './metrics.js';
import { spawnEmitter } from './process.js';

/** One `emitter` process started as a cluster node. */
export interface ClusterNode {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything it logged so far (stdout and stderr). */
  output(): string;
  /**
   * Resolves once its output from character `since` on matches `pattern` (already logged counts), or
   * rejects after `timeoutMs` saying what it waited for.
   */
  waitForOutput(pattern: RegExp, timeoutMs: number, since?: number): Promise<void>;
  /** Kills it (SIGKILL by default) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Its Prometheus metrics as name -> value. */
  metrics(): Promise<Map<string, number>>;
}

const nodes = new Set<ClusterNode>();
process.on('exit', () => {
  for (const node of nodes) node.child.kill('SIGKILL');
});

/** Starts `emitter` on a free loopback port as cluster node `name`, joined through `redis`. */
export async function startNode(options: {
  readonly name: string;
  readonly license: string;
  readonly redis: string | readonly string[];
  readonly deadAfterMs?: number;
  readonly env?: Record<string, string>;
}): Promise<ClusterNode> {
  const child = spawnEmitter([], {
    EMITTER_LICENSE: options.license,
    EMITTER_LISTEN: '127.0.0.1:0',
    EMITTER_CLUSTER_NAME: options.name,
    EMITTER_CLUSTER_REDIS: typeof options.redis === 'string' ? options.redis : options.redis.join(','),
    EMITTER_CLUSTER_DEADAFTER: String(options.deadAfterMs ?? 2000),
    EMITTER_MONITOR_PROVIDER: 'noop',
    EMITTER_LOGGING_LEVEL: 'info',
    ...options.env,
  });
  let output = '';
  const outputWaiters = new Set<() => void>();
  const onOutput = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const wake of outputWaiters) wake();
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  // Both lines may arrive in one chunk: match on everything read so far.
  const started = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${options.name} did not start: ${output}`)), 30000);
    const onData = (): void => {
      const address = /"address":"127\.0\.0\.1:(\d+)"/.exec(output);
      if (address && output.includes('"service started"')) {
        clearTimeout(timer);
        resolve(Number(address[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => reject(new Error(`node ${options.name} exited: ${output}`)));
  });
  const port = await started;
  const node: ClusterNode = {
    name: options.name,
    port,
    child,
    output: () => output,
    waitForOutput: (pattern, timeoutMs, since = 0) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(output.slice(since))) return;
          clearTimeout(timer);
          outputWaiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          outputWaiters.delete(check);
          reject(new Error(`node ${options.name} logged no ${pattern} within ${timeoutMs} ms`));
        }, timeoutMs);
        outputWaiters.add(check);
        check();
      }),
    async kill(signal = 'SIGKILL') {
      nodes.delete(node);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      await exited;
      clearTimeout(timer);
    },
    metrics: () => scrapeMetrics(port),
  };
  nodes.add(node);
  return node;
}

/** A presence status request through `client`; resolves with the reply. */
export async function presenceStatus(
  client: TestClient,
  key: string,
  channel: string,
): Promise<{ occupancy: number; who: Array<{ id: string; username?: string }> }> {
  await client.mqtt.publishAsync('emitter/presence/', JSON.stringify({ key, channel, status: true }));
  const reply = await client.next(
    (m) => m.topic === 'emitter/presence/' && JSON.parse(m.payload.toString()).event === 'status',
  );
  return JSON.parse(reply.payload.toString()) as {
    occupancy: number;
    who: Array<{ id: string; username?: string }>;
  };
}

/**
 * Waits (bounded) until a node sees `occupancy` subscribers on a channel, cluster-wide: subscriptions
 * reach the other nodes asynchronously, so a test publishes only once the publisher's node knows them.
 */
export async function waitForOccupancy(
  client: TestClient,
  key: string,
  channel: string,
  occupancy: number,
  timeoutMs = 10000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < deadline) {
    last = (await presenceStatus(client, key, channel)).occupancy;
    if (last === occupancy) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`occupancy of ${channel} stayed ${last}, expected ${occupancy}`);
}
