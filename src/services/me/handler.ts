import type { RequestHandler } from '../request.js';
import type { Session } from '../session.js';
import type { MeResponse } from './wire.js';

/** `emitter/me/`: tells a connection its id and links; the payload is ignored (JS sends '', Go 'null'). */
export const meHandler: RequestHandler = {
  name: 'me',
  handle(session: Session) {
    const response: MeResponse =
      session.links.size === 0
        ? { status: 200, id: session.id }
        : { status: 200, id: session.id, links: Object.fromEntries(linkChannels(session.links)) };
    return { ...response };
  },
};

// Links are stored as full topics (`KEY/chan/?opts`); clients are shown the channel without the key.
function* linkChannels(links: Map<string, string>): Iterable<[string, string]> {
  for (const [name, topic] of links) {
    const slash = topic.indexOf('/');
    yield [name, slash >= 0 ? topic.slice(slash + 1) : topic];
  }
}
