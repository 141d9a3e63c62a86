import { once } from 'node:events';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { generateLicense, parseLicense } from '../../src/security/index.js';
import { spawnEmitter, waitForOutput } from './process.js';

/** A broker running as its own `emitter` process on a free loopback port: a crash shows as an exit. */
export interface BrokerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  readonly secret: string;
  /** The licence it runs with. */
  readonly license: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** True until the process exits. */
  alive(): boolean;
  /** SIGKILL at once; resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/**
 * Starts `emitter` on 127.0.0.1:0 with a fresh licence, or the one given (to restart a broker with its
 * keys still valid); extra environment variables override.
 */
export async function startBrokerProcess(
  env: Record<string, string> = {},
  licenseText?: string,
): Promise<BrokerProcess> {
  const { license, text } = licenseText
    ? { license: parseLicense(licenseText), text: licenseText }
    : generateLicense();
  const child = spawnEmitter([], {
    EMITTER_LICENSE: text,
    EMITTER_LISTEN: '127.0.0.1:0',
    EMITTER_MONITOR_PROVIDER: 'noop',
    ...env,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const port = Number((await waitForOutput(child, /"address":"127\.0\.0\.1:(\d+)"/))[1]);
  return {
    child,
    port,
    secret: license.newMasterKey(),
    license: text,
    output: () => output,
    alive: () => !exited,
    async kill() {
      if (exited) return;
      const exit = once(child, 'exit');
      child.kill('SIGKILL');
      await exit;
    },
    async stop(timeoutMs = 10000) {
      if (exited) return child.exitCode;
      const exit = once(child, 'exit') as Promise<[number | null]>;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const [code] = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}
