import { Writable } from 'node:stream';
import { pino } from 'pino';

/** A logger whose JSON lines a test reads back (and can wait for). */
export interface CapturedLogs {
  readonly logger: pino.Logger;
  /** Every line written, as text. */
  readonly lines: string[];
  /** Every line, parsed. */
  entries(): Array<Record<string, unknown>>;
  /** Resolves once `condition` holds, checked at every line written; rejects after `ms`. */
  waitFor(condition: () => boolean, ms: number, what: string): Promise<void>;
}

/** A pino logger at `info` writing into memory. */
export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  const checks = new Set<() => void>();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      for (const check of checks) check();
      done();
    },
  });
  return {
    logger: pino({ level: 'info', base: undefined }, stream),
    lines,
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    async waitFor(condition, ms, what) {
      const wait = until(condition, ms, what);
      checks.add(wait.check);
      wait.check();
      try {
        await wait.done;
      } finally {
        checks.delete(wait.check);
      }
    },
  };
}

/** Resolves once `condition` holds, checked on every call of the returned `check`; rejects after `ms`. */
export function until(
  condition: () => boolean,
  ms: number,
  what: string,
): { done: Promise<void>; check(): void } {
  let resolve!: () => void;
  const done = new Promise<void>((ok, fail) => {
    resolve = ok;
    setTimeout(() => fail(new Error(`${what}: not within ${ms} ms`)), ms).unref();
  });
  const check = (): void => {
    if (condition()) resolve();
  };
  return { done, check };
}
