/**
 * How services log the failures they turn into error replies (storage errors, request handlers that
 * throw): a bounded number of lines, and only an error's type, code and message.
 */

/**
 * A cap on how many lines of one kind reach the log per second: a Redis outage under load fails
 * thousands of operations a second, and one warning for each would bury everything else. The metrics
 * still count every failure; a line let through after some were skipped says how many.
 */
export class LogThrottle {
  private windowStart = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private skipped = 0;

  constructor(private readonly perSecond = 10) {}

  /** `undefined` when this line is to be skipped; otherwise how many were skipped since the last one. */
  admit(now = Date.now()): number | undefined {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.perSecond) {
      this.skipped++;
      return undefined;
    }
    this.inWindow++;
    const skipped = this.skipped;
    this.skipped = 0;
    return skipped;
  }
}

/**
 * The fields of an error worth logging: type, code and message. Never the error object itself: a
 * driver's errors carry the command and its arguments (keys, payloads) as properties.
 */
export function errorFields(error: unknown): { type: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    ...(typeof code === 'string' && { code }),
    message: error.message,
  };
}
