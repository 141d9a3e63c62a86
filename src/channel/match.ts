/**
 * The result of matching a published SSID, and how to turn it into recipients: every direct subscriber
 * once, plus one random member of each matching share group (spec 2.6).
 */

/** Anything stored in a subscription trie: identified by a unique `id` (a connection id, a peer name). */
export interface Identified {
  readonly id: string;
}

/** Who a publish reaches; results are cached and shared, so never mutate them. */
export interface Match<S> {
  /** Direct subscribers, each at most once however many of its subscriptions matched. */
  readonly subscribers: readonly S[];
  /** One de-duplicated member list per matching share group; each delivery goes to one member of each. */
  readonly groups: readonly (readonly S[])[];
}

/** The trie's match result: a Match that can tell quickly whether an id is among its direct subscribers. */
export class MatchResult<S extends Identified> implements Match<S> {
  // Built on first use only: most matches have no groups, and only groups need the membership test.
  private ids: Set<string> | undefined;

  constructor(
    readonly subscribers: readonly S[],
    readonly groups: readonly (readonly S[])[],
  ) {}

  /** True when `id` is a direct subscriber of this match. */
  hasSubscriber(id: string): boolean {
    if (this.subscribers.length <= LINEAR_SCAN_LIMIT) return indexOfId(this.subscribers, id) >= 0;
    this.ids ??= new Set(this.subscribers.map((s) => s.id));
    return this.ids.has(id);
  }
}

/** The match of a publish nobody receives; shared so a miss allocates nothing. */
export const EMPTY_MATCH: Match<never> = Object.freeze({
  subscribers: Object.freeze([]),
  groups: Object.freeze([]),
});

const LINEAR_SCAN_LIMIT = 8;

/**
 * Picks one member of a share group uniformly at random, never `excludeId` (Emitter filters the
 * publisher out before picking when it sent `me=0`); `undefined` when nobody is left.
 */
export function pickShareMember<S extends Identified>(
  group: readonly S[],
  excludeId?: string,
  random: () => number = Math.random,
): S | undefined {
  const excluded = excludeId === undefined ? -1 : indexOfId(group, excludeId);
  const candidates = excluded < 0 ? group.length : group.length - 1;
  if (candidates <= 0) return undefined;
  let index = Math.floor(random() * candidates);
  if (index >= candidates) index = candidates - 1; // guards a random() that returns 1
  if (excluded >= 0 && index >= excluded) index++;
  return group[index];
}

/**
 * Calls `visit` for every recipient of a match: each direct subscriber once, then one random member per
 * share group. As in Emitter, a picked member that already received the message (directly or through an
 * earlier group) is not visited again, and no other member is picked in its place. `excludeId` (the
 * publisher, for `me=0`) is skipped everywhere. Returns the number of visits.
 */
export function forEachRecipient<S extends Identified>(
  match: Match<S>,
  visit: (subscriber: S) => void,
  excludeId?: string,
  random: () => number = Math.random,
): number {
  const direct = match.subscribers;
  let visited = 0;
  for (let i = 0; i < direct.length; i++) {
    const subscriber = direct[i];
    if (subscriber.id === excludeId) continue;
    visit(subscriber);
    visited++;
  }
  const groups = match.groups;
  if (groups.length === 0) return visited;
  // Only several groups can pick the same member twice; one group needs no bookkeeping.
  const picked: string[] | undefined = groups.length > 1 ? [] : undefined;
  for (let g = 0; g < groups.length; g++) {
    const member = pickShareMember(groups[g], excludeId, random);
    if (member === undefined || isDirect(match, member.id)) continue;
    if (picked !== undefined) {
      if (picked.includes(member.id)) continue;
      picked.push(member.id);
    }
    visit(member);
    visited++;
  }
  return visited;
}

function isDirect<S extends Identified>(match: Match<S>, id: string): boolean {
  if (match instanceof MatchResult) return match.hasSubscriber(id);
  return indexOfId(match.subscribers, id) >= 0;
}

function indexOfId(list: readonly Identified[], id: string): number {
  for (let i = 0; i < list.length; i++) if (list[i].id === id) return i;
  return -1;
}
