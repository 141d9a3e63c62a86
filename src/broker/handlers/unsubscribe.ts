import type { IUnsubscribePacket } from 'mqtt-packet';
import { normalizeSubscribeTopic, parseChannel } from '../../channel/index.js';
import type { EmitterError } from '../../errors.js';
import { keyedTopic } from '../keyless.js';
import type { ClientSession } from '../session.js';

/** UNSUBSCRIBE: removes each topic filter (a persistent session's store too), then UNSUBACK, then errors. */
export function handleUnsubscribe(session: ClientSession, packet: IUnsubscribePacket): void {
  const errors: EmitterError[] = [];
  for (const topic of packet.unsubscriptions) {
    const channel = parseChannel(keyedTopic(session.core.keylessKey, normalizeSubscribeTopic(topic)));
    const error = session.core.pubsub.unsubscribe(session, channel);
    if (error) errors.push(error);
    else session.journal?.unsubscribe(topic);
  }
  session.connection.unsuback({ messageId: packet.messageId });
  for (const error of errors) session.sendError(error, packet.messageId);
}
