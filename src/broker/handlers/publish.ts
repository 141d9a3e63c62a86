import type { IPublishPacket } from 'mqtt-packet';
import { ChannelKind, parseChannel, type ParsedChannel, type QoS } from '../../channel/index.js';
import { EmitterError, Errors } from '../../errors.js';
import type { PublishOutcome } from '../../services/pubsub/pubsub.js';
import { callHook, HOOK_REFUSED } from '../hooks.js';
import { collectQueuedWrites } from '../journal.js';
import { keyedTopic } from '../keyless.js';
import type { ClientSession } from '../session.js';
import { topicTooLong } from '../topic-limits.js';

/**
 * PUBLISH from the client: QoS 2 is acknowledged with PUBREC (a re-sent packet id is not delivered
 * twice), QoS 1 with PUBACK once the message is stored, acks in the order the PUBLISHes came, and any
 * error after the ack on `emitter/error/`.
 */
export function handlePublish(session: ClientSession, packet: IPublishPacket): void {
  const req = packet.qos > 0 ? packet.messageId : undefined;
  if (packet.qos === 2 && packet.messageId !== undefined) {
    session.pendingQos2 ??= new Set();
    const duplicate = session.pendingQos2.has(packet.messageId);
    session.pendingQos2.add(packet.messageId);
    if (!duplicate) session.journal?.incomingStore(packet.messageId);
    session.connection.pubrec({ messageId: packet.messageId });
    if (duplicate) return;
  }
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  // As Emitter, the limit is on the packet (its remaining length: topic and packet id included), not the
  // payload alone.
  let outcome: PublishOutcome;
  if ((packet.length ?? payload.length) > session.core.limits.messageSize) outcome = Errors.MessageTooLarge;
  else if (packet.qos === 0) outcome = processPublish(session, packet.topic, payload, req, packet.retain, 0);
  else {
    // The acknowledgement also waits for the messages this publish queued for persistent sessions to be
    // in the session store: an acknowledged message then survives a crash (with a durable store).
    const { result, writes } = collectQueuedWrites(() =>
      processPublish(session, packet.topic, payload, req, packet.retain, packet.qos),
    );
    outcome = writes ? Promise.all([result, ...writes]).then(([error]) => error) : result;
  }
  const messageId = packet.qos === 1 ? packet.messageId : undefined;
  if (messageId === undefined && !(outcome instanceof Promise)) {
    if (outcome) session.sendError(outcome, req);
    return;
  }
  // Acknowledge before any error caused by the same packet (the Go SDK can stall otherwise), once
  // the message is stored, and in the order the PUBLISHes came.
  const previous = session.ackTail;
  const settle = (error: EmitterError | undefined): void => {
    if (messageId !== undefined) session.connection.puback({ messageId });
    if (error) session.sendError(error, req);
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

/** PUBREL: the client releases a QoS 2 PUBLISH; answer PUBCOMP. */
export function handlePubrel(session: ClientSession, packetId: number): void {
  if (session.pendingQos2?.delete(packetId)) session.journal?.incomingRelease(packetId);
  session.connection.pubcomp({ messageId: packetId });
}

function processPublish(
  session: ClientSession,
  topic: string,
  payload: Buffer,
  req: number | undefined,
  retain: boolean,
  qos: QoS,
): PublishOutcome {
  const core = session.core;
  // A 1-2 character topic is a link alias set up through `emitter/link/`.
  const expanded = topic.length <= 2 ? session.link(topic) : topic;
  if (expanded === undefined) return Errors.BadRequest;
  if (topicTooLong(expanded, core.limits)) return Errors.TopicTooLong;
  // A client usually publishes to the same topic again and again: parse it once.
  let channel = session.lastPublished;
  if (channel === undefined || expanded !== session.lastPublishedTopic) {
    channel = parseChannel(keyedTopic(core.keylessKey, expanded));
    session.lastPublished = channel;
    session.lastPublishedTopic = expanded;
  }
  if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
  if (channel.key === 'emitter') {
    if (channel.kind === ChannelKind.Wildcard) return Errors.Forbidden;
    core.requests.handle(session, channel, payload, req).catch((error: unknown) => session.fail(error));
    return undefined;
  }
  if (core.plainPublish) return core.pubsub.publish(session, channel, payload, retain, qos);
  const authorize = core.hooks.authorizePublish;
  if (authorize === undefined) return observed(session, channel, payload, retain, qos);
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
      ? observed(session, parsed, payload, retain, qos)
      : refusedBy(session, parsed, refusal);
  }
  // An answer that takes time must not let a later publish of this client overtake this one.
  const decided: Promise<EmitterError | undefined> = Promise.all([gate, refusal]).then(([, answer]) =>
    answer === undefined
      ? observed(session, parsed, payload, retain, qos)
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
): PublishOutcome {
  const outcome = session.core.pubsub.publish(session, channel, payload, retain, qos);
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
