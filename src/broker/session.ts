import type { Packet } from 'mqtt-packet';
import { PassThrough } from 'node:stream';
import { CompactMap, parseChannel, plainTopicOf, type ParsedChannel, type QoS } from '../channel/index.js';
import type { EmitterError } from '../errors.js';
import {
  Delivery,
  MqttConnection,
  type PublishProperties,
  MqttErrorCode,
  ReasonCode,
  type MqttConnectionHandler,
  type MqttProtocolError,
} from '../mqtt/index.js';
import type { SubscriptionOptions } from '../channel/index.js';
import type { DeliveryHold, Session, SessionSubscription } from '../services/session.js';
import { newConnectionId } from './connection-id.js';
import type { BrokerCore } from './core.js';
import { handlePacket } from './handlers/index.js';
import { callHook, HOOK_REFUSED } from './hooks.js';
import { keyedTopic } from './keyless.js';
import { plainTopicChannel, type PlainAccess } from './plain.js';
import type { SessionJournal } from './journal.js';
import { Outbox, type OutboxOwner } from './outbox.js';

const ERROR_TOPIC = 'emitter/error/';

/** A will message, published when the connection ends without DISCONNECT. */
export interface Will {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  /** MQTT 5 will properties, passed on as the will's PUBLISH properties. */
  readonly properties?: PublishProperties;
  /** MQTT 5 Will Delay Interval, in milliseconds (0: at once). */
  readonly delayMs?: number;
}

/** What an MQTT 5 client's session adds (absent for 3.1/3.1.1 clients: memory per idle connection). */
export interface Mqtt5State {
  /** The client's Receive Maximum: most QoS > 0 deliveries in flight to it. */
  receiveMaximum: number;
  /** Milliseconds the session outlives its connection (Infinity: never; 0: it ends with it). */
  expiryMs: number;
  /** QoS 1 PUBLISHes from the client not yet acknowledged (with `pendingQos2`, against our Receive Maximum). */
  incomingQos1: number;
  /** Topic aliases the client set up towards us. */
  aliases: Map<number, string> | undefined;
  /** The client's Topic Alias Maximum: how many aliases we may set towards it (0: none). */
  clientAliasMaximum: number;
  /** Topics we gave an alias towards the client on this connection, and the alias. */
  outAliases: Map<string, number> | undefined;
  /** A will waiting for its Will Delay Interval, and its timer. */
  pendingWill?: { readonly will: Will; readonly timer: NodeJS.Timeout };
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
  private held: Array<{ delivery: Delivery; qos: QoS; options?: SubscriptionOptions }> | undefined;
  private replayedIds: Set<string> | undefined;
  /** @internal PUBACKs leave in the order their PUBLISHes came, even when some wait for storage. */
  ackTail: Promise<void> | undefined;
  /** @internal QoS > 0 deliveries to the client; made on the first. */
  outbox: Outbox | undefined;
  /** @internal the write-through to the session store (persistent sessions only). */
  journal: SessionJournal | undefined;
  /** @internal MQTT 5 state, for a client that connected with MQTT 5. */
  v5: Mqtt5State | undefined;
  /** The key this connection's plain MQTT topics are read under; undefined: it may use none (`./plain.ts`). */
  plain: PlainAccess | undefined;
  /** @internal the last publish was to a plain topic: its errors are not sent on `emitter/error/`. */
  publishingPlain = false;

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
  deliver(delivery: Delivery, qos: QoS, _route?: unknown, options?: SubscriptionOptions): void {
    if (this.ended) return;
    // MQTT 5 No Local: not back to the session that published it [MQTT-3.8.3-3].
    if (options?.noLocal === true && delivery.senderId === this.id) return;
    // A plain subscription sees the topic as plain publishers write it (`a/b`, not `a/b/`).
    if (options?.plain === true) delivery = delivery.alternate(plainTopicOf);
    // Only channel messages can overtake a replay; the broker's replies and notifications (`emitter/...`,
    // such as the presence event of this very subscribe) go at once, before the replayed messages, as
    // in Emitter.
    if (this.holds > 0 && !delivery.topic.startsWith('emitter/'))
      (this.held ??= []).push({ delivery, qos, options });
    else this.send(delivery, qos, options);
  }

  private send(delivery: Delivery, qos: QoS, options?: SubscriptionOptions): void {
    if (qos !== 0) {
      (this.outbox ??= new Outbox(this.core.sessionLimits)).push(this, delivery, qos, options);
      return;
    }
    if (this.v5 !== undefined && (options !== undefined || this.v5.clientAliasMaximum > 0))
      return this.sendWithOptions(delivery, options);
    if (!this.online || (delivery.expiresAt !== 0 && delivery.expired)) return;
    const connection = this.connection;
    if (connection.writableLength > this.core.limits.outgoingBuffer) return this.slowConsumer(delivery);
    const packet = delivery.packet(0, connection.protocolVersion);
    // Above the client's Maximum Packet Size it is dropped, as if sent [MQTT-3.1.2-25].
    if (connection.peerMaxPacketSize === 0 || connection.fits(packet)) connection.writeEncoded(packet);
    else this.tooLargeDropped();
  }

  // MQTT 5 QoS 0 with subscription options: Retain As Published and the Subscription Identifier make a
  // form of this subscription's own (the shared form when neither applies).
  private sendWithOptions(delivery: Delivery, options: SubscriptionOptions | undefined): void {
    if (!this.online || delivery.expired) return;
    const connection = this.connection;
    if (connection.writableLength > this.core.limits.outgoingBuffer) return this.slowConsumer(delivery);
    const retain = options?.retainAsPublished === true ? delivery.publishedRetain : delivery.retain;
    const alias = this.aliasOf(delivery.topic);
    const packet = delivery.packetFor(0, 5, retain, options?.identifier, alias);
    if (!connection.fits(packet)) return this.tooLargeDropped();
    connection.writeEncoded(packet);
    this.aliasSent(delivery.topic, alias);
  }

  /**
   * @internal MQTT 5 server-to-client topic alias for a topic about to be sent: -n to use alias n (the
   * client knows it), +n to set alias n with this send, 0 for none (the client allows none, or all are
   * taken). Repeated topics then travel as two bytes: a bandwidth saving the client asked for.
   */
  aliasOf(topic: string): number {
    const v5 = this.v5;
    if (v5 === undefined || v5.clientAliasMaximum === 0) return 0;
    const known = v5.outAliases?.get(topic);
    if (known !== undefined) return -known;
    const next = (v5.outAliases?.size ?? 0) + 1;
    return next <= v5.clientAliasMaximum ? next : 0;
  }

  /** @internal a PUBLISH that set alias `alias` (> 0) for `topic` was written. */
  aliasSent(topic: string, alias: number): void {
    if (alias > 0 && this.v5 !== undefined) (this.v5.outAliases ??= new Map()).set(topic, alias);
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

  /** @internal a message above the client's Maximum Packet Size was not sent (MQTT 5). */
  tooLargeDropped(): void {
    this.core.counters.droppedTooLarge++;
  }

  /**
   * Holds live deliveries until every replay running on this session has released its hold; replayed
   * messages go out at once, ahead of the held ones.
   */
  holdDeliveries(): DeliveryHold {
    this.holds++;
    let released = false;
    return {
      replay: (delivery, qos, options) => {
        if (released || this.ended) return;
        if (delivery.storedId !== undefined)
          (this.replayedIds ??= new Set()).add(delivery.storedId.toString('hex'));
        this.send(delivery, qos, options);
      },
      release: () => {
        if (released) return;
        released = true;
        if (--this.holds > 0) return;
        const held = this.held ?? [];
        const replayed = this.replayedIds;
        this.held = undefined;
        this.replayedIds = undefined;
        for (const { delivery, qos, options } of held) {
          const id = delivery.storedId;
          if (id === undefined || replayed === undefined || !replayed.has(id.toString('hex')))
            this.deliver(delivery, qos, undefined, options);
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
    this.counted(error);
    this.sendJson(ERROR_TOPIC, error.toJSON(req));
  }

  /** @internal an error counted and logged as refused, but not sent (a plain MQTT client's). */
  counted(error: EmitterError): void {
    this.core.counters.error(error.status);
    this.core.refusals.refused(this, error);
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
    this.plain = from.plain;
    // Parsed under the access of the last connection.
    this.lastPublished = undefined;
    this.lastPublishedTopic = '';
    // Back within the Will Delay Interval: the will is not published [MQTT-3.1.3-9].
    if (this.v5?.pendingWill) clearTimeout(this.v5.pendingWill.timer);
    this.v5 = from.v5;
    this.journal?.open();
  }

  /**
   * @internal MQTT 5: the Session Expiry Interval (seconds; 0xFFFFFFFF never) the client set at DISCONNECT,
   * within the configured maximum. At 0 the session ends with this connection.
   */
  setExpiry(seconds: number): void {
    if (this.v5 === undefined) return;
    const max = this.core.sessionLimits.expiryMs;
    let expiryMs = seconds === 0xffffffff ? Infinity : seconds * 1000;
    if (max > 0 && expiryMs > max) expiryMs = max;
    this.v5.expiryMs = expiryMs;
    if (expiryMs === 0 && this.persistent) {
      this.persistent = false;
      this.journal?.delete();
      this.journal = undefined;
    }
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
    connection.disconnect(ReasonCode.SessionTakenOver, 'another connection took this client id over');
  }

  /** @internal the session is over (clean session closed, discarded, expired): leave the trie. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    // A will still waiting for its delay goes now: the session ended first [MQTT-3.1.3-9].
    const v5 = this.v5;
    const pending = v5?.pendingWill;
    if (v5 !== undefined && pending !== undefined) {
      clearTimeout(pending.timer);
      v5.pendingWill = undefined;
      this.publishWill(pending.will);
    }
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
    if (!publishWill || !will) return;
    const v5 = this.v5;
    if (v5 !== undefined && (will.delayMs ?? 0) > 0 && !this.ended) {
      // MQTT 5: the will waits for its delay (or the session's end, whichever is first), and is cancelled
      // if the client comes back meanwhile.
      const timer = setTimeout(() => {
        if (v5.pendingWill?.timer !== timer) return;
        v5.pendingWill = undefined;
        this.publishWill(will);
      }, will.delayMs);
      timer.unref();
      v5.pendingWill = { will, timer };
      return;
    }
    this.publishWill(will);
  }

  // The will goes through `authorizePublish` too (a refusal drops it: nobody is left to tell).
  private publishWill(will: Will): void {
    const core = this.core;
    // A plain will topic is read under the connection's plain access, as its publishes are.
    const plain = plainTopicChannel(this.plain, core.authority, will.topic);
    const keyed = plain === undefined ? keyedTopic(core.keylessKey, will.topic) : will.topic;
    const publish = (): void =>
      void core.pubsub.publishWill(
        keyed === will.topic ? will : { ...will, topic: keyed },
        core.limits.messageSize,
        plain,
      );
    const authorize = core.hooks.authorizePublish;
    if (authorize === undefined) return publish();
    const channel = plain ?? parseChannel(keyed);
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
