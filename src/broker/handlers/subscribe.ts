import type { ISubscribePacket } from 'mqtt-packet';
import { normalizeSubscribeTopic, parseChannel, type QoS } from '../../channel/index.js';
import { EmitterError, Errors } from '../../errors.js';
import { callHook, HOOK_REFUSED } from '../hooks.js';
import { keyedTopic } from '../keyless.js';
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
    const core = session.core;
    const channel = parseChannel(keyedTopic(core.keylessKey, normalizeSubscribeTopic(topic)));
    const authorize = core.hooks.authorizeSubscribe;
    let result: EmitterError | object;
    if (topicTooLong(topic, core.limits)) result = Errors.TopicTooLong;
    else {
      // The application's rule, asked only about what the limits and the channel key allow.
      const refusal =
        authorize === undefined
          ? undefined
          : (core.pubsub.checkRead(channel) ??
            (await callHook(
              'authorizeSubscribe',
              session,
              () => authorize(session, { topic, channel: channel.channel, qos: asked }),
              HOOK_REFUSED,
              core.hookOptions,
            )));
      // Only a persistent session keeps the filter text (for its store): memory per idle connection.
      result =
        refusal ??
        (await core.pubsub.subscribe(session, channel, true, asked, session.persistent ? topic : ''));
    }
    if (result instanceof EmitterError) {
      granted.push(SUBACK_FAILURE);
      errors.push(result);
    } else {
      granted.push(asked);
      session.journal?.subscribe(topic, asked);
    }
  }
  session.connection.suback({ messageId: packet.messageId, granted });
  for (const error of errors) session.sendError(error, packet.messageId);
}
