import { ChannelKind, parseChannel } from '../../channel/index.js';
import { EmitterError, Errors } from '../../errors.js';
import { Permission, type KeyAuthority } from '../../security/index.js';
import type { PubSub } from '../pubsub/pubsub.js';
import type { RequestHandler, RequestResult } from '../request.js';
import type { Session } from '../session.js';
import { parseLinkRequest, type LinkResponse } from './wire.js';

/** What the link service needs: key checks and subscribing. */
export interface LinkDependencies {
  readonly authority: KeyAuthority;
  readonly pubsub: PubSub;
}

/**
 * `emitter/link/`: a 1-2 character alias of this connection for `KEY/channel/?options`; publishing to
 * the alias publishes there. Unlike the Go broker, the key must be valid for the channel when the link
 * is made (our decision 7), and `private: true` derives a private channel with an extend key.
 */
export function createLinkHandler(deps: LinkDependencies): RequestHandler {
  return {
    name: 'link',
    handle(session: Session, payload: Buffer): RequestResult {
      const request = parseLinkRequest(payload);
      if (request instanceof EmitterError) return request;
      let key = request.key;
      let target = parseChannel(`${key}/${request.channel}`);
      if (target.kind !== ChannelKind.Static) return Errors.BadRequest;
      if (request.private) {
        // A private link is a channel of this connection: `<channel><connection id>/`, with a key derived
        // from the extend key that can never outlive it.
        const extended = deps.authority.extendKey(
          { key, channel: target.channel, type: 'rwslp', ttl: 0 },
          session.id,
        );
        if (extended instanceof EmitterError) return extended;
        key = extended.key;
        const options = target.rawOptions ? `?${target.rawOptions}` : '';
        target = parseChannel(`${key}/${extended.channel}${options}`);
      } else {
        const authorized = deps.authority.authorize(key, target.channel, 0);
        if (authorized instanceof EmitterError) return authorized;
      }
      const channel = target.rawOptions ? `${target.channel}?${target.rawOptions}` : target.channel;
      session.links.set(request.name, `${key}/${channel}`);
      if (
        request.subscribe &&
        !(deps.authority.authorize(key, target.channel, Permission.Read) instanceof EmitterError)
      ) {
        void deps.pubsub.subscribe(session, target, false);
      }
      const response: LinkResponse = { status: 200, name: request.name, channel };
      return { ...response };
    },
  };
}
