import type { IUnsubscribePacket } from 'mqtt-packet';
import { normalizeSubscribeTopic, parseChannel } from '../../channel/index.js';
import type { EmitterError } from '../../errors.js';
import { MqttErrorCode, ReasonCode } from '../../mqtt/index.js';
import { reasonCodeOf, reasonStringOf } from '../mqtt5.js';
import { keyedTopic } from '../keyless.js';
import { plainFilterChannel, storedPlainFilter } from '../plain.js';
import type { ClientSession } from '../session.js';
import { holdsNullCharacter } from '../topic-limits.js';
import { sharedToEmitter } from './subscribe.js';

/**
 * UNSUBSCRIBE: removes each topic filter (a persistent session's store too), then UNSUBACK (MQTT 5: a
 * reason code per filter, 0x11 for one that was not subscribed), then errors.
 */
export function handleUnsubscribe(session: ClientSession, packet: IUnsubscribePacket): void {
  const errors: EmitterError[] = [];
  const codes: number[] = [];
  const told: EmitterError[] = [];
  if (packet.unsubscriptions.some(holdsNullCharacter)) {
    session.connection.protocolError(MqttErrorCode.Malformed, 'a topic filter holds U+0000 [MQTT-1.5.3-2]');
    return;
  }
  for (const filter of packet.unsubscriptions) {
    const plain = plainFilterChannel(session.plain, session.core.authority, filter);
    const topic = plain !== undefined ? filter : (session.v5 && sharedToEmitter(filter)) || filter;
    const before = session.subscriptions.size;
    const channel =
      plain ?? parseChannel(keyedTopic(session.core.keylessKey, normalizeSubscribeTopic(topic)));
    const error = session.core.pubsub.unsubscribe(session, channel);
    if (error) {
      errors.push(error);
      if (plain === undefined) told.push(error);
      else session.counted(error);
      codes.push(reasonCodeOf(error, 'subscribe'));
    } else {
      const access = session.plain;
      session.journal?.unsubscribe(plain && access ? storedPlainFilter(access, filter) : topic);
      codes.push(session.subscriptions.size < before ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted);
    }
  }
  session.connection.unsuback({
    messageId: packet.messageId,
    granted: codes,
    ...(errors.length > 0 ? { properties: { reasonString: reasonStringOf(errors) } } : {}),
  });
  for (const error of told) session.sendError(error, packet.messageId);
}
