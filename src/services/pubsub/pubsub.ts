import type { Logger } from 'pino';
import {
  ChannelKind,
  RETAINED_TTL,
  forEachRecipient,
  messageTtl,
  parseChannel,
  replayLimit,
  timeWindow,
  ssidKey,
  plainTopicOf,
  startsWithDollar,
  ssidOf,
  type Match,
  type ParsedChannel,
  type QoS,
  type Ssid,
  type SubscriptionTrie,
  type SubscriptionOptions,
} from '../../channel/index.js';
import type { Route } from '../../cluster/index.js';
import { EmitterError, Errors } from '../../errors.js';
import {
  decodePublishProperties,
  Delivery,
  encodePublishProperties,
  type PublishProperties,
} from '../../mqtt/index.js';
import { Permission, type ChannelKey, type KeyAuthority } from '../../security/index.js';
import { createMessage, type RetainedStore, type Storage, type StoredMessage } from '../../storage/index.js';
import { errorFields, LogThrottle } from '../failure-log.js';
import type { Session, SessionSubscription, Subscriber } from '../session.js';

/** Observers of subscription changes (presence notifications, cluster interest). */
export interface SubscriptionListener {
  subscribed(session: Session, subscription: SessionSubscription): void;
  unsubscribed(session: Session, subscription: SessionSubscription): void;
}

/** What the pubsub service needs from the layers below it. */
export interface PubSubDependencies {
  readonly authority: KeyAuthority;
  readonly trie: SubscriptionTrie<Subscriber>;
  readonly storage: Storage;
  /** MQTT retained messages, one per topic: set by retained publishes, sent to plain subscribers. */
  readonly retained?: RetainedStore;
  readonly listeners?: SubscriptionListener[];
  /** Most subscriptions one session may hold (default unlimited). */
  readonly maxSubscriptions?: number;
  /** Plain counters for metrics; bumped on the hot path, read at scrape time. */
  readonly counters?: {
    messagesIn: number;
    messagesOut: number;
    storedMessages: number;
    storageQueries: number;
    /** Stores and queries that failed (each answered with a 500). */
    storageErrors: number;
  };
  /** Where storage failures are reported (warn, with the channel; never the key). */
  readonly logger?: Logger;
}

/** A client's last will, as its CONNECT set it. */
export interface LastWill {
  readonly topic: string;
  readonly payload: Buffer;
  /** The MQTT retain flag: store the will as a retained message (when the key has `s`). */
  readonly retain: boolean;
  /** The will's QoS: deliveries go at min(this, each subscription's granted QoS). */
  readonly qos?: QoS;
  /** MQTT 5 will properties, published as the PUBLISH properties. */
  readonly properties?: PublishProperties;
}

/** A storage operation pubsub performs for a client. */
type StorageOperation = 'store' | 'replay' | 'history' | 'retain' | 'retained';

const FAILURE_MESSAGES: Record<StorageOperation, string> = {
  store: 'storage failed: message not stored',
  retain: 'retained store failed: retained message not set',
  retained: 'retained store failed: retained messages not sent',
  replay: 'storage failed: stored messages not replayed',
  history: 'storage failed: history not read',
};

/**
 * The outcome of a publish: nothing on success, an error to report, or (for a stored message) a
 * promise that settles once storage has it, so a QoS 1 PUBACK means "stored".
 */
export type PublishOutcome = EmitterError | undefined | Promise<EmitterError | undefined>;

/** Publish, subscribe and unsubscribe with channel-key checks: Emitter's pubsub service. */
export class PubSub {
  private readonly listeners: SubscriptionListener[];
  private readonly writeGrants = new WeakMap<ParsedChannel, ChannelKey>();
  private readonly failureThrottle = new LogThrottle();

  constructor(private readonly deps: PubSubDependencies) {
    this.listeners = deps.listeners ?? [];
  }

  /** Adds an observer of subscribe/unsubscribe events. */
  addListener(listener: SubscriptionListener): void {
    this.listeners.push(listener);
  }

  /**
   * Authorises and delivers one message published at `qos`; each subscriber gets it at min(qos, its
   * granted QoS). `sender` is skipped when the topic says `me=0`.
   */
  publish(
    sender: Session | undefined,
    channel: ParsedChannel,
    payload: Buffer,
    retain = false,
    qos: QoS = 0,
    properties?: PublishProperties,
  ): PublishOutcome {
    if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
    if (channel.kind === ChannelKind.Wildcard) return Errors.Forbidden;
    const key = this.authorizeWrite(channel);
    if (key instanceof EmitterError) return key;
    if (this.deps.counters) this.deps.counters.messagesIn++;
    const exclude = channel.options.me === 0 ? sender : undefined;
    let ttl = messageTtl(channel.options, retain);
    // An MQTT 5 Message Expiry Interval also bounds how long a stored (retained) copy is kept.
    const expiry = properties?.messageExpiryInterval;
    if (expiry !== undefined && ttl > expiry) ttl = Math.max(1, expiry);
    // A retained publish with `s` also sets (or, empty, clears) its topic's MQTT retained message.
    const retained =
      retain && this.deps.retained !== undefined && key.hasPermission(Permission.Store)
        ? this.setRetained(key.contract, channel.channel, payload, qos, ttl, properties)
        : undefined;
    if (ttl === 0 || !key.hasPermission(Permission.Store)) {
      this.deliverMatch(
        this.deps.trie.matchChannel(key.contract, channel.query, startsWithDollar(channel.channel)),
        withOrigin(new Delivery(channel.channel, payload, qos, false, undefined, properties), sender, retain),
        exclude,
        { contract: key.contract, levels: channel.query },
      );
      return retained;
    }
    const storage = this.deps.storage;
    const ssid = ssidOf(key.contract, channel.query);
    // MQTT 5 properties are stored as their wire block (encoded once), decoded only when replayed.
    const block = properties === undefined ? undefined : encodePublishProperties(properties);
    const message = createMessage(
      { ssid, channel: channel.channel, payload, ttl, ...(block && { properties: block }) },
      { retain: storage.retain },
    );
    // Store and deliver at once: live latency does not wait for the disk; the ack does.
    const stored = storage.store(message).then(
      () => {
        if (this.deps.counters) this.deps.counters.storedMessages++;
        return undefined;
      },
      (error: unknown) => {
        this.storageFailed('store', channel.channel, error);
        return Errors.ServerError;
      },
    );
    const delivery = new Delivery(channel.channel, payload, qos, false, message.id, properties);
    if (properties !== undefined) delivery.seedPropertyBlock(block);
    this.deliverMatch(
      this.deps.trie.match(ssid, startsWithDollar(channel.channel)),
      withOrigin(delivery, sender, retain),
      exclude,
      { contract: key.contract, levels: channel.query },
    );
    return retained === undefined ? stored : Promise.all([stored, retained]).then(([a, b]) => a ?? b);
  }

  // The retained message of a channel's plain topic: replaced, or cleared by an empty payload (which is
  // not stored [MQTT-3.3.1-10/11]). It expires with the message (MQTT 5 expiry or `?ttl`), else never.
  private setRetained(
    contract: number,
    channel: string,
    payload: Buffer,
    qos: QoS,
    ttl: number,
    properties: PublishProperties | undefined,
  ): Promise<EmitterError | undefined> {
    const store = this.deps.retained as RetainedStore;
    const topic = plainTopicOf(channel);
    const done =
      payload.length === 0
        ? store.clear(contract, topic)
        : store.set(contract, {
            topic,
            payload,
            qos,
            expiresAt: ttl > 0 && ttl < RETAINED_TTL ? Date.now() + ttl * 1000 : 0,
            ...(properties === undefined ? {} : { properties: properties as Record<string, unknown> }),
          });
    return done.then(
      () => undefined,
      (error: unknown) => {
        this.storageFailed('retain', channel, error);
        return Errors.ServerError;
      },
    );
  }

  /**
   * Publishes a client's last will as a publish by that client: the same key checks (a key without `w`
   * or with `e` drops it silently, there is no one left to tell), the same topic options (`?ttl=N` stores
   * it for N seconds) and the retain flag (stored for `storage.config.retain`), as Emitter does. A will
   * larger than `maxPacketSize` as a PUBLISH, for `emitter/`, or for a wildcard channel is dropped.
   * `channel`: the will topic parsed (a plain MQTT topic is parsed by the caller, under its key).
   * Resolves once a stored will is stored (or failed to be).
   */
  publishWill(
    will: LastWill,
    maxPacketSize: number,
    channel: ParsedChannel = parseChannel(will.topic),
  ): Promise<EmitterError | undefined> {
    if (2 + Buffer.byteLength(will.topic) + will.payload.length > maxPacketSize) {
      return Promise.resolve(Errors.MessageTooLarge);
    }
    if (channel.kind !== ChannelKind.Static || channel.key === 'emitter')
      return Promise.resolve(Errors.BadRequest);
    return Promise.resolve(
      this.publish(undefined, channel, will.payload, will.retain, will.qos ?? 0, will.properties),
    );
  }

  /**
   * The channel-key check of `publish` alone (same grant cache): lets a caller with further rules of its
   * own (the broker's hooks) ask them only about what the key allows.
   */
  checkWrite(channel: ParsedChannel): EmitterError | undefined {
    if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
    if (channel.kind === ChannelKind.Wildcard) return Errors.Forbidden;
    const key = this.authorizeWrite(channel);
    return key instanceof EmitterError ? key : undefined;
  }

  /** The channel-key check of `subscribe` alone. */
  checkRead(channel: ParsedChannel): EmitterError | undefined {
    if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
    const key = this.deps.authority.authorize(channel.key, channel.channel, Permission.Read, {
      rejectExtend: true,
    });
    return key instanceof EmitterError ? key : undefined;
  }

  // A session hands back the same parsed channel for a repeated topic: its grant is remembered (a key's
  // grant on a channel never changes), while bans and expiry are checked again on every publish.
  private authorizeWrite(channel: ParsedChannel): ChannelKey | EmitterError {
    const granted = this.writeGrants.get(channel);
    if (granted !== undefined && this.deps.authority.stillValid(channel.key, granted)) return granted;
    const key = this.deps.authority.authorize(channel.key, channel.channel, Permission.Write, {
      rejectExtend: true,
    });
    if (!(key instanceof EmitterError)) this.writeGrants.set(channel, key);
    return key;
  }

  /** Sends a QoS 0 message to every subscriber of an SSID (on every cluster node). */
  deliver(ssid: Ssid, topic: string, payload: Buffer, exclude?: Subscriber): number {
    return this.deliverMatch(
      this.deps.trie.match(ssid, startsWithDollar(topic)),
      new Delivery(topic, payload),
      exclude,
      {
        contract: ssid[0],
        levels: ssid.slice(1),
      },
    );
  }

  /**
   * Sends a message to a match's recipients (`forEachRecipient`: each once, at the highest QoS it was
   * granted, capped by the message's). The one `Delivery` encodes each wire form once for all of them.
   * `route` is where it was published, which subscribers on peer nodes need to forward it.
   */
  deliverMatch(match: Match<Subscriber>, delivery: Delivery, exclude?: Subscriber, route?: Route): number {
    const direct = match.subscriptions;
    if (direct.length === 0 && match.groups.length === 0) return 0;
    const cap = delivery.qos;
    let sent = 0;
    if (match.groups.length === 0) {
      // forEachRecipient's own first step, inlined: the hot path of fan-out makes no closure and no
      // extra call per recipient (direct subscriptions are already one per subscriber).
      const excludeId = exclude?.id;
      for (let i = 0; i < direct.length; i++) {
        const { subscriber, qos, options } = direct[i];
        if (subscriber.id === excludeId) continue;
        subscriber.deliver(delivery, qos < cap ? qos : cap, route, options);
        if (subscriber.peer === undefined) sent++; // a peer node counts its own deliveries
      }
      if (this.deps.counters) this.deps.counters.messagesOut += sent;
      return sent;
    }
    // The publisher is left out before picking, so a group still gets the message under me=0.
    forEachRecipient(
      match,
      (subscriber, granted, options) => {
        subscriber.deliver(delivery, granted < cap ? granted : cap, route, options);
        if (subscriber.peer === undefined) sent++; // a peer node counts its own deliveries
      },
      exclude?.id,
    );
    if (this.deps.counters) this.deps.counters.messagesOut += sent;
    return sent;
  }

  /**
   * Authorises a subscription granted at `qos` and adds it (subscribing again to one channel only updates
   * its QoS); with a key that has `l`, also replays stored messages (`last`, default 1, within
   * `from`/`until`), oldest first, at the subscription's QoS. `topic` is the filter as the client sent it.
   * `plainFilter`, for a plain MQTT client's (non-shared) subscription, is its MQTT filter: it gets the
   * MQTT retained messages matching it instead (RETAIN=1, with `r` alone), not the stored ones.
   */
  async subscribe(
    session: Session,
    channel: ParsedChannel,
    replay: boolean | 'if-new' = true,
    qos: QoS = 0,
    topic = '',
    options?: SubscriptionOptions,
    plainFilter?: string,
  ): Promise<EmitterError | SessionSubscription> {
    if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
    const key = this.deps.authority.authorize(channel.key, channel.channel, Permission.Read, {
      rejectExtend: true,
    });
    if (key instanceof EmitterError) return key;
    const max = this.deps.maxSubscriptions ?? Infinity;
    const known = session.subscriptions.has(ssidKey(ssidOf(key.contract, channel.query)));
    if (session.subscriptions.size >= max && !known) {
      return Errors.TooManySubscriptions;
    }
    // MQTT 5 Retain Handling 1: stored (retained) messages only for a subscription that is new.
    if (replay === 'if-new') replay = !known;
    if (plainFilter !== undefined) {
      if (!replay || this.deps.retained === undefined || plainFilter.startsWith('$share/'))
        return this.add(session, key, channel, qos, topic, options);
      return this.sendRetained(session, key, channel, qos, topic, options, plainFilter);
    }
    if (!replay || !key.hasPermission(Permission.Load) || replayLimit(channel.options) <= 0) {
      return this.add(session, key, channel, qos, topic, options);
    }
    // Subscribe first, hold live messages while the stored ones are read, send the stored ones, then
    // the held ones the replay did not contain: no gap, no duplicate, no overtaking at the seam.
    const hold = session.holdDeliveries();
    const subscription = this.add(session, key, channel, qos, topic, options);
    try {
      if (this.deps.counters) this.deps.counters.storageQueries++;
      const messages = await this.deps.storage.query(subscription.ssid, {
        limit: replayLimit(channel.options),
        ...timeWindow(channel.options),
      });
      // Stored messages replay at the subscription's QoS (their publish QoS is not stored).
      for (const message of messages) {
        const delivery = storedDelivery(message, qos);
        // Past its MQTT 5 Message Expiry Interval: not delivered [MQTT-3.3.2-5].
        if (delivery !== undefined) hold.replay(delivery, qos, options);
      }
      return subscription;
    } catch (error) {
      this.storageFailed('replay', channel.channel, error);
      return Errors.ServerError;
    } finally {
      hold.release();
    }
  }

  // A plain subscription, then the retained messages of its filter at min(their QoS, granted), live ones
  // held meanwhile (a slow store cannot let a newer live message overtake an older retained one).
  private async sendRetained(
    session: Session,
    key: ChannelKey,
    channel: ParsedChannel,
    qos: QoS,
    topic: string,
    options: SubscriptionOptions | undefined,
    filter: string,
  ): Promise<EmitterError | SessionSubscription> {
    const hold = session.holdDeliveries();
    const subscription = this.add(session, key, channel, qos, topic, options);
    try {
      if (this.deps.counters) this.deps.counters.storageQueries++;
      const messages = await (this.deps.retained as RetainedStore).match(key.contract, filter);
      const now = Date.now();
      for (const message of messages) {
        const delivery = new Delivery(
          message.topic,
          message.payload,
          message.qos,
          true,
          undefined,
          retainedProperties(message.properties, message.expiresAt, now),
        );
        delivery.publishedRetain = true;
        hold.replay(delivery, message.qos < qos ? message.qos : qos, options);
      }
      return subscription;
    } catch (error) {
      this.storageFailed('retained', channel.channel, error);
      return Errors.ServerError;
    } finally {
      hold.release();
    }
  }

  /** Stored messages of a channel for the history request (key with `l`). */
  async history(
    channel: ParsedChannel,
    query: { startFromId?: Buffer; maxBytes: number },
  ): Promise<EmitterError | StoredMessage[]> {
    if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
    const key = this.deps.authority.authorize(channel.key, channel.channel, Permission.Load);
    if (key instanceof EmitterError) return key;
    if (this.deps.counters) this.deps.counters.storageQueries++;
    try {
      return await this.deps.storage.query(ssidOf(key.contract, channel.query), {
        limit: replayLimit(channel.options),
        ...timeWindow(channel.options),
        startFromId: query.startFromId,
        maxBytes: query.maxBytes,
      });
    } catch (error) {
      this.storageFailed('history', channel.channel, error);
      return Errors.ServerError;
    }
  }

  // A storage failure is a 500 to the client; the operator sees it in the metrics and (bounded) the log.
  private storageFailed(operation: StorageOperation, channel: string, error: unknown): void {
    if (this.deps.counters) this.deps.counters.storageErrors++;
    const skipped = this.failureThrottle.admit();
    if (skipped === undefined) return;
    this.deps.logger?.warn(
      { operation, channel, error: errorFields(error), ...(skipped > 0 && { skipped }) },
      FAILURE_MESSAGES[operation],
    );
  }

  private add(
    session: Session,
    key: ChannelKey,
    channel: ParsedChannel,
    qos: QoS,
    topic: string,
    options?: SubscriptionOptions,
  ): SessionSubscription {
    const ssid = ssidOf(key.contract, channel.query);
    const id = ssidKey(ssid);
    const existing = session.subscriptions.get(id);
    if (existing && existing.qos === qos && options === undefined) return existing;
    const subscription: SessionSubscription = existing
      ? { ...existing, qos, topic: topic || existing.topic }
      : { ssid, channel: channel.channel, qos, topic };
    session.subscriptions.set(id, subscription);
    this.deps.trie.subscribe(ssid, session, qos, options);
    if (!existing) for (const listener of this.listeners) listener.subscribed(session, subscription);
    return subscription;
  }

  /** Authorises and removes a subscription; removing one that does not exist is a silent no-op. */
  unsubscribe(session: Session, channel: ParsedChannel): EmitterError | undefined {
    if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
    const key = this.deps.authority.authorize(channel.key, channel.channel, Permission.Read, {
      rejectExtend: true,
    });
    if (key instanceof EmitterError) return key;
    this.remove(session, ssidKey(ssidOf(key.contract, channel.query)));
    return undefined;
  }

  /** Drops every subscription of a session that is going away. */
  unsubscribeAll(session: Session): void {
    for (const id of session.subscriptions.keys()) this.remove(session, id);
  }

  private remove(session: Session, id: string): void {
    const subscription = session.subscriptions.get(id);
    if (!subscription) return;
    session.subscriptions.delete(id);
    this.deps.trie.unsubscribe(subscription.ssid, session);
    for (const listener of this.listeners) listener.unsubscribed(session, subscription);
  }
}

// A retained message's properties as sent now: its Message Expiry Interval is what is left of it
// [MQTT-3.3.2-6].
function retainedProperties(
  properties: Readonly<Record<string, unknown>> | undefined,
  expiresAt: number,
  now: number,
): PublishProperties | undefined {
  if (properties === undefined) return undefined;
  const published = properties as PublishProperties;
  if (published.messageExpiryInterval === undefined || expiresAt === 0) return published;
  return { ...published, messageExpiryInterval: Math.max(1, Math.ceil((expiresAt - now) / 1000)) };
}

// Who published a message and with which RETAIN flag: MQTT 5 subscriptions with No Local or Retain As
// Published look at them.
function withOrigin(delivery: Delivery, sender: Session | undefined, retain: boolean): Delivery {
  if (sender !== undefined) delivery.senderId = sender.id;
  if (retain) delivery.publishedRetain = true;
  return delivery;
}

/**
 * A stored message as a delivery at `qos`, its MQTT 5 properties decoded and its Message Expiry Interval
 * counted from its publish time (a v5 recipient gets what is left [MQTT-3.3.2-6]); undefined once that
 * interval has passed. Damaged properties are left out rather than losing the message.
 */
export function storedDelivery(message: StoredMessage, qos: QoS): Delivery | undefined {
  const block = message.properties;
  if (block === undefined) return new Delivery(message.channel, message.payload, qos, false, message.id);
  const decoded = decodePublishProperties(block);
  const properties = decoded instanceof Error ? undefined : decoded;
  const delivery = new Delivery(
    message.channel,
    message.payload,
    qos,
    false,
    message.id,
    properties,
    message.time,
  );
  return delivery.expired ? undefined : delivery;
}
