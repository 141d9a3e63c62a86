import { Errors, type EmitterError } from '../../errors.js';
import { parseJsonObject } from '../request.js';

/** `emitter/keyban/` request: the secret key, the key to (un)ban, and which. */
export interface KeyBanRequest {
  readonly secret: string;
  readonly target: string;
  readonly banned: boolean;
}

/** `emitter/keyban/` success body. */
export interface KeyBanResponse {
  readonly status: 200;
  readonly banned: boolean;
}

/** Reads a keyban request. */
export function parseKeyBanRequest(payload: Buffer): KeyBanRequest | EmitterError {
  const body = parseJsonObject(payload);
  if (!body) return Errors.BadRequest;
  const { secret = '', target = '', banned = false } = body;
  if (typeof secret !== 'string' || typeof target !== 'string' || typeof banned !== 'boolean')
    return Errors.BadRequest;
  return { secret, target, banned };
}
