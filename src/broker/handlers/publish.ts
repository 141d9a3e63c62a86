import type { IPublishPacket } from 'mqtt-packet';
import { ChannelKind, ParsedChannelCache, type ParsedChannel, type QoS } from '../../channel/index.js';
import { EmitterError, Errors } from '../../errors.js';
import type { PublishOutcome } from '../../services/pubsub/pubsub.js';
import { isUtf8 } from 'node:buffer';
import { MqttErrorCode, ReasonCode, type PublishProperties } from '../../mqtt/index.js';
import { reasonCodeOf } from '../mqtt5.js';
import type { ClientSession, Mqtt5State } from '../session.js';
import { callHook, HOOK_REFUSED } from '../hooks.js';
import { collectQueuedWrites } from '../journal.js';
import { keyedTopic } from '../keyless.js';
import { plainTopicChannel } from '../plain.js';
import { holdsNullCharacter, topicTooLong } from '../topic-limits.js';

/**
 * PUBLISH from the client: QoS 2 is acknowledged with PUBREC (a re-sent packet id is not delivered
 * twice), QoS 1 with PUBACK once the message is stored, acks in the order the PUBLISHes came, and any
 * error after the ack on `emitter/error/`.
 */
export function handlePublish(session: ClientSession, packet: IPublishPacket): void {
  const v5 = session.v5;
  if (v5 !== undefined && !acceptV5(session, v5, packet)) return;
  // Checked once per new topic: a repeated one was checked when it was new.
  if (packet.topic !== session.lastPublishedTopic && holdsNullCharacter(packet.topic)) {
    session.connection.protocolError(MqttErrorCode.Malformed, 'the topic holds U+0000 [MQTT-1.5.3-2]');
    return;
  }
  const req = packet.qos > 0 ? packet.messageId : undefined;
  if (packet.qos === 2 && packet.messageId !== undefined) {
    session.pendingQos2 ??= new Set();
    const duplicate = session.pendingQos2.has(packet.messageId);
    session.pendingQos2.add(packet.messageId);
    if (!duplicate) session.journal?.incomingStore(packet.messageId);
    // MQTT 5 answers a new QoS 2 PUBLISH once it is handled, with its outcome as reason code (below).
    if (v5 === undefined || duplicate) session.connection.pubrec({ messageId: packet.messageId });
    if (duplicate) return;
  }
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  // As Emitter, the limit is on the packet (its remaining length: topic and packet id included), not the
  // payload alone.
  let outcome: PublishOutcome;
  const properties = v5 === undefined ? undefined : packet.properties;
  if ((packet.length ?? payload.length) > session.core.limits.messageSize) {
    if (v5 !== undefined) {
      // Above the Maximum Packet Size we announced: a protocol error, DISCONNECT 0x95 [MQTT-3.2.2-15]
      // (the Emitter error first, for Emitter SDKs).
      session.sendError(Errors.MessageTooLarge, req);
      session.connection.disconnect(ReasonCode.PacketTooLarge, Errors.MessageTooLarge.message);
      return;
    }
    outcome = Errors.MessageTooLarge;
  } else if (properties?.payloadFormatIndicator === true && !isUtf8(payload)) {
    // The server may check what the indicator claims [MQTT-3.3.2-4]: refused with 0x99.
    outcome = Errors.PayloadFormatInvalid;
  } else if (packet.qos === 0)
    outcome = processPublish(session, packet.topic, payload, req, packet.retain, 0, properties);
  else {
    // The acknowledgement also waits for the messages this publish queued for persistent sessions to be
    // in the session store: an acknowledged message then survives a crash (with a durable store).
    const { result, writes } = collectQueuedWrites(() =>
      processPublish(session, packet.topic, payload, req, packet.retain, packet.qos, properties),
    );
    outcome = writes ? Promise.all([result, ...writes]).then(([error]) => error) : result;
  }
  // A plain MQTT client hears of a refusal by reason code (MQTT 5) or not at all, as from any MQTT broker:
  // it never asked for Emitter's `emitter/error/` messages.
  const quiet = session.publishingPlain;
  const messageId = packet.qos === 1 || (packet.qos === 2 && v5 !== undefined) ? packet.messageId : undefined;
  if (packet.qos === 1 && messageId !== undefined && v5 !== undefined) v5.incomingQos1++;
  if (messageId === undefined && !(outcome instanceof Promise)) {
    if (outcome) reportError(session, outcome, req, quiet);
    return;
  }
  // Acknowledge before any error caused by the same packet (the Go SDK can stall otherwise), once
  // the message is stored, and in the order the PUBLISHes came.
  const previous = session.ackTail;
  const settle = (error: EmitterError | undefined): void => {
    if (messageId !== undefined) {
      if (v5 === undefined) session.connection.puback({ messageId });
      else {
        // MQTT 5: the refusal is also the PUBACK's (PUBREC's) reason code, with Emitter's text as reason
        // string; a refused QoS 2 exchange ends there [MQTT-4.3.3-4].
        const ack = error
          ? { messageId, reasonCode: reasonCodeOf(error, 'publish'), reasonString: error.message }
          : { messageId };
        if (packet.qos === 1) {
          v5.incomingQos1--;
          session.connection.puback(ack);
        } else {
          if (error && session.pendingQos2?.delete(messageId)) session.journal?.incomingRelease(messageId);
          session.connection.pubrec(ack);
        }
      }
    }
    if (error) reportError(session, error, req, quiet);
  };
  if (!previous && !(outcome instanceof Promise)) {
    settle(outcome);
    return;
  }
  const tail: Promise<void> = Promise.all([previous, outcome])
    .then(([, error]) => settle(error))
    .catch((error: unknown) => session.fail(error))
    .finally(() => {
      if (session.ackTail === tail) session.ackTail = undefined;
    });
  session.ackTail = tail;
}

// An error of a publish: sent on `emitter/error/`, or (`quiet`, a plain topic's) only counted.
function reportError(
  session: ClientSession,
  error: EmitterError,
  req: number | undefined,
  quiet: boolean,
): void {
  if (quiet) session.counted(error);
  else session.sendError(error, req);
}

/** PUBREL: the client releases a QoS 2 PUBLISH; answer PUBCOMP (MQTT 5: 0x92 for an id we do not hold). */
export function handlePubrel(session: ClientSession, packetId: number): void {
  if (session.pendingQos2?.delete(packetId)) {
    session.journal?.incomingRelease(packetId);
    session.connection.pubcomp({ messageId: packetId });
  } else {
    session.connection.pubcomp({ messageId: packetId, reasonCode: ReasonCode.PacketIdentifierNotFound });
  }
}

/**
 * MQTT 5 checks before a PUBLISH is handled: our Receive Maximum (0x93) and topic aliases (0x94 for an
 * alias of 0 or above our maximum, 0x82 for an empty topic with an unknown alias). A client-to-server
 * alias is resolved here and left out of the properties passed on: aliases belong to one connection.
 */
function acceptV5(session: ClientSession, v5: Mqtt5State, packet: IPublishPacket): boolean {
  const connection = session.connection;
  if (packet.qos > 0) {
    const unacknowledged = v5.incomingQos1 + (session.pendingQos2?.size ?? 0);
    const repeat = packet.qos === 2 && session.pendingQos2?.has(packet.messageId ?? -1) === true;
    if (!repeat && unacknowledged >= session.core.mqtt5.receiveMaximum) {
      connection.protocolError(
        MqttErrorCode.ReceiveMaximumExceeded,
        `more than ${session.core.mqtt5.receiveMaximum} QoS 1/2 publishes unacknowledged`,
      );
      return false;
    }
  }
  const properties = packet.properties;
  if (properties === undefined) return true;
  const alias = properties.topicAlias;
  if (alias !== undefined) {
    const maximum = session.core.mqtt5.topicAliasMaximum;
    if (alias === 0 || alias > maximum) {
      connection.protocolError(
        MqttErrorCode.TopicAliasInvalid,
        `topic alias ${alias} is not within 1..${maximum}`,
      );
      return false;
    }
    if (packet.topic === '') {
      const topic = v5.aliases?.get(alias);
      if (topic === undefined) {
        connection.protocolError(MqttErrorCode.ProtocolError, `topic alias ${alias} was never set`);
        return false;
      }
      packet.topic = topic;
    } else {
      (v5.aliases ??= new Map()).set(alias, packet.topic);
    }
    delete properties.topicAlias;
  }
  // Subscription identifiers are the server's to set on deliveries [MQTT-3.3.4-6].
  delete properties.subscriptionIdentifier;
  return true;
}

// Topics published to, parsed, shared by every client of the process (parsing is pure: never stale).
const publishedChannels = new ParsedChannelCache();

function processPublish(
  session: ClientSession,
  topic: string,
  payload: Buffer,
  req: number | undefined,
  retain: boolean,
  qos: QoS,
  properties: PublishProperties | undefined,
): PublishOutcome {
  const core = session.core;
  // A 1-2 character topic is a link alias set up through `emitter/link/` (else, for a plain MQTT client,
  // an ordinary topic).
  const expanded =
    topic.length <= 2 ? (session.link(topic) ?? (session.plain === undefined ? undefined : topic)) : topic;
  session.publishingPlain = false;
  if (expanded === undefined) return Errors.BadRequest;
  if (topicTooLong(expanded, core.limits)) return Errors.TopicTooLong;
  // A client usually publishes to the same topic again and again: parse it once. One relaying for many
  // channels finds them in the shared cache, parsed and with their write grant remembered.
  let channel = session.lastPublished;
  if (channel === undefined || expanded !== session.lastPublishedTopic) {
    channel =
      plainTopicChannel(session.plain, core.authority, expanded) ??
      publishedChannels.parse(keyedTopic(core.keylessKey, expanded));
    session.lastPublished = channel;
    session.lastPublishedTopic = expanded;
  }
  session.publishingPlain = channel.plain === true;
  if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
  if (channel.key === 'emitter') {
    if (channel.kind === ChannelKind.Wildcard) return Errors.Forbidden;
    core.requests.handle(session, channel, payload, req).catch((error: unknown) => session.fail(error));
    return undefined;
  }
  if (core.plainPublish) return core.pubsub.publish(session, channel, payload, retain, qos, properties);
  const authorize = core.hooks.authorizePublish;
  if (authorize === undefined) return observed(session, channel, payload, retain, qos, properties);
  // The channel key first: the hook is only asked about what the key allows.
  const denied = core.pubsub.checkWrite(channel);
  if (denied !== undefined) return refusedBy(session, channel, denied);
  const parsed = channel;
  const refusal = callHook(
    'authorizePublish',
    session,
    () => authorize(session, { topic: expanded, channel: parsed.channel, payload, qos, retain }),
    HOOK_REFUSED,
    core.hookOptions,
  );
  const gate = session.publishGate;
  if (!(refusal instanceof Promise) && gate === undefined) {
    return refusal === undefined
      ? observed(session, parsed, payload, retain, qos, properties)
      : refusedBy(session, parsed, refusal);
  }
  // An answer that takes time must not let a later publish of this client overtake this one.
  const decided: Promise<EmitterError | undefined> = Promise.all([gate, refusal]).then(([, answer]) =>
    answer === undefined
      ? observed(session, parsed, payload, retain, qos, properties)
      : refusedBy(session, parsed, answer),
  );
  session.publishGate = decided;
  void decided.finally(() => {
    if (session.publishGate === decided) session.publishGate = undefined;
  });
  return decided;
}

// A publish that events watch: `published` once authorised (keys, then the hook), `dropped` when refused.
function observed(
  session: ClientSession,
  channel: ParsedChannel,
  payload: Buffer,
  retain: boolean,
  qos: QoS,
  properties: PublishProperties | undefined,
): PublishOutcome {
  const outcome = session.core.pubsub.publish(session, channel, payload, retain, qos, properties);
  if (outcome instanceof EmitterError) return refusedBy(session, channel, outcome);
  if (session.core.events.watchPublished)
    session.core.events.emit('published', {
      client: session,
      channel: channel.channel,
      payload,
      qos,
      retain,
    });
  return outcome;
}

function refusedBy(session: ClientSession, channel: ParsedChannel, error: EmitterError): EmitterError {
  if (session.core.events.watchDropped)
    session.core.events.emit('dropped', {
      client: session,
      topic: channel.channel,
      reason: 'refused',
      status: error.status,
    });
  return error;
}
