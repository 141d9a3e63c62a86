import { Errors, type EmitterError } from '../../errors.js';
import { parseJsonObject } from '../request.js';

/** `emitter/link/` request; `private` (sent by the JS SDK) asks for a private channel of this connection. */
export interface LinkRequest {
  readonly name: string;
  readonly key: string;
  readonly channel: string;
  readonly subscribe: boolean;
  readonly private: boolean;
}

/** `emitter/link/` success body: the name and the linked channel (without key, with options). */
export interface LinkResponse {
  readonly status: 200;
  readonly name: string;
  readonly channel: string;
}

const LINK_NAME = /^[a-zA-Z0-9]{1,2}$/;

/** Reads a link request; a bad name is `ErrLinkInvalid`, other malformed bodies a bad request. */
export function parseLinkRequest(payload: Buffer): LinkRequest | EmitterError {
  const body = parseJsonObject(payload);
  if (!body) return Errors.BadRequest;
  const { name = '', key = '', channel = '', subscribe = false, private: isPrivate = false } = body;
  if (typeof name !== 'string' || !LINK_NAME.test(name)) return Errors.LinkInvalid;
  if (typeof key !== 'string' || typeof channel !== 'string') return Errors.BadRequest;
  if (typeof subscribe !== 'boolean' || typeof isPrivate !== 'boolean') return Errors.BadRequest;
  return { name, key, channel, subscribe, private: isPrivate };
}
