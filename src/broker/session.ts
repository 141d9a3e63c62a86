import type { Packet } from 'mqtt-packet';
import { PassThrough } from 'node:stream';
import { CompactMap, parseChannel, type ParsedChannel, type QoS } from '../channel/index.js';
import type { EmitterError } from '../errors.js';
import {
  Delivery,
  MqttConnection,
  MqttErrorCode,
  type MqttConnectionHandler,
  type MqttProtocolError,
} from '../mqtt/index.js';
import type { DeliveryHold, Session, SessionSubscription } from '../services/session.js';
import { newConnectionId } from './connection-id.js';
import type { BrokerCore } from './core.js';
import { handlePacket } from './handlers/index.js';
import { callHook, HOOK_REFUSED } from './hooks.js';
import { keyedTopic } from './keyless.js';
import type { SessionJournal } from './journal.js';
import { Outbox, type OutboxOwner } from './outbox.js';

const ERROR_TOPIC = 'emitter/error/';

/** A will message, published when the connection ends without DISCONNECT. */
export interface Will {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
}

/**
 * One client session: created for each new connection, keyed by client id once CONNECT names it. A clean
 * session ends with its connection; a persistent one (`cleanSession: false`) stays in the trie while its
 * client is away, queues QoS > 0 messages for it, and is taken up again by the client's next connection.
 * Packets are handled per type in `./handlers/`.
 */
export class ClientSession implements Session, MqttConnectionHandler, OutboxOwner {
  readonly id = newConnectionId();
  readonly subscriptions = new CompactMap<string, SessionSubscription>();
  // Made on first use, like the other per-session collections below: most connections never link.
  private linkMap: Map<string, string> | undefined;
  username = '';
  clientId = '';
  /** True while a connection serves this session. */
  online = true;
  /** `cleanSession: false`: the session outlives its connection. */
  persistent = false;
  /** The session is over: nothing is delivered to it any more. */
  ended = false;
  /** CONNECT was accepted (CONNACK 0 sent) on this session. */
  accepted = false;
  /** @internal packets that came while an async `authenticate` hook decides; they wait for it. */
  waiting: Packet[] | undefined;
  /** @internal publishes wait here for the async `authorizePublish` answers before them (order kept). */
  publishGate: Promise<unknown> | undefined;
  /** @internal set by the CONNECT handler. */
  will: Will | undefined;
  /** @internal QoS 2 packet ids received but not yet released, so a re-sent PUBLISH is not delivered twice. */
  pendingQos2: Set<number> | undefined;
  /** @internal the last topic published and its parse (a client usually repeats its topic). */
  lastPublished: ParsedChannel | undefined;
  /** @internal */
  lastPublishedTopic = '';
  // Live deliveries held while stored messages are replayed (see holdDeliveries).
  private holds = 0;
  private held: Array<{ delivery: Delivery; qos: QoS }> | undefined;
  private replayedIds: Set<string> | undefined;
  /** @internal PUBACKs leave in the order their PUBLISHes came, even when some wait for storage. */
  ackTail: Promise<void> | undefined;
  /** @internal QoS > 0 deliveries to the client; made on the first. */
  outbox: Outbox | undefined;
  /** @internal the write-through to the session store (persistent sessions only). */
  journal: SessionJournal | undefined;

  constructor(
    /** The connection serving this session (the last one, while the client is away). */
    public connection: MqttConnection,
    /** @internal */
    readonly core: BrokerCore,
  ) {
    connection.attach(this);
  }

  /** A persistent session read back from the session store, its client away (no connection yet). */
  static restored(core: BrokerCore, clientId: string): ClientSession {
    const session = new ClientSession(detachedConnection(), core);
    session.clientId = clientId;
    session.online = false;
    session.persistent = true;
    return session;
  }

  /**
   * A session is its own QoS 0 subscription in the trie (`Subscription` shape: itself, QoS 0), so a QoS 0
   * subscription costs no wrapper object (memory per idle connection).
   */
  get subscriber(): this {
    return this;
  }
  get qos(): 0 {
    return 0;
  }

  /** Link name (1-2 characters) to the full topic it stands for. */
  get links(): Map<string, string> {
    return (this.linkMap ??= new Map());
  }

  /** The full topic a link name stands for, if the client set it up (no map is made to find out). */
  link(name: string): string | undefined {
    return this.linkMap?.get(name);
  }

  /** @internal a packet from the client (MqttConnectionHandler). */
  handlePacket(packet: Packet): void {
    if (this.waiting !== undefined) this.waiting.push(packet);
    else handlePacket(this, packet);
  }

  /** @internal an async `authenticate` answered: handle the packets that came meanwhile, in order. */
  stopWaiting(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting === undefined) return;
    // A packet handled here may make the session wait again (it never does today: only CONNECT waits).
    for (const packet of waiting) this.handlePacket(packet);
  }

  /** @internal the connection closed (MqttConnectionHandler). */
  handleClose(): void {
    try {
      this.connectionClosed(true);
    } catch (error) {
      this.core.sessionFailed(this, error);
    }
  }

  /** @internal the connection is closing on a violation, or because handling a packet threw. */
  handleViolation(error: MqttProtocolError): void {
    if (error.code === MqttErrorCode.HandlerFailed) this.core.sessionFailed(this, error.cause);
  }

  /** @internal contains a failure to this connection: reported once, then the connection closes. */
  fail(error: unknown): void {
    this.connection.fail(error);
  }

  /**
   * Delivers a message at `qos` (held back while a replay is running). QoS 0 is written at once (and not
   * kept for an absent client); QoS 1 and 2 go through the session's in-flight window and queue.
   */
  deliver(delivery: Delivery, qos: QoS): void {
    if (this.ended) return;
    // Only channel messages can overtake a replay; the broker's replies and notifications (`emitter/...`,
    // such as the presence event of this very subscribe) go at once, before the replayed messages, as
    // in Emitter.
    if (this.holds > 0 && !delivery.topic.startsWith('emitter/')) (this.held ??= []).push({ delivery, qos });
    else this.send(delivery, qos);
  }

  private send(delivery: Delivery, qos: QoS): void {
    if (qos !== 0) {
      (this.outbox ??= new Outbox(this.core.sessionLimits)).push(this, delivery, qos);
      return;
    }
    if (!this.online) return;
    const connection = this.connection;
    if (connection.writableLength <= this.core.limits.outgoingBuffer)
      connection.writeEncoded(delivery.packet(0, connection.protocolVersion));
    else this.slowConsumer(delivery);
  }

  // A client that stops reading must not grow our memory: drop what it cannot take, or close it.
  private slowConsumer(delivery: Delivery): void {
    if (this.core.limits.slowConsumer === 'disconnect') {
      this.core.counters.slowConsumersClosed++;
      this.connection.destroy();
    } else {
      this.core.counters.droppedSlowConsumer++;
    }
    if (this.core.events.watchDropped)
      this.core.events.emit('dropped', { client: this, topic: delivery.topic, reason: 'slowConsumer' });
  }

  /** @internal a waiting QoS > 0 message was dropped to keep the queue within its bounds. */
  queueDropped(topic?: string): void {
    this.core.counters.droppedQueued++;
    if (this.core.events.watchDropped)
      this.core.events.emit('dropped', { client: this, topic: topic ?? '', reason: 'queueFull' });
  }

  /**
   * Holds live deliveries until every replay running on this session has released its hold; replayed
   * messages go out at once, ahead of the held ones.
   */
  holdDeliveries(): DeliveryHold {
    this.holds++;
    let released = false;
    return {
      replay: (delivery, qos) => {
        if (released || this.ended) return;
        if (delivery.storedId !== undefined)
          (this.replayedIds ??= new Set()).add(delivery.storedId.toString('hex'));
        this.send(delivery, qos);
      },
      release: () => {
        if (released) return;
        released = true;
        if (--this.holds > 0) return;
        const held = this.held ?? [];
        const replayed = this.replayedIds;
        this.held = undefined;
        this.replayedIds = undefined;
        for (const { delivery, qos } of held) {
          const id = delivery.storedId;
          if (id === undefined || replayed === undefined || !replayed.has(id.toString('hex')))
            this.deliver(delivery, qos);
        }
      },
    };
  }

  /** Sends a JSON reply to this client only. */
  sendJson(topic: string, body: object): void {
    this.deliver(new Delivery(topic, Buffer.from(JSON.stringify(body))), 0);
  }

  /** Resolves once every PUBACK waiting on storage has been sent and the store has every change. */
  async drain(): Promise<void> {
    while (this.ackTail) await this.ackTail;
    await this.journal?.flush();
  }

  /** @internal */
  sendError(error: EmitterError, req?: number): void {
    this.core.counters.error(error.status);
    this.core.refusals.refused(this, error);
    this.sendJson(ERROR_TOPIC, error.toJSON(req));
  }

  /**
   * @internal the client's new connection takes this (persistent) session over: it is served from now
   * on, its unacknowledged messages go again (DUP) and its queue drains. CONNACK is already sent.
   */
  resume(connection: MqttConnection, from: ClientSession): void {
    this.connection = connection;
    connection.attach(this);
    this.online = true;
    this.username = from.username;
    this.will = from.will;
    this.journal?.open();
  }

  /** @internal after CONNACK of a resumed session: re-send what is unacknowledged, then the queue. */
  resumeDeliveries(): void {
    this.outbox?.resume(this);
  }

  /** @internal another connection with this client id took over: close this one (no will). */
  takenOver(): void {
    if (!this.online) return;
    const connection = this.connection;
    connection.attach(DETACHED_HANDLER);
    this.connectionClosed(false);
    connection.end();
  }

  /** @internal the session is over (clean session closed, discarded, expired): leave the trie. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.core.pubsub.unsubscribeAll(this);
    this.outbox = undefined;
    this.held = undefined;
    this.pendingQos2 = undefined;
  }

  private connectionClosed(publishWill: boolean): void {
    if (!this.online) return;
    this.online = false;
    this.core.sessionClosed(this);
    const will = this.will;
    this.will = undefined;
    // The will is a publish by this client: same key checks (retained when the key has `s`); silently
    // dropped when they fail, as there is no one left to tell.
    if (publishWill && will) this.publishWill(will);
  }

  // The will goes through `authorizePublish` too (a refusal drops it: nobody is left to tell).
  private publishWill(will: Will): void {
    const core = this.core;
    const keyed = keyedTopic(core.keylessKey, will.topic);
    const publish = (): void =>
      void core.pubsub.publishWill(
        keyed === will.topic ? will : { ...will, topic: keyed },
        core.limits.messageSize,
      );
    const authorize = core.hooks.authorizePublish;
    if (authorize === undefined) return publish();
    const channel = parseChannel(keyed);
    // The channel key first, as for any publish: the hook is only asked about what the key allows.
    if (core.pubsub.checkWrite(channel) !== undefined) return;
    const message = { ...will, channel: channel.channel };
    const refusal = callHook(
      'authorizePublish',
      this,
      () => authorize(this, message),
      HOOK_REFUSED,
      core.hookOptions,
    );
    if (!(refusal instanceof Promise)) {
      if (refusal === undefined) publish();
      return;
    }
    void refusal.then((answer) => {
      if (answer === undefined) publish();
    });
  }
}

// A closed connection restored sessions point at until their client comes back: writes to it go nowhere.
let detached: MqttConnection | undefined;
function detachedConnection(): MqttConnection {
  if (detached === undefined) {
    detached = new MqttConnection(new PassThrough(), { connectTimeout: 0 });
    detached.destroy();
  }
  return detached;
}

// What a connection that lost its session to a takeover reports to: nothing.
const DETACHED_HANDLER: MqttConnectionHandler = {
  handlePacket() {},
  handleClose() {},
};
