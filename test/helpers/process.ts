import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Spawns the `emitter` command (from source, through tsx) with extra environment variables. */
export function spawnEmitter(
  args: string[],
  env: Record<string, string> = {},
): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  stdoutOf(child);
  return child;
}

/** Runs `emitter` to completion (bounded); resolves with its exit code and output. */
export async function runEmitter(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 20000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnEmitter(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Resolves with the first stdout text matching `pattern` (accumulated output), or rejects after `timeoutMs`. */
export function waitForOutput(
  child: ChildProcessWithoutNullStreams,
  pattern: RegExp,
  timeoutMs = 20000,
): Promise<RegExpExecArray> {
  const seen = stdoutOf(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} in output within ${timeoutMs} ms: ${seen.text}`)),
      timeoutMs,
    );
    // Everything printed since the start counts: two lines a test waits for in turn may come in one chunk.
    const check = (): boolean => {
      const match = pattern.exec(seen.text);
      if (!match) return false;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve(match);
      return true;
    };
    const onData = (): void => void check();
    if (check()) return;
    child.stdout.on('data', onData);
    child.once('exit', () => reject(new Error(`exited before ${pattern}: ${seen.text}`)));
  });
}

const stdouts = new WeakMap<ChildProcessWithoutNullStreams, { text: string }>();

// The child's stdout so far, collected from the first call on (spawnEmitter starts it at spawn).
function stdoutOf(child: ChildProcessWithoutNullStreams): { text: string } {
  let seen = stdouts.get(child);
  if (!seen) {
    const collected = { text: '' };
    child.stdout.on('data', (chunk: Buffer) => (collected.text += chunk.toString()));
    stdouts.set(child, collected);
    seen = collected;
  }
  return seen;
}

/** Runs any command to completion, killed after `timeoutMs`; resolves with its exit code and stdout. */
export async function runCommand(
  command: string,
  args: string[],
  timeoutMs = 15000,
): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout };
}
