import { pino, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';

/** `auto`: readable lines on a terminal, JSON lines otherwise; `json` or `text` force one. */
export type LogFormat = 'auto' | 'json' | 'text';

/** Where log lines go: stdout, or a test's own sink. */
export interface LogSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * The broker's logger. Every line of one stream has the same format: JSON lines (pino) for collectors,
 * or, on a terminal, `time LEVEL message key=value ...` (colours unless NO_COLOR is set).
 */
export function createLogger(
  level: LevelWithSilent,
  format: LogFormat = 'auto',
  sink: LogSink = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): Logger {
  const options = { level, base: undefined };
  const text = format === 'text' || (format === 'auto' && sink.isTTY === true);
  if (!text) return sink === process.stdout ? pino(options) : pino(options, sink as DestinationStream);
  const colour = sink.isTTY === true && env.NO_COLOR === undefined && env.FORCE_COLOR !== '0';
  return pino(options, { write: (line: string) => void sink.write(formatLogLine(line, colour)) });
}

const LEVELS: Record<number, [name: string, colour: string]> = {
  10: ['TRACE', '90'],
  20: ['DEBUG', '36'],
  30: ['INFO ', '32'],
  40: ['WARN ', '33'],
  50: ['ERROR', '31'],
  60: ['FATAL', '41;97'],
};

/** One pino JSON line as a readable line: `12:00:01.234 INFO  message key=value ...` (stack traces below). */
export function formatLogLine(line: string, colour = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const { level, time, msg, ...fields } = record;
  const paint = (code: string, text: string): string => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const [name, code] = LEVELS[Number(level)] ?? [String(level).padEnd(5), '0'];
  const parts = [paint('2', clock(typeof time === 'number' ? time : Date.now())), paint(code, name)];
  if (typeof msg === 'string' && msg !== '') parts.push(msg);
  let stack = '';
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'err' && value !== null && typeof value === 'object') {
      const error = value as { message?: unknown; stack?: unknown };
      parts.push(`${paint('2', 'err=')}${fieldValue(error.message ?? value)}`);
      if (typeof error.stack === 'string') stack = `${error.stack.replace(/^/gm, '    ')}\n`;
      continue;
    }
    parts.push(`${paint('2', `${key}=`)}${fieldValue(value)}`);
  }
  return `${parts.join(' ')}\n${stack}`;
}

function clock(time: number): string {
  const date = new Date(time);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

// Bare when it reads unambiguously, JSON otherwise (spaces, quotes, '=' or an object).
function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}
