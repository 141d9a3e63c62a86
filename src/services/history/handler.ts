import { parseChannel } from '../../channel/index.js';
import { EmitterError } from '../../errors.js';
import type { PubSub } from '../pubsub/pubsub.js';
import type { RequestHandler } from '../request.js';
import { parseHistoryRequest, type HistoryResponse } from './wire.js';

// A reply must fit one 64 KiB PUBLISH: base64 adds a third, and the JSON around each message a little.
const MAX_RAW_BYTES = Math.floor(((65536 - 1024) * 3) / 4) - 4096;

/**
 * `emitter/history/`: stored messages of a channel as JSON (`last`, `from`, `until` in the channel's
 * options, paging with `startFromID`). Pages are capped to fit one message instead of being dropped.
 */
export function createHistoryHandler(pubsub: PubSub): RequestHandler {
  return {
    name: 'history',
    async handle(_session, payload) {
      const request = parseHistoryRequest(payload);
      if (request instanceof EmitterError) return request;
      const messages = await pubsub.history(parseChannel(request.channel), {
        startFromId: request.startFromId,
        maxBytes: MAX_RAW_BYTES,
      });
      if (messages instanceof EmitterError) return messages;
      const response: HistoryResponse = {
        status: 200,
        messages: messages.map((message) => ({
          id: message.id.toString('base64'),
          channel: message.channel,
          payload: message.payload.toString('base64'),
        })),
      };
      return { ...response };
    },
  };
}
