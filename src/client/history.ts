import type { ClientCore } from './core.js';
import { historyBody, type HistoryRequest } from './wire.js';
import { EmitterRequestError, HistoryMessage } from './message.js';

/**
 * The stored messages a history request asks for, one `emitter/history/` reply at a time: the newest page
 * first, each page oldest first. A reply holds what fits one MQTT message, so the next page asks for the
 * rest (`last` minus what came) older than the oldest message so far (`startFromID`), as the Go SDK does.
 */
export async function* historyPages(
  core: ClientCore,
  request: HistoryRequest,
): AsyncGenerator<HistoryMessage[]> {
  let remaining = request.last ?? 1;
  let startFromID = request.startFromID;
  while (remaining > 0) {
    const body = historyBody({ ...request, last: remaining, startFromID });
    const reply = await core.request('history', JSON.stringify(body), 'claim');
    const messages = decodeMessages(reply.messages);
    if (messages.length === 0) return;
    yield messages;
    remaining -= messages.length;
    startFromID = messages[0].id;
  }
}

/** All the messages a history request asks for, oldest first. */
export async function history(core: ClientCore, request: HistoryRequest): Promise<HistoryMessage[]> {
  let all: HistoryMessage[] = [];
  for await (const page of historyPages(core, request)) all = page.concat(all);
  return all;
}

function decodeMessages(messages: unknown): HistoryMessage[] {
  if (!Array.isArray(messages)) throw new EmitterRequestError(500, 'history reply without messages');
  return messages.map((message: { id?: unknown; channel?: unknown; payload?: unknown }) => {
    if (
      typeof message.id !== 'string' ||
      typeof message.channel !== 'string' ||
      typeof message.payload !== 'string'
    )
      throw new EmitterRequestError(500, 'malformed message in a history reply');
    return new HistoryMessage(message.id, { topic: message.channel, payload: fromBase64(message.payload) });
  });
}

function fromBase64(text: string): Uint8Array {
  if (typeof Buffer !== 'undefined') return Buffer.from(text, 'base64');
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
