import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLicense, KeyAuthority } from '../../src/security/index.js';
import type { ProtocolLevel } from './raw-client.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A broker under test, running as its own process. */
export interface RunningBroker {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /**
   * The protocol level a scenario's clients use against it when set, whatever the scenario's own: a
   * 3.1.1 run of emitter-ts inside the rounds of an MQTT 5 row, so their CPU per message compare.
   */
  readonly protocolVersion?: ProtocolLevel;
  /** The topic to publish to / subscribe to for a channel like `bench/1/` (keys included for emitter-ts). */
  topic(channel: string): string;
  /** The topic subscribers receive for that channel. */
  delivered(channel: string): string;
  stop(): Promise<void>;
}

/** Broker CPU time (user + system) in microseconds, from /proc. */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** CPU time (all cores, every process, idle and iowait excluded) in microseconds, from /proc/stat. */
export function machineCpuMicros(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1e6) / 100;
}

/** Write syscalls (write, writev) a process has made, from /proc: how many messages each of its sends carried. */
export function writeSyscalls(pid: number): number {
  return Number(/syscw:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
}

/** Resident memory of a process in bytes. */
export function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

async function waitFor(child: ChildProcess, pattern: RegExp): Promise<void> {
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${output}`)), 20000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

// SIGTERM first (emitter-ts then writes its CPU profile when BENCH_CPU_PROF_DIR is set), SIGKILL after 5 s.
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

let nextPort = 21000 + Math.floor(Math.random() * 2000);

/**
 * Starts emitter-ts from dist/ (run `npm run build` first) with a fresh licence; topics carry a real key.
 * `dist` may name another build (an A/B comparison of two commits).
 */
export async function startEmitterTs(
  env: Record<string, string> = {},
  dist: string = join(root, 'dist'),
): Promise<RunningBroker> {
  const { license, text } = generateLicense();
  const created = new KeyAuthority(license).createKey({
    secret: license.newMasterKey(),
    channel: '#/',
    type: 'rwsl',
    ttl: 0,
  });
  if ('status' in created) throw new Error(created.message);
  const port = nextPort++;
  // BENCH_CPU_PROF_DIR=<dir>: profile emitter-ts (`node --cpu-prof`), for the evidence behind the figures.
  const profile = process.env.BENCH_CPU_PROF_DIR;
  const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child = spawn(process.execPath, [...flags, join(dist, 'cli/main.js')], {
    env: {
      ...process.env,
      EMITTER_LICENSE: text,
      EMITTER_LISTEN: `127.0.0.1:${port}`,
      EMITTER_LOGGING_LEVEL: 'info',
      EMITTER_MONITOR_PROVIDER: 'noop',
      EMITTER_LIMIT_MAXCONNECTIONS: '0',
      EMITTER_LIMIT_CONNECTRATE: '0',
      EMITTER_LIMIT_OUTGOINGBUFFER: String(256 * 1024 * 1024),
      // As Mosquitto here: queues not bounded in these runs (max_queued_messages 0), and the in-flight
      // window at the default both share (20).
      EMITTER_SESSION_MAXQUEUEDMESSAGES: String(100_000_000),
      EMITTER_SESSION_MAXQUEUEDBYTES: String(2 ** 40),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitFor(child, /service started/);
  return {
    name: 'emitter-ts',
    pid: child.pid ?? 0,
    port,
    topic: (channel) => `${created.key}/${channel}`,
    delivered: (channel) => channel,
    stop: () => stop(child),
  };
}

/**
 * emitter-ts serving plain MQTT clients (`anonymous: rw`): no key in any topic, topics kept verbatim
 * (`bench/fanin`, not `bench/fanin/`), matched MQTT-exactly.
 */
export async function startEmitterTsPlain(): Promise<RunningBroker> {
  const broker = await startEmitterTs({ EMITTER_ANONYMOUS: 'rw' });
  const plain = (channel: string): string => channel.replace(/\/$/, '');
  return { ...broker, name: 'emitter-ts, plain MQTT', topic: plain, delivered: plain };
}

/** emitter-ts with the `ssd` provider (SQLite in a fresh directory) for messages and sessions. */
export async function startEmitterTsSsd(): Promise<RunningBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-emitter-ssd-'));
  return startEmitterTs({ EMITTER_STORAGE_PROVIDER: 'ssd', EMITTER_STORAGE_CONFIG_DIR: dir });
}

/** Starts Aedes on net in its own process. */
export async function startAedes(): Promise<RunningBroker> {
  const port = nextPort++;
  const child = spawn(process.execPath, [join(root, 'bench/compare/aedes-server.mjs'), String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitFor(child, /ready/);
  return plain('aedes', child, port);
}

/**
 * Starts Debian's mosquitto at its defaults except the queue limits (so it does not drop queued messages
 * in these scenarios); `noDelay` adds `set_tcp_nodelay true`, which is not its default.
 */
export async function startMosquitto(
  options: { noDelay?: boolean; persistence?: boolean } = {},
): Promise<RunningBroker> {
  const port = nextPort++;
  const dir = mkdtempSync(join(tmpdir(), 'bench-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'max_queued_messages 0',
      'max_queued_bytes 0',
      'max_connections -1',
      ...(options.noDelay ? ['set_tcp_nodelay true'] : []),
      // Persistence on: Mosquitto keeps its sessions and queues in memory and writes them all to
      // mosquitto.db at autosave intervals and at exit (not each message as it comes).
      ...(options.persistence ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false']),
      'log_type error',
      'log_dest stdout',
      '',
    ].join('\n'),
  );
  // No `-v`: it logs every PUBLISH, and a log pipe nobody drains stalls the broker.
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'ignore'] });
  // mosquitto prints nothing at the error log level: wait until its port accepts.
  const net = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return plain(options.noDelay ? 'mosquitto-nodelay' : 'mosquitto', child, port);
}

/** Starts a bare Node `net` server (the floor for memory per idle connection). */
export async function startBareNet(): Promise<RunningBroker> {
  const port = nextPort++;
  const child = spawn(process.execPath, [join(root, 'bench/compare/bare-net-server.mjs'), String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitFor(child, /ready/);
  return plain('node-net', child, port);
}

function plain(name: string, child: ChildProcess, port: number): RunningBroker {
  const bare = (channel: string): string => channel.replace(/\/$/, '');
  return { name, pid: child.pid ?? 0, port, topic: bare, delivered: bare, stop: () => stop(child) };
}
