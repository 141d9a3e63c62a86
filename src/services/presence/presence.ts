import {
  ChannelKind,
  parseChannel,
  ssidKey,
  ssidOf,
  WellKnownHash,
  type Ssid,
  type SubscriptionTrie,
} from '../../channel/index.js';
import { EmitterError, Errors } from '../../errors.js';
import type { MemberSubscription } from '../../cluster/index.js';
import { Delivery } from '../../mqtt/index.js';
import { Permission, type KeyAuthority } from '../../security/index.js';
import type { PubSub, SubscriptionListener } from '../pubsub/pubsub.js';
import { RequestFailure, type RequestHandler, type RequestResult } from '../request.js';
import type { Session, SessionSubscription, Subscriber } from '../session.js';
import {
  parsePresenceRequest,
  requestedChannel,
  type PresenceRequest,
  type PresenceMember,
  type PresenceNotification,
  type PresenceStatus,
} from './wire.js';

const PRESENCE_TOPIC = 'emitter/presence/';
/** At most this many members are listed in a status reply; the rest are counted in `occupancy`. */
export const MAX_PRESENCE_MEMBERS = 1000;

/** What the presence service needs: key checks, the subscription trie, and fan-out. */
export interface PresenceDependencies {
  readonly authority: KeyAuthority;
  readonly trie: SubscriptionTrie<Subscriber>;
  readonly pubsub: PubSub;
  readonly now?: () => number;
}

/** `emitter/presence/`: who is subscribed to a channel, and join/leave notifications to watchers. */
export class PresenceService implements RequestHandler, SubscriptionListener {
  readonly name = 'presence';
  // Each watcher's presence subscriptions, by key, so they can be dropped when it goes away.
  private readonly watches = new Map<Session, Map<string, Ssid>>();
  private readonly now: () => number;

  constructor(private readonly deps: PresenceDependencies) {
    this.now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Answers a presence request: a status reply, and/or (un)registers the caller for notifications. */
  handle(session: Session, payload: Buffer): RequestResult {
    const request = parsePresenceRequest(payload);
    if (request instanceof EmitterError)
      return new RequestFailure(request, { channel: requestedChannel(payload) });
    const ssid = this.authorize(request);
    if (ssid instanceof EmitterError) return new RequestFailure(ssid, { channel: request.channel });
    if (request.changes === true) this.watch(session, ssid);
    else if (request.changes === false) this.unwatch(session, ssid);
    if (!request.status) return { status: 200, time: 0, event: '', channel: request.channel, who: null };
    return { ...this.status(ssid, request.channel) };
  }

  /**
   * Answers a status query without a connection (HTTP `POST /presence`): the same body as
   * `emitter/presence/` takes, the same status reply; `status` and `changes` are ignored.
   */
  query(payload: Buffer): PresenceStatus | EmitterError {
    const request = parsePresenceRequest(payload);
    if (request instanceof EmitterError) return request;
    const ssid = this.authorize(request);
    return ssid instanceof EmitterError ? ssid : this.status(ssid, request.channel);
  }

  // The SSID a presence request is about, once its key may ask for presence on its channel.
  private authorize(request: PresenceRequest): Ssid | EmitterError {
    const channel = parseChannel(`${request.key}/${request.channel}`);
    if (channel.kind === ChannelKind.Invalid) return Errors.BadRequest;
    const key = this.deps.authority.authorize(channel.key, channel.channel, Permission.Presence);
    if (key instanceof EmitterError) return key;
    // Emitter refuses an extend key here with the plain 401 text, not the "extend permission" one.
    if (key.hasPermission(Permission.Extend)) return Errors.Unauthorized;
    return ssidOf(key.contract, channel.query);
  }

  /** The status of a channel: everyone a publish to it would reach, sampled down to 1000. */
  status(ssid: Ssid, channel: string): PresenceStatus {
    const members = this.members(ssid);
    return {
      status: 200,
      time: this.now(),
      event: 'status',
      channel,
      occupancy: members.length,
      who: sample(members, MAX_PRESENCE_MEMBERS).map(describe),
    };
  }

  subscribed(session: Session, subscription: SessionSubscription): void {
    this.notify('subscribe', session, subscription);
  }

  unsubscribed(session: Session, subscription: SessionSubscription): void {
    this.notify('unsubscribe', session, subscription);
  }

  /**
   * Tells this node's watchers that clients of a peer node left (the peer died, so it cannot): every
   * surviving node tells its own watchers, so each watcher hears it once.
   */
  peerLeft(subscriptions: readonly MemberSubscription[]): void {
    for (const subscription of subscriptions) {
      if (subscription.channel === '') continue; // an internal subscription (a presence watch)
      this.notify('unsubscribe', subscription, subscription, true);
    }
  }

  /** Forgets a session's presence subscriptions (it disconnected). */
  dropSession(session: Session): void {
    const watched = this.watches.get(session);
    if (!watched) return;
    for (const ssid of watched.values()) this.deps.trie.unsubscribe(ssid, session);
    this.watches.delete(session);
  }

  private watch(session: Session, ssid: Ssid): void {
    const presenceSsid = [0, WellKnownHash.presence, ...ssid];
    let watched = this.watches.get(session);
    if (!watched) this.watches.set(session, (watched = new Map()));
    const id = ssidKey(presenceSsid);
    if (watched.has(id)) return;
    watched.set(id, presenceSsid);
    this.deps.trie.subscribe(presenceSsid, session);
  }

  private unwatch(session: Session, ssid: Ssid): void {
    const watched = this.watches.get(session);
    const presenceSsid = [0, WellKnownHash.presence, ...ssid];
    const id = ssidKey(presenceSsid);
    if (!watched?.delete(id)) return;
    this.deps.trie.unsubscribe(presenceSsid, session);
    if (watched.size === 0) this.watches.delete(session);
  }

  private notify(
    event: 'subscribe' | 'unsubscribe',
    member: Member,
    subscription: Pick<SessionSubscription, 'ssid' | 'channel'>,
    localOnly = false,
  ): void {
    const presenceSsid = [0, WellKnownHash.presence, ...subscription.ssid];
    const watchers = this.deps.trie.match(presenceSsid);
    if (watchers.subscriptions.length === 0 && watchers.groups.length === 0) return;
    const notification: PresenceNotification = {
      time: this.now(),
      event,
      channel: subscription.channel,
      occupancy: this.members(subscription.ssid).length,
      who: describe(member),
    };
    const payload = Buffer.from(JSON.stringify(notification));
    if (!localOnly) {
      this.deps.pubsub.deliver(presenceSsid, PRESENCE_TOPIC, payload);
      return;
    }
    const local = watchers.subscriptions.filter((watcher) => watcher.subscriber.peer === undefined);
    this.deps.pubsub.deliverMatch(
      { subscriptions: local, groups: [], subscribers: [] },
      new Delivery(PRESENCE_TOPIC, payload),
    );
  }

  // Connections (not peers) a publish to `ssid` would reach; one random member per share group.
  private members(ssid: Ssid): Member[] {
    const match = this.deps.trie.match(ssid);
    const members: Member[] = [];
    const seen = new Set<Subscriber>();
    for (const subscriber of match.subscribers) {
      if (isSession(subscriber) && !seen.has(subscriber)) {
        seen.add(subscriber);
        members.push(subscriber);
      }
    }
    for (const group of match.groups) {
      const member = group[Math.floor(Math.random() * group.length)].subscriber;
      if (isSession(member) && !seen.has(member)) {
        seen.add(member);
        members.push(member);
      }
    }
    return members;
  }
}

/** Who a notification or status names: a client here or on a peer node. */
type Member = Pick<Session, 'id' | 'username'>;

// Clients (here or on peer nodes) have a client id; other subscribers (monitor sinks) do not.
function isSession(subscriber: Subscriber): subscriber is Subscriber & Member {
  return 'clientId' in subscriber;
}

function describe(member: Member): PresenceMember {
  return member.username ? { id: member.id, username: member.username } : { id: member.id };
}

// A uniform random subset of `limit` items (partial Fisher-Yates on a copy), order otherwise kept.
function sample<T>(items: readonly T[], limit: number): T[] {
  if (items.length <= limit) return [...items];
  const copy = [...items];
  for (let i = 0; i < limit; i++) {
    const j = i + Math.floor(Math.random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, limit);
}
