/**
 * The provider-independent half of a query (spec 7.3): the SSID pattern and its wildcards, the id range a
 * time window and a `startFromId` select, and the collector that applies `limit` and the byte cap while a
 * provider walks matching messages from the newest.
 */

import { WellKnownHash } from '../channel/hash.js';
import type { Ssid } from '../channel/ssid.js';
import { isShareSsid } from '../channel/ssid.js';
import { messageIdAt, messageQueryBytes, type StoredMessage } from './message.js';

/** What to read: the newest `limit` matching messages of a time window, or of the page before an id. */
export interface StorageQuery {
  /** Lower bound, unix seconds, inclusive; unset or 0 means no bound. */
  readonly from?: number;
  /** Upper bound, unix seconds, inclusive (the whole second); unset means no bound. */
  readonly until?: number;
  /** Most messages returned (`last`); 0 or less returns nothing. */
  readonly limit: number;
  /** Only messages strictly older than this id (the oldest id of the previous page). */
  readonly startFromId?: Uint8Array;
  /** A tighter byte cap than the storage's `maxQueryBytes` for this query (history replies, say). */
  readonly maxBytes?: number;
}

/** A query ready for a provider: the pattern to match and the id range to read, newest first. */
export interface QueryPlan {
  /** The SSID pattern, share prefix removed (see `replayPattern`). */
  readonly pattern: Ssid;
  /** Number of leading pattern elements without a wildcard (at least 1: the contract). */
  readonly fixed: number;
  /** Smallest id to return (inclusive), or undefined. */
  readonly lower: Buffer | undefined;
  /** Ids must be strictly below this one, or undefined. */
  readonly upper: Buffer | undefined;
  /** Most messages to return. */
  readonly limit: number;
  /** Cap on Σ(payload + id + channel) of the result. */
  readonly maxBytes: number;
}

const WILDCARD = WellKnownHash.wildcard;
const MULTI_WILDCARD = WellKnownHash.multiWildcard;
const MAX_ID_TIME = 0xffff_ffff_ffff;

/**
 * The pattern a subscription replays (our Decision 3): a share SSID `[c, $share, group, ...levels]`
 * reads what was published on `[c, ...levels]`. Storage applies this itself, so callers pass the
 * subscription's SSID as it is.
 */
export function replayPattern(ssid: Ssid): Ssid {
  return isShareSsid(ssid) ? [ssid[0], ...ssid.slice(3)] : ssid;
}

/** True when a level of a pattern is `+` or `#`. */
export function isWildcardLevel(level: number): boolean {
  return level === WILDCARD || level === MULTI_WILDCARD;
}

/**
 * True when a stored SSID matches a pattern: same contract, then level by level an equal hash or `+`;
 * `#` matches the level it stands on and everything below; a pattern shorter than the SSID matches it
 * (prefix semantics: `a/` matches `a/b/c/`). Like Emitter, `a/#/` and `a/+/` need a level after `a/`.
 */
export function matchesPattern(pattern: Ssid, ssid: Ssid): boolean {
  if (pattern[0] !== ssid[0]) return false;
  const length = pattern.length;
  for (let i = 1; i < length; i++) {
    const level = pattern[i];
    if (i >= ssid.length) return false;
    if (level === MULTI_WILDCARD) return true;
    if (level !== WILDCARD && level !== ssid[i]) return false;
  }
  return true;
}

/** The number of leading pattern elements that are not wildcards (the contract always counts). */
export function fixedPrefixLength(pattern: Ssid): number {
  let i = 1;
  while (i < pattern.length && !isWildcardLevel(pattern[i])) i++;
  return i;
}

/**
 * Turns a query into a plan, or `undefined` when it can match nothing (limit 0, empty window);
 * `maxQueryBytes` is the storage's cap, which `query.maxBytes` can only lower.
 */
export function planQuery(ssid: Ssid, query: StorageQuery, maxQueryBytes: number): QueryPlan | undefined {
  const limit = Math.floor(query.limit);
  if (!(limit > 0) || ssid.length === 0) return undefined;
  const from = query.from !== undefined && query.from > 0 ? Math.floor(query.from) : 0;
  const until = query.until;
  if (until !== undefined && until < from) return undefined;

  const lower = from > 0 ? messageIdAt(Math.min(from * 1000, MAX_ID_TIME)) : undefined;
  let upper: Buffer | undefined;
  if (until !== undefined && (Math.floor(until) + 1) * 1000 <= MAX_ID_TIME) {
    upper = messageIdAt((Math.floor(until) + 1) * 1000);
  }
  if (query.startFromId !== undefined) {
    const start = Buffer.from(query.startFromId);
    if (upper === undefined || Buffer.compare(start, upper) < 0) upper = start;
  }
  if (lower !== undefined && upper !== undefined && Buffer.compare(lower, upper) >= 0) return undefined;

  const pattern = replayPattern(ssid);
  const maxBytes = query.maxBytes === undefined ? maxQueryBytes : Math.min(query.maxBytes, maxQueryBytes);
  return { pattern, fixed: fixedPrefixLength(pattern), lower, upper, limit, maxBytes };
}

/**
 * Gathers results newest first and hands them back oldest first. Stops at `limit`, and (Emitter's cap,
 * spec 7.3 step 5) before the message that would take Σ(payload + id + channel) past `maxBytes`.
 */
export class ResultCollector {
  private readonly newestFirst: StoredMessage[] = [];
  private bytes = 0;
  private full = false;

  constructor(
    private readonly limit: number,
    private readonly maxBytes: number,
  ) {}

  /** Offers the next older message; returns false when the collector is full (stop walking). */
  add(message: StoredMessage): boolean {
    if (this.full) return false;
    const size = messageQueryBytes(message);
    if (this.bytes + size > this.maxBytes) {
      this.full = true;
      return false;
    }
    this.bytes += size;
    this.newestFirst.push(message);
    if (this.newestFirst.length >= this.limit) this.full = true;
    return true;
  }

  /** The collected messages, oldest first. */
  result(): StoredMessage[] {
    return this.newestFirst.reverse();
  }
}
