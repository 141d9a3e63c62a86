import { EmitterError, Errors } from '../../errors.js';
import type { KeyAuthority } from '../../security/index.js';
import type { RequestHandler } from '../request.js';
import { parseKeyBanRequest, type KeyBanResponse } from './wire.js';

/** `emitter/keyban/`: the secret key's holder blocks (or unblocks) one channel key of its contract. */
export function createKeyBanHandler(authority: KeyAuthority): RequestHandler {
  return {
    name: 'keyban',
    handle(_session, payload) {
      const request = parseKeyBanRequest(payload);
      if (request instanceof EmitterError) return request;
      const secret = authority.decrypt(request.secret);
      const now = Math.floor(Date.now() / 1000);
      if (!secret || !secret.isMaster() || secret.isExpired(now)) return Errors.Unauthorized;
      const target = authority.decrypt(request.target);
      if (!target || target.contract !== secret.contract) return Errors.Unauthorized;
      if (request.banned) authority.ban(request.target);
      else authority.unban(request.target);
      const response: KeyBanResponse = { status: 200, banned: request.banned };
      return { ...response };
    },
  };
}
