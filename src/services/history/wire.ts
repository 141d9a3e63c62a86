import { Errors, type EmitterError } from '../../errors.js';
import { messageIdFromBase64 } from '../../storage/index.js';
import { parseJsonObject } from '../request.js';

/** `emitter/history/` request: `channel` holds the key and options (`KEY/a/b/?last=5&from=..`). */
export interface HistoryRequest {
  readonly channel: string;
  readonly startFromId?: Buffer;
}

/** One stored message in a history reply; `id` and `payload` are standard base64. */
export interface HistoryMessage {
  readonly id: string;
  readonly channel: string;
  readonly payload: string;
}

/** `emitter/history/` success body. */
export interface HistoryResponse {
  readonly status: 200;
  readonly messages: HistoryMessage[];
}

/** Reads a history request; the `key` field is ignored as in Emitter (the key is inside `channel`). */
export function parseHistoryRequest(payload: Buffer): HistoryRequest | EmitterError {
  const body = parseJsonObject(payload);
  if (!body) return Errors.BadRequest;
  const { channel = '', startFromID = null } = body;
  if (typeof channel !== 'string') return Errors.BadRequest;
  if (startFromID === null || startFromID === '') return { channel };
  if (typeof startFromID !== 'string') return Errors.BadRequest;
  const startFromId = messageIdFromBase64(startFromID);
  return startFromId ? { channel, startFromId } : Errors.BadRequest;
}
