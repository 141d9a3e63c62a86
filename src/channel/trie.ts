/**
 * The subscription trie (spec 2.4, 2.6): subscriptions stored level by level under their SSID, matched
 * against published SSIDs with Emitter's prefix strategy or the MQTT-like one. Results are cached per
 * published SSID, so repeated publishes to one channel cost a few Map lookups and allocate nothing.
 */

import { CompactMap } from './compact-map.js';
import { PlainMark, WellKnownHash } from './hash.js';
import {
  EMPTY_MATCH,
  MatchResult,
  type Identified,
  type Match,
  type QoS,
  type Subscription,
  type SubscriptionOptions,
} from './match.js';
import type { Ssid } from './ssid.js';

/** How subscriptions match publishes: Emitter's prefix matching, or MQTT-like exact-length matching. */
export const MatchStrategy = { Emitter: 'emitter', Mqtt: 'mqtt' } as const;
/** One of the `MatchStrategy` values (the config's `matcher`). */
export type MatchStrategy = (typeof MatchStrategy)[keyof typeof MatchStrategy];

/** Told about every change that took effect (for replicating subscriptions elsewhere). */
export interface TrieObserver<S> {
  added(ssid: Ssid, subscriber: S): void;
  removed(ssid: Ssid, subscriber: S): void;
}

/** Tuning for a trie. */
export interface SubscriptionTrieOptions {
  /** Most published SSIDs whose match is kept; past it the cache starts over. Default 10,000. */
  readonly cacheLimit?: number;
}

// Map keys are level hashes folded to int32: those are small integers to V8 and need no boxing,
// while uint32 hashes above 2^31 would be heap numbers. The fold is a bijection, so nothing collides.
const WILDCARD = WellKnownHash.wildcard | 0;
const MULTI_WILDCARD = WellKnownHash.multiWildcard | 0;
const SHARE = WellKnownHash.share | 0;
const EXACT = PlainMark.exact | 0;
const PLAIN_MULTI = PlainMark.multi | 0;
const ROOT_WILDCARD = PlainMark.rootWildcard | 0;
const ROOT_MULTI = PlainMark.rootMulti | 0;
const DEFAULT_CACHE_LIMIT = 10_000;

class TrieNode<S> {
  children: Map<number, TrieNode<S>> | undefined;
  // Most nodes hold one subscription (a device on its own channel), hence a CompactMap.
  subscribers: CompactMap<string, Subscription<S>> | undefined;

  constructor(
    readonly parent: TrieNode<S> | undefined,
    readonly word: number,
  ) {}
}

class CacheNode<S> {
  next: Map<number, CacheNode<S>> | undefined;
  match: Match<S> | undefined;
}

type Gathered<S> = Map<string, Subscription<S>>;
type Walk<S> = (node: TrieNode<S>, levels: Ssid, index: number, out: Gathered<S>) => void;

/**
 * Subscriptions by SSID. The first SSID element (the contract) always matches exactly, so no
 * subscription ever sees another contract's messages; share groups live under `[contract, $share, group]`.
 */
export class SubscriptionTrie<S extends Identified> {
  private readonly root = new TrieNode<S>(undefined, 0);
  private readonly walk: Walk<S>;
  private readonly plainWalk: Walk<S>;
  // Set by the first plain MQTT subscription: until then matching runs Emitter's walks unchanged.
  private hasPlain = false;
  private readonly cacheLimit: number;
  private cache = new CacheNode<S>();
  private cached = 0;
  private pairs = 0;
  private addresses = 0;
  private changes = 0;
  private observer: TrieObserver<S> | undefined;

  /** Creates an empty trie matching with `strategy`. */
  constructor(
    readonly strategy: MatchStrategy = MatchStrategy.Emitter,
    options: SubscriptionTrieOptions = {},
  ) {
    this.walk = strategy === MatchStrategy.Mqtt ? walkMqtt : walkEmitter;
    this.plainWalk = strategy === MatchStrategy.Mqtt ? walkMqttPlain : walkEmitterPlain;
    this.cacheLimit = Math.max(1, options.cacheLimit ?? DEFAULT_CACHE_LIMIT);
  }

  /** Sets the one observer told about every subscribe and unsubscribe that changed the trie. */
  observe(observer: TrieObserver<S> | undefined): void {
    this.observer = observer;
  }

  /** Bumped on every change; whoever caches something derived from matches can compare it. */
  get generation(): number {
    return this.changes;
  }

  /** Number of (SSID, subscriber) pairs stored. */
  get count(): number {
    return this.pairs;
  }

  /** Number of distinct SSIDs that have at least one subscriber. */
  get size(): number {
    return this.addresses;
  }

  /**
   * Adds `subscriber` under `ssid` with its granted QoS; subscribing again replaces the QoS and options.
   * False when nothing changed (already there alike, or an empty SSID). The observer hears of new pairs only.
   */
  subscribe(ssid: Ssid, subscriber: S, qos: QoS = 0, options?: SubscriptionOptions): boolean {
    if (ssid.length === 0) return false;
    if (!this.hasPlain && isPlainSsid(ssid)) {
      this.hasPlain = true;
      this.changed();
    }
    let node = this.root;
    for (let i = 0; i < ssid.length; i++) {
      const word = ssid[i] | 0;
      node.children ??= new Map();
      let child = node.children.get(word);
      if (child === undefined) {
        child = new TrieNode(node, word);
        node.children.set(word, child);
      }
      node = child;
    }
    node.subscribers ??= new CompactMap();
    const existing = node.subscribers.get(subscriber.id);
    if (existing !== undefined) {
      if (existing.qos === qos && existing.options === options) return false;
      node.subscribers.set(subscriber.id, subscriptionOf(existing.subscriber, qos, options));
      this.changed();
      return true;
    }
    if (node.subscribers.size === 0) this.addresses++;
    node.subscribers.set(subscriber.id, subscriptionOf(subscriber, qos, options));
    this.pairs++;
    this.changed();
    this.observer?.added(ssid, subscriber);
    return true;
  }

  /** Removes `subscriber` (by id) from `ssid`; false when it was not subscribed there. */
  unsubscribe(ssid: Ssid, subscriber: Identified): boolean {
    const node = this.find(ssid);
    const stored = node?.subscribers?.get(subscriber.id);
    if (stored === undefined || node?.subscribers?.delete(subscriber.id) !== true) return false;
    this.pairs--;
    if (node.subscribers.size === 0) {
      this.addresses--;
      node.subscribers = undefined;
      prune(node);
    }
    this.changed();
    this.observer?.removed(ssid, stored.subscriber);
    return true;
  }

  /** True when `subscriber` (by id) is subscribed to exactly `ssid`. */
  isSubscribed(ssid: Ssid, subscriber: Identified): boolean {
    return this.find(ssid)?.subscribers?.has(subscriber.id) === true;
  }

  /** The subscription of `subscriber` (by id) to exactly `ssid`, if any. */
  subscriptionAt(ssid: Ssid, subscriber: Identified): Subscription<S> | undefined {
    return this.find(ssid)?.subscribers?.get(subscriber.id);
  }

  /**
   * Who a publish to `ssid` reaches: direct subscribers and share groups; cached until the next change.
   * `dollar`: the topic's first level starts with `$` (see `startsWithDollar`), which plain MQTT
   * subscriptions with a leading wildcard do not match [MQTT-4.7.2-1]. It follows from the SSID's first
   * level, so the cache by SSID stays right.
   */
  match(ssid: Ssid, dollar = false): Match<S> {
    if (ssid.length === 0) return EMPTY_MATCH;
    return this.lookup(ssid[0], ssid, 1, dollar);
  }

  /** `match(ssidOf(contract, query))` without building the SSID: the allocation-free publish path. */
  matchChannel(contract: number, query: readonly number[], dollar = false): Match<S> {
    return this.lookup(contract, query, 0, dollar);
  }

  /**
   * Everyone a publish to `ssid` could reach, each once: direct subscribers and every member of every
   * matching share group (where a delivery picks only one). For presence-style listings.
   */
  subscribersOf(ssid: Ssid): S[] {
    const match = this.match(ssid);
    if (match.groups.length === 0) return match.subscribers.slice();
    const all = new Map<string, S>();
    for (const subscriber of match.subscribers) all.set(subscriber.id, subscriber);
    for (const group of match.groups)
      for (const member of group) all.set(member.subscriber.id, member.subscriber);
    return [...all.values()];
  }

  // The published SSID is `[contract, ...levels.slice(offset)]`, so both entry points share one path.
  private lookup(contract: number, levels: readonly number[], offset: number, dollar: boolean): Match<S> {
    let entry: CacheNode<S> | undefined = this.cache.next?.get(contract | 0);
    for (let i = offset; entry !== undefined && i < levels.length; i++)
      entry = entry.next?.get(levels[i] | 0);
    if (entry?.match !== undefined) return entry.match;

    const result = this.compute(contract, levels, offset, dollar);
    this.remember(contract, levels, offset, result);
    return result;
  }

  private compute(contract: number, levels: readonly number[], offset: number, dollar: boolean): Match<S> {
    const contractNode = this.root.children?.get(contract | 0);
    if (contractNode === undefined) return EMPTY_MATCH;

    const direct: Gathered<S> = new Map();
    this.gather(contractNode, levels, offset, dollar, direct);

    let groups: Subscription<S>[][] | undefined;
    const share = contractNode.children?.get(SHARE);
    if (share?.children !== undefined) {
      // Every child of the $share node is a group; the channel is matched inside its subtree.
      for (const group of share.children.values()) {
        const members: Gathered<S> = new Map();
        this.gather(group, levels, offset, dollar, members);
        if (members.size > 0) (groups ??= []).push([...members.values()]);
      }
    }
    if (direct.size === 0 && groups === undefined) return EMPTY_MATCH;
    return new MatchResult([...direct.values()], groups ?? []);
  }

  // Walks from a contract (or share group) node; plain subscriptions with a leading wildcard hang there
  // under marks of their own, taken only for a topic whose first level does not start with `$`.
  private gather(
    top: TrieNode<S>,
    levels: readonly number[],
    offset: number,
    dollar: boolean,
    out: Gathered<S>,
  ): void {
    if (!this.hasPlain) return this.walk(top, levels, offset, out);
    this.plainWalk(top, levels, offset, out);
    const children = top.children;
    if (dollar || children === undefined || offset >= levels.length) return;
    addAll(children.get(ROOT_MULTI), out);
    const wildcard = children.get(ROOT_WILDCARD);
    if (wildcard !== undefined) this.plainWalk(wildcard, levels, offset + 1, out);
  }

  private remember(contract: number, levels: readonly number[], offset: number, result: Match<S>): void {
    if (this.cached >= this.cacheLimit) this.resetCache();
    let entry = child(this.cache, contract | 0);
    for (let i = offset; i < levels.length; i++) entry = child(entry, levels[i] | 0);
    if (entry.match === undefined) this.cached++;
    entry.match = result;
  }

  private find(ssid: Ssid): TrieNode<S> | undefined {
    if (ssid.length === 0) return undefined;
    let node: TrieNode<S> | undefined = this.root;
    for (let i = 0; node !== undefined && i < ssid.length; i++) node = node.children?.get(ssid[i] | 0);
    return node;
  }

  // Dropping the whole cache is O(1) and can never serve a stale match after a change.
  private changed(): void {
    this.changes++;
    if (this.cached > 0) this.resetCache();
  }

  private resetCache(): void {
    this.cache = new CacheNode<S>();
    this.cached = 0;
  }
}

// Plain MQTT subscriptions end with one of the marks (and only they do): see `PlainMark`.
function isPlainSsid(ssid: Ssid): boolean {
  const last = ssid[ssid.length - 1] | 0;
  return last === EXACT || last === PLAIN_MULTI || last === ROOT_MULTI;
}

// A subscriber that is its own QoS 0 subscription (`subscriber` is itself, `qos` 0) needs no wrapper object:
// memory per idle connection (most subscriptions are QoS 0 without options).
function subscriptionOf<S>(
  subscriber: S,
  qos: QoS,
  options: SubscriptionOptions | undefined,
): Subscription<S> {
  if (qos === 0 && options === undefined) {
    const own = subscriber as Partial<Subscription<S>>;
    if (own.subscriber === subscriber && own.qos === 0) return own as Subscription<S>;
  }
  return options === undefined ? { subscriber, qos } : { subscriber, qos, options };
}

function child<S>(entry: CacheNode<S>, word: number): CacheNode<S> {
  entry.next ??= new Map();
  let next = entry.next.get(word);
  if (next === undefined) {
    next = new CacheNode<S>();
    entry.next.set(word, next);
  }
  return next;
}

// Removes nodes left without subscribers or children, from `node` up towards the root.
function prune<S>(node: TrieNode<S>): void {
  let current = node;
  while (current.parent !== undefined && current.subscribers === undefined && !current.children?.size) {
    current.parent.children?.delete(current.word);
    current = current.parent;
  }
}

// Gathers a node's subscriptions; a subscriber matched by several keeps the one with the highest QoS.
function addAll<S>(node: TrieNode<S> | undefined, out: Gathered<S>): void {
  node?.subscribers?.mergeInto(out, higherQos);
}

function higherQos<S>(kept: Subscription<S>, candidate: Subscription<S>): boolean {
  return candidate.qos > kept.qos;
}

/**
 * Emitter strategy: a subscription matches when its levels are a prefix of the publish, each equal or
 * `+`. Decision 3: a `#` level matches everything from there on, itself included (`a/#/` acts like `a/`);
 * levels written after a `#` keep Emitter's literal behaviour. `*` is an ordinary level here.
 */
function walkEmitter<S>(node: TrieNode<S>, levels: Ssid, index: number, out: Gathered<S>): void {
  addAll(node, out);
  const children = node.children;
  if (children === undefined) return;
  addAll(children.get(MULTI_WILDCARD), out);
  if (index === levels.length) return;
  const word = levels[index] | 0;
  const exact = children.get(word);
  if (exact !== undefined) walkEmitter(exact, levels, index + 1, out);
  if (word !== WILDCARD) {
    const wildcard = children.get(WILDCARD);
    if (wildcard !== undefined) walkEmitter(wildcard, levels, index + 1, out);
  }
}

/**
 * MQTT strategy: every level must match (`+` exactly one) and the publish may not be longer, except
 * below a `#` child, which matches every deeper topic but not its parent (`a/#` does not get `a/`).
 */
function walkMqtt<S>(node: TrieNode<S>, levels: Ssid, index: number, out: Gathered<S>): void {
  if (index === levels.length) {
    addAll(node, out);
    return;
  }
  const children = node.children;
  if (children === undefined) return;
  const word = levels[index] | 0;
  const exact = children.get(word);
  if (exact !== undefined) walkMqtt(exact, levels, index + 1, out);
  if (word !== WILDCARD) {
    const wildcard = children.get(WILDCARD);
    if (wildcard !== undefined) walkMqtt(wildcard, levels, index + 1, out);
  }
  addAll(children.get(MULTI_WILDCARD), out);
}

/**
 * `walkEmitter` in a trie that also holds plain MQTT subscriptions: those match MQTT-exactly, a filter
 * without `#` (ending with the exact mark) at its own depth only, a filter ending with `#` (the multi mark,
 * under its parent) its parent and everything below.
 */
function walkEmitterPlain<S>(node: TrieNode<S>, levels: Ssid, index: number, out: Gathered<S>): void {
  addAll(node, out);
  const children = node.children;
  if (children === undefined) return;
  addAll(children.get(MULTI_WILDCARD), out);
  addAll(children.get(PLAIN_MULTI), out);
  if (index === levels.length) {
    addAll(children.get(EXACT), out);
    return;
  }
  const word = levels[index] | 0;
  const exact = children.get(word);
  if (exact !== undefined) walkEmitterPlain(exact, levels, index + 1, out);
  if (word !== WILDCARD) {
    const wildcard = children.get(WILDCARD);
    if (wildcard !== undefined) walkEmitterPlain(wildcard, levels, index + 1, out);
  }
}

/** `walkMqtt` in a trie that also holds plain MQTT subscriptions (as `walkEmitterPlain`). */
function walkMqttPlain<S>(node: TrieNode<S>, levels: Ssid, index: number, out: Gathered<S>): void {
  const children = node.children;
  if (index === levels.length) {
    addAll(node, out);
    if (children === undefined) return;
    addAll(children.get(EXACT), out);
    addAll(children.get(PLAIN_MULTI), out);
    return;
  }
  if (children === undefined) return;
  const word = levels[index] | 0;
  const exact = children.get(word);
  if (exact !== undefined) walkMqttPlain(exact, levels, index + 1, out);
  if (word !== WILDCARD) {
    const wildcard = children.get(WILDCARD);
    if (wildcard !== undefined) walkMqttPlain(wildcard, levels, index + 1, out);
  }
  addAll(children.get(MULTI_WILDCARD), out);
  addAll(children.get(PLAIN_MULTI), out);
}
