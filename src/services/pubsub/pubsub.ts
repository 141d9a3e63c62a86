import {
  ChannelKind,
  pickShareMember,
  ssidKey,
  ssidOf,
  type Match,
  type ParsedChannel,
  type Ssid,
  type SubscriptionTrie,
} from '../../channel/index.js';
import { EmitterError, Errors } from '../../errors.js';
import { encodePublish } from '../../mqtt/index.js';
import { Permission, type KeyAuthority } from '../../security/index.js';
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
  readonly listeners?: SubscriptionListener[];
}

/** The outcome of a publish: nothing on success, an error to report, or a promise of either. */
export type PublishOutcome = EmitterError | undefined;

/** Publish, subscribe and unsubscribe with channel-key checks: Emitter's pubsub service. */
export class PubSub {
  private readonly listeners: SubscriptionListener[];

  constructor(private readonly deps: PubSubDependencies) {
    this.listeners = deps.listeners ?? [];
  }

  /** Adds an observer of subscribe/unsubscribe events. */
  addListener(listener: SubscriptionListener): void {
    this.listeners.push(listener);
  }

  /** Authorises and delivers one message; `sender` is skipped when the topic says `me=0`. */
  publish(sender: Session | undefined, channel: ParsedChannel, payload: Buffer): PublishOutcome {
    if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
    if (channel.kind === ChannelKind.Wildcard) return Errors.Forbidden;
    const key = this.deps.authority.authorize(channel.key, channel.channel, Permission.Write, {
      rejectExtend: true,
    });
    if (key instanceof EmitterError) return key;
    const match = this.deps.trie.matchChannel(key.contract, channel.query);
    this.deliverMatch(match, channel.channel, payload, channel.options.me === 0 ? sender : undefined);
    return undefined;
  }

  /** Sends a message to every subscriber of an SSID. */
  deliver(ssid: Ssid, topic: string, payload: Buffer, exclude?: Subscriber): number {
    return this.deliverMatch(this.deps.trie.match(ssid), topic, payload, exclude);
  }

  /** Sends a message to a match's recipients: encoded once, the same buffer written to each. */
  deliverMatch(match: Match<Subscriber>, topic: string, payload: Buffer, exclude?: Subscriber): number {
    const direct = match.subscribers;
    const groups = match.groups;
    if (direct.length === 0 && groups.length === 0) return 0;
    const packet = encodePublish({ topic, payload });
    let sent = 0;
    for (let i = 0; i < direct.length; i++) {
      const subscriber = direct[i];
      if (subscriber === exclude) continue;
      subscriber.deliver(packet);
      sent++;
    }
    for (let i = 0; i < groups.length; i++) {
      // The publisher is left out before picking, so a group still gets the message under me=0.
      const member = pickShareMember(groups[i], exclude?.id);
      if (member === undefined) continue;
      member.deliver(packet);
      sent++;
    }
    return sent;
  }

  /** Authorises a subscription and adds it; subscribing twice to one channel is a no-op. */
  subscribe(session: Session, channel: ParsedChannel): EmitterError | SessionSubscription {
    if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
    const key = this.deps.authority.authorize(channel.key, channel.channel, Permission.Read, {
      rejectExtend: true,
    });
    if (key instanceof EmitterError) return key;
    const ssid = ssidOf(key.contract, channel.query);
    const id = ssidKey(ssid);
    const existing = session.subscriptions.get(id);
    if (existing) return existing;
    const subscription: SessionSubscription = { ssid, channel: channel.channel };
    session.subscriptions.set(id, subscription);
    this.deps.trie.subscribe(ssid, session);
    for (const listener of this.listeners) listener.subscribed(session, subscription);
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
    for (const id of [...session.subscriptions.keys()]) this.remove(session, id);
  }

  private remove(session: Session, id: string): void {
    const subscription = session.subscriptions.get(id);
    if (!subscription) return;
    session.subscriptions.delete(id);
    this.deps.trie.unsubscribe(subscription.ssid, session);
    for (const listener of this.listeners) listener.unsubscribed(session, subscription);
  }
}
