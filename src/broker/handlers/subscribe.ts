import type { ISubscribePacket } from 'mqtt-packet';
import { normalizeSubscribeTopic, parseChannel, type QoS } from '../../channel/index.js';
import { EmitterError, Errors } from '../../errors.js';
import { reasonCodeOf, reasonStringOf } from '../mqtt5.js';
import { topicTooLong } from '../topic-limits.js';
import type { ClientSession } from '../session.js';

const SUBACK_FAILURE = 0x80;

/**
 * SUBSCRIBE: each filter is authorised and added at the QoS asked for (0, 1 or 2, all served); stored
 * messages replay at that QoS. SUBACK lists the grants, then any errors follow on `emitter/error/`.
 */
export async function handleSubscribe(session: ClientSession, packet: ISubscribePacket): Promise<void> {
  const granted: number[] = [];
  const errors: EmitterError[] = [];
  for (const { topic, qos } of packet.subscriptions) {
    const asked = (qos >= 0 && qos <= 2 ? qos : 0) as QoS;
    const channel = parseChannel(normalizeSubscribeTopic(topic));
    const result = topicTooLong(topic, session.core.limits)
      ? Errors.TopicTooLong
      : // Only a persistent session keeps the filter text (for its store): memory per idle connection.
        await session.core.pubsub.subscribe(session, channel, true, asked, session.persistent ? topic : '');
    if (result instanceof EmitterError) {
      // MQTT 5 says why per filter; 3.1.1 has one failure code.
      granted.push(session.v5 ? reasonCodeOf(result, 'subscribe') : SUBACK_FAILURE);
      errors.push(result);
    } else {
      granted.push(asked);
      session.journal?.subscribe(topic, asked);
    }
  }
  session.connection.suback({
    messageId: packet.messageId,
    granted,
    ...(errors.length > 0 ? { properties: { reasonString: reasonStringOf(errors) } } : {}),
  });
  for (const error of errors) session.sendError(error, packet.messageId);
}
