import { EmitterError } from '../../errors.js';
import type { KeyAuthority } from '../../security/index.js';
import type { RequestHandler } from '../request.js';
import { parseKeygenRequest, type KeygenResponse } from './wire.js';

/** `emitter/keygen/`: a channel key from the secret key, or a private-channel key from an extend key. */
export function createKeygenHandler(authority: KeyAuthority): RequestHandler {
  return {
    name: 'keygen',
    handle(session, payload) {
      const request = parseKeygenRequest(payload);
      if (request instanceof EmitterError) return request;
      const created = authority.keygen(request, session.id);
      if (created instanceof EmitterError) return created;
      const response: KeygenResponse = { status: 200, key: created.key, channel: created.channel };
      return { ...response };
    },
  };
}
