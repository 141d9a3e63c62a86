import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real `redis-server` on a loopback port, started and stopped by the test. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  /** Kills it (SIGKILL by default) and waits until it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port, empty; resolves once it answers PING. */
  restart(): Promise<void>;
  /** Stops it for good (idempotent). */
  stop(): Promise<void>;
}

/** A Redis Cluster of several masters, created with `redis-cli --cluster create`. */
export interface RedisClusterHandle {
  /** Seed URLs, one per master. */
  readonly urls: string[];
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A free TCP port on 127.0.0.1 (the kernel picks one; it is closed again before use). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

function launch(port: number, dir: string, extra: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(
    '/usr/bin/redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function waitForPing(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output()}`);
    if (await ping(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server on ${port} did not answer PING within 10 s: ${output()}`);
}

async function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Starts `redis-server` on a free loopback port, no persistence; resolves once it answers PING. */
export async function startRedis(extra: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'emitter-redis-'));
  let current = launch(port, dir, extra);
  await waitForPing(port, current.child, current.output);
  let stopped = false;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: (signal = 'SIGKILL') => killChild(current.child, signal),
    async restart() {
      await killChild(current.child, 'SIGKILL');
      current = launch(port, dir, extra);
      await waitForPing(port, current.child, current.output);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await killChild(current.child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts `masters` cluster-enabled servers and joins them into one Redis Cluster (no replicas). */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const servers: RedisServer[] = [];
  for (let i = 0; i < masters; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'emitter-redis-cluster-'));
    servers.push(
      await startRedis([
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        '--cluster-node-timeout',
        '2000',
      ]),
    );
  }
  const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
  const created = spawnSync(
    '/usr/bin/redis-cli',
    ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
    { encoding: 'utf8', timeout: 20000 },
  );
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  if (created.status !== 0) {
    await stop();
    throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
  }
  const deadline = Date.now() + 20000;
  for (;;) {
    const info = spawnSync('/usr/bin/redis-cli', ['-p', String(servers[0].port), 'cluster', 'info'], {
      encoding: 'utf8',
      timeout: 5000,
    });
    if (/cluster_state:ok/.test(info.stdout)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Redis Cluster did not become ok within 20 s: ${info.stdout}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { urls: servers.map((server) => server.url), stop };
}
