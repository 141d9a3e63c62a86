import type { ParsedChannel } from '../channel/index.js';
import { EmitterError, Errors } from '../errors.js';
import { RequestFailure, type RequestHandler, type RequestResult } from '../services/request.js';
import type { Session } from '../services/session.js';
import type { RefusalLog } from './refusal-log.js';

/** Routes `emitter/<name>/` publishes to the built-in request handlers and sends their replies. */
export class RequestRouter {
  private readonly handlers = new Map<string, RequestHandler>();

  constructor(
    handlers: Iterable<RequestHandler>,
    private readonly refusals?: RefusalLog,
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
    if (!handler) {
      result = Errors.NotFound;
    } else {
      try {
        result = await handler.handle(session, payload);
      } catch {
        result = Errors.ServerError;
      }
    }
    if (result instanceof EmitterError) this.refusals?.refused(session, result);
    else if (result instanceof RequestFailure) this.refusals?.refused(session, result.error);
    session.sendJson(topic, replyBody(result, req));
  }
}

// Field order follows the Go structs: req first, then the handler's fields.
function replyBody(result: RequestResult, req: number | undefined): object {
  if (result instanceof EmitterError) return result.toJSON(req);
  if (result instanceof RequestFailure) return { ...result.error.toJSON(req), ...result.fields };
  return req ? { req, ...result } : result;
}
