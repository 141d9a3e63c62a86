import type { EmitterError } from '../errors.js';
import type { Session } from './session.js';

/** An error reply that must carry extra fields (presence errors keep `channel` for the Python SDK). */
export class RequestFailure {
  constructor(
    readonly error: EmitterError,
    readonly fields: Record<string, unknown>,
  ) {}
}

/** What a built-in request handler returns: the success body, or the error to answer with. */
export type RequestResult = Record<string, unknown> | EmitterError | RequestFailure;

/** A built-in `emitter/<name>/` request handler (keygen, me, presence, link, ...). */
export interface RequestHandler {
  /** The request name, the single channel level after `emitter/`. */
  readonly name: string;
  /** Handles one request; the broker adds `req` and sends the reply on the request topic. */
  handle(session: Session, payload: Buffer): RequestResult | Promise<RequestResult>;
}

/**
 * Parses a JSON request body into an object, or undefined when it is not a JSON object. As Go's
 * encoding/json does for Emitter, `null` stands for "nothing here": a `null` body is an empty object and
 * a `null` field is left out, so both take the handler's zero values (a `null` keygen body is then a
 * 401 for its missing key, not a 400).
 */
export function parseJsonObject(payload: Buffer): Record<string, unknown> | undefined {
  if (payload.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  const body = value as Record<string, unknown>;
  for (const field of Object.keys(body)) if (body[field] === null) delete body[field];
  return body;
}
