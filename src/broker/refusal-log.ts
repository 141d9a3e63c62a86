import type { Logger } from 'pino';
import type { EmitterError } from '../errors.js';

/** The client a refusal went to, as the log names it (the broker's sessions fit this shape). */
export interface RefusedClient {
  /** Emitter's connection id. */
  readonly id: string;
  readonly clientId: string;
  readonly connection?: { readonly remoteAddress: string };
}

/** How many refusals are logged per second before the rest are only counted. */
export const DEFAULT_REFUSALS_PER_SECOND = 20;

/**
 * Logs refused requests (bad key, missing permission, bad topic, oversize...) at `info`: client id,
 * remote address, status and reason, never the key. A flood of them cannot fill the disk: at most
 * `perSecond` lines in each one-second window, then one `suppressed` line at the end of the window with
 * the count by status. With `info` off it costs one level check per refusal.
 */
export class RefusalLog {
  private windowStart = 0;
  private loggedInWindow = 0;
  private suppressed = 0;
  private suppressedByStatus = new Map<number, number>();
  private summaryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly perSecond = DEFAULT_REFUSALS_PER_SECOND,
  ) {}

  /** Records one refusal sent to `client`. */
  refused(client: RefusedClient, error: EmitterError): void {
    if (!this.logger.isLevelEnabled('info')) return;
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.loggedInWindow = 0;
    }
    if (this.loggedInWindow < this.perSecond) {
      this.loggedInWindow++;
      this.logger.info(
        {
          clientId: client.clientId,
          connection: client.id,
          remoteAddress: client.connection?.remoteAddress ?? '',
          status: error.status,
          reason: error.message,
        },
        'request refused',
      );
      return;
    }
    this.suppressed++;
    this.suppressedByStatus.set(error.status, (this.suppressedByStatus.get(error.status) ?? 0) + 1);
    // One summary per window, at its end, even if the flood stops here.
    this.summaryTimer ??= setTimeout(() => this.flush(), this.windowStart + 1000 - now);
    this.summaryTimer.unref();
  }

  /** Logs the pending `suppressed` summary now (also called when its window ends). */
  flush(): void {
    if (this.summaryTimer) clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    if (this.suppressed === 0) return;
    this.logger.info(
      {
        suppressed: this.suppressed,
        byStatus: Object.fromEntries(this.suppressedByStatus),
        perSecond: this.perSecond,
      },
      'refused requests not logged (rate limit)',
    );
    this.suppressed = 0;
    this.suppressedByStatus = new Map();
  }
}
