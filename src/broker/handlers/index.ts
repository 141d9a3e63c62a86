/** A client's packets, each type handled in its own module (as Aedes' `lib/handlers/`). */

import type { Packet } from 'mqtt-packet';
import type { ClientSession } from '../session.js';
import { handlePuback, handlePubcomp, handlePubrec } from './acknowledgements.js';
import { handleAuth } from './auth.js';
import { handleConnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import { handlePublish, handlePubrel } from './publish.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

/** Routes one packet from the client to its handler. */
export function handlePacket(session: ClientSession, packet: Packet): void {
  switch (packet.cmd) {
    case 'publish':
      return handlePublish(session, packet);
    case 'connect':
      return handleConnect(session, packet);
    case 'subscribe':
      return void handleSubscribe(session, packet).catch((error: unknown) => session.fail(error));
    case 'unsubscribe':
      return handleUnsubscribe(session, packet);
    case 'puback':
      return handlePuback(session, packet.messageId ?? 0);
    case 'pubrec':
      return handlePubrec(session, packet.messageId ?? 0);
    case 'pubrel':
      return handlePubrel(session, packet.messageId ?? 0);
    case 'pubcomp':
      return handlePubcomp(session, packet.messageId ?? 0);
    case 'pingreq':
      return session.connection.pingresp();
    case 'disconnect':
      return handleDisconnect(session, packet);
    case 'auth':
      return handleAuth(session);
    default:
      return;
  }
}
