import { Errors, type EmitterError } from '../../errors.js';
import { parseJsonObject } from '../request.js';

/** `emitter/keygen/` request: `{key, channel, type, ttl}` (JSON names as the SDKs send them). */
export interface KeygenRequest {
  readonly key: string;
  readonly channel: string;
  readonly type: string;
  readonly ttl: number;
}

/** `emitter/keygen/` success body. */
export interface KeygenResponse {
  readonly status: 200;
  readonly key: string;
  readonly channel: string;
}

/** Reads a keygen request; missing fields take Go's zero values, wrong types are a bad request. */
export function parseKeygenRequest(payload: Buffer): KeygenRequest | EmitterError {
  const body = parseJsonObject(payload);
  if (!body) return Errors.BadRequest;
  const { key = '', channel = '', type = '', ttl = 0 } = body;
  if (typeof key !== 'string' || typeof channel !== 'string' || typeof type !== 'string')
    return Errors.BadRequest;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 0x7fffffff)
    return Errors.BadRequest;
  return { key, channel, type, ttl };
}
