import type {
  IConnectPacket,
  IPublishPacket,
  ISubscribePacket,
  IUnsubscribePacket,
  Packet,
} from 'mqtt-packet';
import {
  ChannelKind,
  CompactMap,
  normalizeSubscribeTopic,
  parseChannel,
  type ParsedChannel,
} from '../channel/index.js';
import { EmitterError, Errors } from '../errors.js';
import {
  encodePublish,
  MqttErrorCode,
  type MqttConnection,
  type MqttConnectionHandler,
  type MqttProtocolError,
} from '../mqtt/index.js';
import type { LastWill, PublishOutcome } from '../services/pubsub/pubsub.js';
import type { Session, SessionSubscription } from '../services/session.js';
import { newConnectionId } from './connection-id.js';
import type { BrokerCore } from './core.js';

const ERROR_TOPIC = 'emitter/error/';
const SUBACK_FAILURE = 0x80;
// MQTT 5 CONNACK reason code for a protocol level this broker does not serve.
const UNSUPPORTED_PROTOCOL_VERSION = 0x84;

/** One client connection: turns its MQTT packets into service calls and errors into replies. */
export class ClientSession implements Session, MqttConnectionHandler {
  readonly id = newConnectionId();
  readonly subscriptions = new CompactMap<string, SessionSubscription>();
  // Made on first use, like the other per-session collections below: most connections never link.
  private linkMap: Map<string, string> | undefined;
  username = '';
  clientId = '';
  private closed = false;
  private will: LastWill | undefined;
  // QoS 2 packet ids received but not yet released, so a re-sent PUBLISH is not delivered twice.
  // Made on first use: most connections never send QoS 2 or replay (memory per idle connection counts).
  private pendingQos2: Set<number> | undefined;
  private lastPublished: ParsedChannel | undefined;
  private lastPublishedTopic = '';
  // Live deliveries held while stored messages are replayed (see holdDeliveries).
  private holds = 0;
  private held: Array<{ packet: Buffer; storedId?: Buffer }> | undefined;
  private replayedIds: Set<string> | undefined;
  // PUBACKs leave in the order their PUBLISHes came, even when some wait for storage.
  private ackTail: Promise<void> | undefined;

  constructor(
    readonly connection: MqttConnection,
    private readonly core: BrokerCore,
  ) {
    connection.attach(this);
  }

  /** Link name (1-2 characters) to the full topic it stands for. */
  get links(): Map<string, string> {
    return (this.linkMap ??= new Map());
  }

  /** @internal a packet from the client (MqttConnectionHandler). */
  handlePacket(packet: Packet): void {
    switch (packet.cmd) {
      case 'publish':
        return this.onPublish(packet);
      case 'connect':
        return this.onConnect(packet);
      case 'subscribe':
        return void this.onSubscribe(packet).catch((error: unknown) => this.fail(error));
      case 'unsubscribe':
        return this.onUnsubscribe(packet);
      case 'pubrel':
        return this.onPubrel(packet.messageId ?? 0);
      case 'pingreq':
        return this.connection.pingresp();
      case 'disconnect':
        // A clean DISCONNECT discards the last will (MQTT 3.1.1; Emitter publishes it anyway).
        this.will = undefined;
        return this.connection.end();
      default:
        // PUBACK, PUBREC, PUBCOMP: deliveries are QoS 0, so nothing waits for them.
        return;
    }
  }

  /** @internal the connection closed (MqttConnectionHandler). */
  handleClose(): void {
    try {
      this.onClose();
    } catch (error) {
      this.core.sessionFailed(this, error);
    }
  }

  /** @internal the connection is closing on a violation, or because handling a packet threw. */
  handleViolation(error: MqttProtocolError): void {
    if (error.code === MqttErrorCode.HandlerFailed) this.core.sessionFailed(this, error.cause);
  }

  // Contains a failure to this connection: reported once, then the connection closes.
  private fail(error: unknown): void {
    this.connection.fail(error);
  }

  /** Writes an encoded PUBLISH to this client (held back while a replay is running). */
  deliver(packet: Buffer, storedId?: Buffer): void {
    if (this.closed) return;
    if (this.holds > 0 && storedId !== undefined) (this.held ??= []).push({ packet, storedId });
    else if (this.holds > 0) (this.held ??= []).push({ packet });
    else if (this.connection.writableLength <= this.core.limits.outgoingBuffer)
      this.connection.writeEncoded(packet);
    else this.slowConsumer();
  }

  // A client that stops reading must not grow our memory: drop what it cannot take, or close it.
  private slowConsumer(): void {
    if (this.core.limits.slowConsumer === 'disconnect') {
      this.core.counters.slowConsumersClosed++;
      this.connection.destroy();
    } else {
      this.core.counters.droppedSlowConsumer++;
    }
  }

  /** Holds live deliveries until every replay running on this session has released its hold. */
  holdDeliveries(): { release(replayedIds: ReadonlySet<string>): void } {
    this.holds++;
    let released = false;
    return {
      release: (ids) => {
        if (released) return;
        released = true;
        const replayed = (this.replayedIds ??= new Set());
        for (const id of ids) replayed.add(id);
        if (--this.holds > 0) return;
        const held = this.held ?? [];
        this.held = undefined;
        for (const { packet, storedId } of held) {
          if (storedId === undefined || !replayed.has(storedId.toString('hex'))) this.deliver(packet);
        }
        this.replayedIds = undefined;
      },
    };
  }

  /** Sends a JSON reply to this client only. */
  sendJson(topic: string, body: object): void {
    this.deliver(encodePublish({ topic, payload: Buffer.from(JSON.stringify(body)) }));
  }

  /** Resolves once every PUBACK waiting on storage has been sent. */
  async drain(): Promise<void> {
    while (this.ackTail) await this.ackTail;
  }

  private sendError(error: EmitterError, req?: number): void {
    this.core.counters.error(error.status);
    this.core.refusals.refused(this, error);
    this.sendJson(ERROR_TOPIC, error.toJSON(req));
  }

  private onConnect(packet: IConnectPacket): void {
    if (packet.protocolVersion === 5) {
      // Not served yet: MQTT 5 has its own refusal code (a v3 return code cannot be encoded in v5).
      this.connection.connack({ reasonCode: UNSUPPORTED_PROTOCOL_VERSION, sessionPresent: false });
      this.connection.end();
      return;
    }
    if (packet.protocolVersion !== 3 && packet.protocolVersion !== 4) {
      this.connection.connack({ returnCode: 1, sessionPresent: false });
      this.connection.end();
      return;
    }
    this.username = packet.username ?? '';
    this.clientId = packet.clientId ?? '';
    if (packet.will) {
      const { topic, payload, retain } = packet.will;
      this.will = {
        topic,
        payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
        retain: retain === true,
      };
    }
    this.connection.connack({ returnCode: 0, sessionPresent: false });
    this.core.sessionConnected(this);
  }

  private onPublish(packet: IPublishPacket): void {
    const req = packet.qos > 0 ? packet.messageId : undefined;
    if (packet.qos === 2 && packet.messageId !== undefined) {
      this.pendingQos2 ??= new Set();
      const duplicate = this.pendingQos2.has(packet.messageId);
      this.pendingQos2.add(packet.messageId);
      this.connection.pubrec({ messageId: packet.messageId });
      if (duplicate) return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    // As Emitter, the limit is on the packet (its remaining length: topic and packet id included), not
    // the payload alone.
    const outcome =
      (packet.length ?? payload.length) > this.core.limits.messageSize
        ? Errors.MessageTooLarge
        : this.processPublish(packet.topic, payload, req, packet.retain);
    const messageId = packet.qos === 1 ? packet.messageId : undefined;
    if (messageId === undefined && !(outcome instanceof Promise)) {
      if (outcome) this.sendError(outcome, req);
      return;
    }
    // Acknowledge before any error caused by the same packet (the Go SDK can stall otherwise), once
    // the message is stored, and in the order the PUBLISHes came.
    const previous = this.ackTail;
    const settle = (error: EmitterError | undefined): void => {
      if (messageId !== undefined) this.connection.puback({ messageId });
      if (error) this.sendError(error, req);
    };
    if (!previous && !(outcome instanceof Promise)) {
      settle(outcome);
      return;
    }
    const tail: Promise<void> = Promise.all([previous, outcome])
      .then(([, error]) => settle(error))
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        if (this.ackTail === tail) this.ackTail = undefined;
      });
    this.ackTail = tail;
  }

  private processPublish(
    topic: string,
    payload: Buffer,
    req: number | undefined,
    retain: boolean,
  ): PublishOutcome {
    // A 1-2 character topic is a link alias set up through `emitter/link/`.
    const expanded = topic.length <= 2 ? this.linkMap?.get(topic) : topic;
    if (expanded === undefined) return Errors.BadRequest;
    if (this.topicTooLong(expanded)) return Errors.TopicTooLong;
    // A client usually publishes to the same topic again and again: parse it once.
    let channel = this.lastPublished;
    if (channel === undefined || expanded !== this.lastPublishedTopic) {
      channel = parseChannel(expanded);
      this.lastPublished = channel;
      this.lastPublishedTopic = expanded;
    }
    if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
    if (channel.key === 'emitter') {
      if (channel.kind === ChannelKind.Wildcard) return Errors.Forbidden;
      this.core.requests.handle(this, channel, payload, req).catch((error: unknown) => this.fail(error));
      return undefined;
    }
    return this.core.pubsub.publish(this, channel, payload, retain);
  }

  private topicTooLong(topic: string): boolean {
    const limits = this.core.limits;
    if (topic.length > limits.maxTopicLength) return true;
    // Levels after the key, options excluded: count slashes before any '?', stopping once over the limit.
    const end = topic.indexOf('?') >= 0 ? topic.indexOf('?') : topic.length;
    let slashes = 0;
    for (let i = topic.indexOf('/'); i >= 0 && i < end; i = topic.indexOf('/', i + 1)) {
      if (++slashes - 1 > limits.maxTopicLevels) return true;
    }
    return false;
  }

  private onPubrel(messageId: number): void {
    this.pendingQos2?.delete(messageId);
    this.connection.pubcomp({ messageId });
  }

  private async onSubscribe(packet: ISubscribePacket): Promise<void> {
    const granted: number[] = [];
    const errors: EmitterError[] = [];
    for (const { topic, qos } of packet.subscriptions) {
      const channel = parseChannel(normalizeSubscribeTopic(topic));
      const result = this.topicTooLong(topic)
        ? Errors.TopicTooLong
        : await this.core.pubsub.subscribe(this, channel);
      if (result instanceof EmitterError) {
        granted.push(SUBACK_FAILURE);
        errors.push(result);
      } else {
        // Deliveries are QoS 0 for now; grant what the client can rely on.
        granted.push(Math.min(qos, 0));
      }
    }
    this.connection.suback({ messageId: packet.messageId, granted });
    for (const error of errors) this.sendError(error, packet.messageId);
  }

  private onUnsubscribe(packet: IUnsubscribePacket): void {
    const errors: EmitterError[] = [];
    for (const topic of packet.unsubscriptions) {
      const error = this.core.pubsub.unsubscribe(this, parseChannel(normalizeSubscribeTopic(topic)));
      if (error) errors.push(error);
    }
    this.connection.unsuback({ messageId: packet.messageId });
    for (const error of errors) this.sendError(error, packet.messageId);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.core.pubsub.unsubscribeAll(this);
    this.core.sessionClosed(this);
    if (this.will) void this.core.pubsub.publishWill(this.will, this.core.limits.messageSize);
  }
}
