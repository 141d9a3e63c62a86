/**
 * How the `ssd` provider answers a query with index scans only (never a sort of the whole match set):
 *
 * - A pattern of two or more levels first looks for the channels it matches, by a skip scan of
 *   `messages_by_channel` (one seek per matching channel or per subtree jumped over, at most
 *   DISCOVERY_LIMIT seeks). When at most MAX_CHANNEL_CURSORS channels match, each is read newest first
 *   through the same index: `last=N` on a channel is one seek plus N index steps.
 * - Otherwise, and for patterns of one level (`a/`, `+/`, or a bare contract), whole partitions are read
 *   newest first through `messages_by_partition`: Emitter's partition (contract, level1) when the first
 *   level is fixed, every partition of the contract when it is a wildcard; rows are filtered by the
 *   pattern when it has more than one level.
 *
 * Cursors fetch pages (growing from a small first page) and a heap merges them by id, newest first,
 * until the collector has `limit` messages or reaches the byte cap.
 */

import type Database from 'better-sqlite3';
import type { Ssid } from '../channel/ssid.js';
import { WellKnownHash } from '../channel/hash.js';
import { Heap } from './heap.js';
import { messageIdTime, type StoredMessage } from './message.js';
import { matchesPattern, type QueryPlan, type ResultCollector } from './query.js';
import { ID_MAX, ID_MIN } from './ssd-schema.js';

/** Most seeks spent looking for matching channels before falling back to a partition scan. */
export const DISCOVERY_LIMIT = 1024;
/** Most channels read one by one; more matching channels read their partition instead. */
export const MAX_CHANNEL_CURSORS = 64;
const MAX_PAGE = 1024;
const PARTITION_FIRST_PAGE = 256;

/** A raw row: id, ssid, channel, payload, expires, properties. */
export type Row = [Buffer, Buffer, string, Buffer, number, Buffer | null];

/** The prepared statements a query runs (raw mode for the pages, pluck mode for the seeks). */
export interface QueryStatements {
  readonly channelPage: Database.Statement<unknown[], Row>;
  readonly partitionPage: Database.Statement<unknown[], Row>;
  readonly firstSsid: Database.Statement<unknown[], Buffer>;
  readonly nextSsid: Database.Statement<unknown[], Buffer>;
  readonly nextLevel1: Database.Statement<unknown[], number>;
}

/** The SSID as stored: 4 bytes big-endian per element. */
export function encodeSsid(ssid: Ssid): Buffer {
  const out = Buffer.allocUnsafe(4 * ssid.length);
  for (let i = 0; i < ssid.length; i++) out.writeUInt32BE(ssid[i] >>> 0, 4 * i);
  return out;
}

/** The SSID of a stored BLOB. */
export function decodeSsid(blob: Buffer): number[] {
  const ssid: number[] = [];
  for (let offset = 0; offset + 4 <= blob.length; offset += 4) ssid.push(blob.readUInt32BE(offset));
  return ssid;
}

class Cursor {
  private rows: Row[] = [];
  private pos = 0;
  private exhausted = false;
  private upper: Buffer;
  /** The current row's message (undefined once the cursor is done). */
  current: StoredMessage | undefined;

  /**
   * `source` is the channel's SSID when every row comes from that one channel (decoded once), or the
   * pattern rows are filtered by, or undefined for a partition whose rows all match.
   */
  constructor(
    private readonly fetch: (upper: Buffer, count: number) => Row[],
    private readonly source: { readonly channel: Ssid } | { readonly pattern: Ssid } | undefined,
    upper: Buffer,
    private pageSize: number,
  ) {
    this.upper = upper;
    this.advance();
  }

  /** Moves to the next older matching row. */
  advance(): void {
    for (;;) {
      if (this.pos === this.rows.length) {
        if (this.exhausted) {
          this.current = undefined;
          return;
        }
        this.rows = this.fetch(this.upper, this.pageSize);
        this.pos = 0;
        if (this.rows.length < this.pageSize) this.exhausted = true;
        if (this.rows.length > 0) this.upper = this.rows[this.rows.length - 1][0];
        this.pageSize = Math.min(this.pageSize * 2, MAX_PAGE);
        continue;
      }
      const [id, ssidBlob, channel, payload, expires, properties] = this.rows[this.pos++];
      const source = this.source;
      const ssid = source !== undefined && 'channel' in source ? source.channel : decodeSsid(ssidBlob);
      if (source !== undefined && 'pattern' in source && !matchesPattern(source.pattern, ssid)) continue;
      this.current =
        properties === null
          ? { id, ssid, channel, payload, time: messageIdTime(id), expires }
          : { id, ssid, channel, payload, time: messageIdTime(id), expires, properties };
      return;
    }
  }
}

const newestFirst = (a: Cursor, b: Cursor): number => Buffer.compare(b.current!.id, a.current!.id);

/** Runs a planned query against the database, feeding `collector` newest first. */
export function runQuery(
  statements: QueryStatements,
  plan: QueryPlan,
  nowSeconds: number,
  collector: ResultCollector,
): void {
  const cursors = openCursors(statements, plan, nowSeconds);
  const heap = new Heap(
    newestFirst,
    cursors.filter((cursor) => cursor.current !== undefined),
  );
  for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
    if (!collector.add(top.current!)) return;
    top.advance();
    if (top.current === undefined) heap.pop();
    else heap.replaceTop(top);
  }
}

function openCursors(statements: QueryStatements, plan: QueryPlan, nowSeconds: number): Cursor[] {
  const { pattern, limit } = plan;
  const lower = plan.lower ?? ID_MIN;
  const upper = plan.upper ?? ID_MAX;
  const contract = pattern[0];
  // A pattern of one level or less matches every message of the partitions it reads.
  const filter = pattern.length > 2 ? pattern : undefined;
  if (filter !== undefined) {
    const channels = findChannels(statements, pattern, plan.fixed);
    if (channels !== undefined) {
      const first = firstPage(limit, channels.length, MAX_PAGE);
      return channels.map(
        (ssid) =>
          new Cursor(
            (before, count) => statements.channelPage.all(ssid, lower, before, nowSeconds, count),
            { channel: Object.freeze(decodeSsid(ssid)) },
            upper,
            first,
          ),
      );
    }
  }
  const partitions: number[] = [];
  if (plan.fixed >= 2) {
    partitions.push(pattern[1]);
  } else {
    const { nextLevel1 } = statements;
    for (let l1 = nextLevel1.get(contract, -1); l1 !== undefined; l1 = nextLevel1.get(contract, l1)) {
      partitions.push(l1);
    }
  }
  // With a filter, rows that do not match are read too: start with bigger pages.
  const first = filter === undefined ? firstPage(limit, partitions.length, MAX_PAGE) : PARTITION_FIRST_PAGE;
  return partitions.map(
    (level1) =>
      new Cursor(
        (before, count) => statements.partitionPage.all(contract, level1, lower, before, nowSeconds, count),
        filter === undefined ? undefined : { pattern: filter },
        upper,
        first,
      ),
  );
}

// The first page of each of `cursors` cursors: the limit for one, about twice its share for several.
function firstPage(limit: number, cursors: number, max: number): number {
  return Math.min(limit, max, Math.max(4, Math.ceil((2 * limit) / Math.max(1, cursors))));
}

/**
 * The stored channels matching `pattern`, found by a skip scan of `messages_by_channel`: each seek lands
 * on the next stored SSID, which either matches or tells how far to jump (to the pattern's hash at the
 * first level that differs, or past the subtree that cannot match). Undefined when more than
 * MAX_CHANNEL_CURSORS match or the scan needs more than DISCOVERY_LIMIT seeks.
 */
function findChannels(statements: QueryStatements, pattern: Ssid, fixed: number): Buffer[] | undefined {
  const prefix = encodeSsid(pattern.slice(0, fixed));
  const found: Buffer[] = [];
  let target = prefix;
  let inclusive = true;
  for (let seeks = 0; seeks < DISCOVERY_LIMIT; seeks++) {
    const blob = inclusive ? statements.firstSsid.get(target) : statements.nextSsid.get(target);
    if (blob === undefined || !startsWith(blob, prefix)) return found;
    const step = nextCandidate(pattern, decodeSsid(blob));
    if (step.matches) {
      if (found.length === MAX_CHANNEL_CURSORS) return undefined;
      found.push(blob);
    }
    if (step.jump === undefined) {
      target = blob;
      inclusive = false;
    } else if (step.jump === END) {
      return found;
    } else {
      target = encodeSsid(step.jump);
      inclusive = true;
    }
  }
  return undefined;
}

const END = 'end';

/** Whether `ssid` matches, and where the next candidate can be: after `ssid`, at `jump`, or nowhere. */
function nextCandidate(pattern: Ssid, ssid: Ssid): { matches: boolean; jump?: Ssid | typeof END } {
  for (let i = 1; i < pattern.length; i++) {
    if (i >= ssid.length) return { matches: false };
    const level = pattern[i];
    if (level === WellKnownHash.multiWildcard) return { matches: true };
    if (level === WellKnownHash.wildcard || level === ssid[i]) continue;
    if (ssid[i] < level) return { matches: false, jump: [...ssid.slice(0, i), level] };
    return { matches: false, jump: successor(ssid.slice(0, i)) };
  }
  return { matches: true };
}

// The smallest SSID after every SSID that starts with `levels`, or END when there is none.
function successor(levels: number[]): Ssid | typeof END {
  for (let j = levels.length - 1; j >= 0; j--) {
    if (levels[j] < 0xffff_ffff) return [...levels.slice(0, j), levels[j] + 1];
  }
  return END;
}

function startsWith(blob: Buffer, prefix: Buffer): boolean {
  return blob.length >= prefix.length && blob.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}
