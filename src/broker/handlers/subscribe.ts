import type { ISubscribePacket } from 'mqtt-packet';
import {
  normalizeSubscribeTopic,
  parseChannel,
  type QoS,
  type SubscriptionOptions,
} from '../../channel/index.js';
import { EmitterError, Errors } from '../../errors.js';
import { MqttErrorCode } from '../../mqtt/index.js';
import { reasonCodeOf, reasonStringOf } from '../mqtt5.js';
import { callHook, HOOK_REFUSED } from '../hooks.js';
import { keyedTopic } from '../keyless.js';
import { plainFilterChannel, storedPlainFilter } from '../plain.js';
import { holdsNullCharacter, topicTooLong } from '../topic-limits.js';
import type { ClientSession } from '../session.js';

const SUBACK_FAILURE = 0x80;
// The options of a plain subscription without MQTT 5 options: one object for all (the trie compares
// options by identity to tell a changed subscription).
const PLAIN_OPTIONS: SubscriptionOptions = Object.freeze({ plain: true });

// A subscription's options as the session store keeps them (the stored filter says whether it is plain).
function storedOptions(options: SubscriptionOptions | undefined): SubscriptionOptions | undefined {
  if (options?.plain !== true) return options;
  const { plain: _plain, ...rest } = options;
  return Object.keys(rest).length === 0 ? undefined : rest;
}

/**
 * SUBSCRIBE: each filter is authorised and added at the QoS asked for (0, 1 or 2, all served); stored
 * messages replay at that QoS. SUBACK lists the grants (MQTT 5: or a reason code per filter), then any
 * errors follow on `emitter/error/`. MQTT 5 options: No Local, Retain As Published, Retain Handling and
 * the Subscription Identifier; `$share/<group>/<filter>` is Emitter's `KEY/$share/<group>/<channel>`.
 */
export async function handleSubscribe(session: ClientSession, packet: ISubscribePacket): Promise<void> {
  const granted: number[] = [];
  const errors: EmitterError[] = [];
  // Errors also sent on `emitter/error/`: not those of plain filters (their clients never asked for them).
  const told: EmitterError[] = [];
  const v5 = session.v5 !== undefined;
  const identifier = v5 ? firstIdentifier(packet.properties?.subscriptionIdentifier) : undefined;
  const core = session.core;
  if (packet.subscriptions.some((subscription) => holdsNullCharacter(subscription.topic))) {
    session.connection.protocolError(MqttErrorCode.Malformed, 'a topic filter holds U+0000 [MQTT-1.5.3-2]');
    return;
  }
  for (const subscription of packet.subscriptions) {
    const { qos } = subscription;
    const asked = (qos >= 0 && qos <= 2 ? qos : 0) as QoS;
    let topic = subscription.topic;
    // A plain MQTT filter (README "Plain MQTT clients"), `$share/<group>/` included in every version.
    const plain = plainFilterChannel(session.plain, core.authority, topic);
    const shared = plain !== undefined ? undefined : v5 ? sharedToEmitter(topic) : undefined;
    if (subscription.nl === true && (shared !== undefined || (plain && topic.startsWith('$share/')))) {
      // No Local on a shared subscription is a protocol error [MQTT-3.8.3-4].
      session.connection.protocolError(MqttErrorCode.ProtocolError, 'No Local on a shared subscription');
      return;
    }
    if (shared !== undefined) topic = shared;
    const options: SubscriptionOptions | undefined =
      v5 && (subscription.nl === true || subscription.rap === true || identifier !== undefined)
        ? {
            ...(subscription.nl === true ? { noLocal: true } : {}),
            ...(subscription.rap === true ? { retainAsPublished: true } : {}),
            ...(identifier !== undefined ? { identifier } : {}),
            ...(plain !== undefined ? { plain: true } : {}),
          }
        : plain !== undefined
          ? PLAIN_OPTIONS
          : undefined;
    // Retain Handling: 0 stored messages at every subscribe, 1 only for a new subscription, 2 never.
    // Emitter filters replay stored messages (`?last=`); plain ones get MQTT's retained messages instead.
    const retainHandling = v5 ? (subscription.rh ?? 0) : 0;
    const replay = retainHandling === 2 ? false : retainHandling === 1 ? 'if-new' : true;
    const channel = plain ?? parseChannel(keyedTopic(core.keylessKey, normalizeSubscribeTopic(topic)));
    // What a persistent session stores: a plain filter with the key it was read under.
    const stored =
      plain !== undefined && session.plain !== undefined ? storedPlainFilter(session.plain, topic) : topic;
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
        (await core.pubsub.subscribe(
          session,
          channel,
          replay,
          asked,
          session.persistent ? stored : '',
          options,
          plain !== undefined ? topic : undefined,
        ));
    }
    if (result instanceof EmitterError) {
      // MQTT 5 says why per filter; 3.1.1 has one failure code.
      granted.push(v5 ? reasonCodeOf(result, 'subscribe') : SUBACK_FAILURE);
      errors.push(result);
      if (plain === undefined) told.push(result);
      else session.counted(result);
    } else {
      granted.push(asked);
      session.journal?.subscribe(stored, asked, storedOptions(options));
    }
  }
  session.connection.suback({
    messageId: packet.messageId,
    granted,
    ...(errors.length > 0 ? { properties: { reasonString: reasonStringOf(errors) } } : {}),
  });
  for (const error of told) session.sendError(error, packet.messageId);
}

/**
 * An MQTT 5 shared subscription `$share/<group>/<filter>` as Emitter writes it, `<key>/$share/<group>/<channel>`
 * (the filter starts with the channel key); undefined for any other filter.
 */
export function sharedToEmitter(filter: string): string | undefined {
  if (!filter.startsWith('$share/')) return undefined;
  const groupEnd = filter.indexOf('/', 7);
  if (groupEnd <= 7) return undefined;
  const group = filter.slice(7, groupEnd);
  const rest = filter.slice(groupEnd + 1);
  const keyEnd = rest.indexOf('/');
  if (keyEnd <= 0) return undefined;
  return `${rest.slice(0, keyEnd)}/$share/${group}/${rest.slice(keyEnd + 1)}`;
}

function firstIdentifier(value: number | number[] | undefined): number | undefined {
  return Array.isArray(value) ? value[0] : value;
}
