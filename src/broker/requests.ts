import type { Logger } from 'pino';
import type { ParsedChannel } from '../channel/index.js';
import { EmitterError, Errors } from '../errors.js';
import { errorFields, LogThrottle } from '../services/failure-log.js';
import { RequestFailure, type RequestHandler, type RequestResult } from '../services/request.js';
import type { Session } from '../services/session.js';
import type { RefusalLog } from './refusal-log.js';

/** What the request router reports to. */
export interface RequestRouterOptions {
  /** Where a handler that throws is reported (error, with the request name; never the body). */
  readonly logger?: Logger;
  /** Counts every error reply by Emitter status (`emitter_request_errors_total`). */
  readonly counters?: { error(status: number): void };
  /** Logs refused requests (info, rate-limited). */
  readonly refusals?: RefusalLog;
  /** The application's `authorizeRequest` hook, called (safely) before the handler; absent when not set. */
  readonly authorize?: (
    session: Session,
    name: string,
    payload: Buffer,
  ) => EmitterError | undefined | Promise<EmitterError | undefined>;
}

/** Routes `emitter/<name>/` publishes to the built-in request handlers and sends their replies. */
export class RequestRouter {
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly failureThrottle = new LogThrottle();

  constructor(
    handlers: Iterable<RequestHandler>,
    private readonly options: RequestRouterOptions = {},
  ) {
    for (const handler of handlers) this.handlers.set(handler.name, handler);
  }

  /** Adds (or replaces) a handler. */
  register(handler: RequestHandler): void {
    this.handlers.set(handler.name, handler);
  }

  /**
   * Handles one request and replies on the request topic (`emitter/<name>/[?options]`), errors
   * included: the Go SDK waits for its reply there, matched by `req` (the PUBLISH packet id).
   */
  async handle(
    session: Session,
    channel: ParsedChannel,
    payload: Buffer,
    req: number | undefined,
  ): Promise<void> {
    const topic = channel.rawOptions
      ? `emitter/${channel.channel}?${channel.rawOptions}`
      : `emitter/${channel.channel}`;
    const handler = channel.levels.length === 1 ? this.handlers.get(channel.levels[0]) : undefined;
    let result: RequestResult;
    const refusal =
      handler && this.options.authorize
        ? await this.options.authorize(session, handler.name, payload)
        : undefined;
    if (!handler) {
      result = Errors.NotFound;
    } else if (refusal !== undefined) {
      result = refusal;
    } else {
      try {
        result = await handler.handle(session, payload);
      } catch (error) {
        this.handlerFailed(handler.name, error);
        result = Errors.ServerError;
      }
    }
    const error = result instanceof RequestFailure ? result.error : result;
    if (error instanceof EmitterError) this.options.counters?.error(error.status);
    if (error instanceof EmitterError) this.options.refusals?.refused(session, error);
    session.sendJson(topic, replyBody(result, req));
  }

  // A handler that throws is a bug (expected failures are returned as errors): log it, bounded.
  private handlerFailed(request: string, error: unknown): void {
    const skipped = this.failureThrottle.admit();
    if (skipped === undefined) return;
    const stack = error instanceof Error ? error.stack : undefined;
    this.options.logger?.error(
      { request, error: errorFields(error), stack, ...(skipped > 0 && { skipped }) },
      'request handler failed',
    );
  }
}

// Field order follows the Go structs: req first, then the handler's fields.
function replyBody(result: RequestResult, req: number | undefined): object {
  if (result instanceof EmitterError) return result.toJSON(req);
  if (result instanceof RequestFailure) return { ...result.error.toJSON(req), ...result.fields };
  return req ? { req, ...result } : result;
}
