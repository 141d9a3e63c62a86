/**
 * The result of matching a published SSID, and how to turn it into recipients: every direct subscriber
 * once, plus one random member of each matching share group (spec 2.6), each recipient once at the
 * highest QoS any of its matching subscriptions was granted.
 */

/** Anything stored in a subscription trie: identified by a unique `id` (a connection id, a peer name). */
export interface Identified {
  readonly id: string;
}

/** An MQTT quality of service level. */
export type QoS = 0 | 1 | 2;

/** MQTT 5 subscription options the trie keeps with a subscription (it does not interpret them). */
export interface SubscriptionOptions {
  readonly noLocal?: boolean;
  readonly retainAsPublished?: boolean;
  /** The MQTT 5 subscription identifier. */
  readonly identifier?: number;
  /** A plain MQTT subscription: its deliveries carry the topic in plain form (`a/b`, not `a/b/`). */
  readonly plain?: boolean;
}

/** What the trie holds: a subscriber, the QoS it was granted, and its options. */
export interface Subscription<S> {
  readonly subscriber: S;
  readonly qos: QoS;
  readonly options?: SubscriptionOptions;
}

/** Who a publish reaches; results are cached and shared, so never mutate them. */
export interface Match<S> {
  /** Direct subscriptions, one per subscriber (the highest QoS among its matching subscriptions). */
  readonly subscriptions: readonly Subscription<S>[];
  /** One list per matching share group (one entry per member); each delivery goes to one member of each. */
  readonly groups: readonly (readonly Subscription<S>[])[];
  /** The direct subscribers (for listings such as presence; deliveries use `subscriptions`). */
  readonly subscribers: readonly S[];
}

/** The trie's match result: a Match that can find one of its direct subscriptions by id quickly. */
export class MatchResult<S extends Identified> implements Match<S> {
  // Built on first use only: most matches have no groups, and only groups need the lookup.
  private byId: Map<string, Subscription<S>> | undefined;
  private list: readonly S[] | undefined;

  constructor(
    readonly subscriptions: readonly Subscription<S>[],
    readonly groups: readonly (readonly Subscription<S>[])[],
  ) {}

  get subscribers(): readonly S[] {
    return (this.list ??= this.subscriptions.map((s) => s.subscriber));
  }

  /** The direct subscription of subscriber `id`, if it is one. */
  direct(id: string): Subscription<S> | undefined {
    if (this.subscriptions.length <= LINEAR_SCAN_LIMIT) return findById(this.subscriptions, id);
    this.byId ??= new Map(this.subscriptions.map((s) => [s.subscriber.id, s]));
    return this.byId.get(id);
  }

  /** True when `id` is a direct subscriber of this match. */
  hasSubscriber(id: string): boolean {
    return this.direct(id) !== undefined;
  }
}

/** The match of a publish nobody receives; shared so a miss allocates nothing. */
export const EMPTY_MATCH: Match<never> = Object.freeze({
  subscriptions: Object.freeze([]),
  groups: Object.freeze([]),
  subscribers: Object.freeze([]),
});

const LINEAR_SCAN_LIMIT = 8;

/**
 * Picks one member of a share group uniformly at random, never `excludeId` (Emitter filters the
 * publisher out before picking when it sent `me=0`); `undefined` when nobody is left.
 */
export function pickShareMember<S extends Identified>(
  group: readonly Subscription<S>[],
  excludeId?: string,
  random: () => number = Math.random,
): Subscription<S> | undefined {
  const excluded = excludeId === undefined ? -1 : indexOfId(group, excludeId);
  const candidates = excluded < 0 ? group.length : group.length - 1;
  if (candidates <= 0) return undefined;
  let index = Math.floor(random() * candidates);
  if (index >= candidates) index = candidates - 1; // guards a random() that returns 1
  if (excluded >= 0 && index >= excluded) index++;
  return group[index];
}

/** Called once per recipient with the QoS it gets the message at (before the publish's own QoS caps it). */
export type RecipientVisitor<S> = (subscriber: S, grantedQos: QoS, options?: SubscriptionOptions) => void;

/**
 * Calls `visit` for every recipient of a match, once each: every direct subscriber, then one random
 * member per share group. A picked member that is also a direct subscriber, or picked by several groups,
 * is visited once, at the highest QoS of those subscriptions; as in Emitter, no other member is picked in
 * its place. `excludeId` (the publisher, for `me=0`) is skipped everywhere. Returns the number of visits.
 */
export function forEachRecipient<S extends Identified>(
  match: Match<S>,
  visit: RecipientVisitor<S>,
  excludeId?: string,
  random: () => number = Math.random,
): number {
  const direct = match.subscriptions;
  const groups = match.groups;
  let visited = 0;
  if (groups.length === 0) {
    for (let i = 0; i < direct.length; i++) {
      const subscription = direct[i];
      if (subscription.subscriber.id === excludeId) continue;
      visit(subscription.subscriber, subscription.qos, subscription.options);
      visited++;
    }
    return visited;
  }
  // Groups first, so a direct subscriber also picked by a group is delivered once, at the higher QoS.
  let upgrades: Map<string, QoS> | undefined;
  const picked: Subscription<S>[] = [];
  for (let g = 0; g < groups.length; g++) {
    const member = pickShareMember(groups[g], excludeId, random);
    if (member === undefined) continue;
    const id = member.subscriber.id;
    const asDirect = directOf(match, id);
    if (asDirect !== undefined) {
      if (member.qos > asDirect.qos && member.qos > (upgrades?.get(id) ?? 0))
        (upgrades ??= new Map()).set(id, member.qos);
      continue;
    }
    const at = indexOfId(picked, id);
    if (at < 0) picked.push(member);
    else if (member.qos > picked[at].qos) picked[at] = member;
  }
  for (let i = 0; i < direct.length; i++) {
    const subscription = direct[i];
    const id = subscription.subscriber.id;
    if (id === excludeId) continue;
    visit(subscription.subscriber, upgrades?.get(id) ?? subscription.qos, subscription.options);
    visited++;
  }
  for (let i = 0; i < picked.length; i++) {
    visit(picked[i].subscriber, picked[i].qos, picked[i].options);
    visited++;
  }
  return visited;
}

function directOf<S extends Identified>(match: Match<S>, id: string): Subscription<S> | undefined {
  if (match instanceof MatchResult) return match.direct(id);
  return findById(match.subscriptions, id);
}

function findById<S extends Identified>(
  list: readonly Subscription<S>[],
  id: string,
): Subscription<S> | undefined {
  const at = indexOfId(list, id);
  return at < 0 ? undefined : list[at];
}

function indexOfId(list: readonly Subscription<Identified>[], id: string): number {
  for (let i = 0; i < list.length; i++) if (list[i].subscriber.id === id) return i;
  return -1;
}
