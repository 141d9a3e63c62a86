/**
 * The in-memory provider's index: a tree of channels per contract, one node per level hash, each node
 * holding the log of the messages published exactly on its channel, sorted by id. A query descends the
 * tree along the pattern (a fixed level is one Map lookup, `+` visits the children, `#` and the end of
 * the pattern take whole subtrees), then merges the matching logs from the newest id down.
 */

import { WellKnownHash } from '../channel/hash.js';
import type { Ssid } from '../channel/ssid.js';
import { Heap } from './heap.js';
import { isExpired, type StoredMessage } from './message.js';
import type { QueryPlan, ResultCollector } from './query.js';

/** A stored message with its bookkeeping; `log` is undefined once the message is removed. */
export interface Entry {
  readonly message: StoredMessage;
  /** Bytes it counts for against `maxBytes`. */
  readonly size: number;
  log: ChannelLog | undefined;
}

// Hashes folded to int32 as Map keys: small integers to V8 (the same trick as the subscription trie).
const WILDCARD = WellKnownHash.wildcard | 0;
const MULTI_WILDCARD = WellKnownHash.multiWildcard | 0;
// A log compacts when it holds more than this many removed entries and more removed than live ones.
const COMPACT_MIN = 32;

class ChannelNode {
  children: Map<number, ChannelNode> | undefined;
  log: ChannelLog | undefined;

  constructor(
    readonly parent: ChannelNode | undefined,
    readonly key: number,
  ) {}
}

/** The messages of one channel in id order; removed entries stay until the log compacts. */
class ChannelLog {
  entries: Entry[] = [];
  /** Entries before `head` are all removed. */
  head = 0;
  live = 0;

  constructor(readonly node: ChannelNode) {}

  add(entry: Entry): void {
    const entries = this.entries;
    const last = entries.length > this.head ? entries[entries.length - 1] : undefined;
    if (last === undefined || Buffer.compare(last.message.id, entry.message.id) < 0) {
      entries.push(entry);
    } else {
      // Out of order (an explicit older time): insert after every entry with a smaller id.
      entries.splice(this.upperIndex(entry.message.id) + 1, 0, entry);
    }
    this.live++;
  }

  remove(entry: Entry): void {
    entry.log = undefined;
    this.live--;
    const entries = this.entries;
    while (this.head < entries.length && entries[this.head].log !== this) this.head++;
    const removed = entries.length - this.head - this.live;
    if (removed > COMPACT_MIN && removed > this.live) {
      this.entries = entries.filter((e, i) => i >= this.head && e.log === this);
      this.head = 0;
    } else if (this.head > COMPACT_MIN && this.head * 2 > entries.length) {
      this.entries = entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Index of the newest entry whose id is below `upper` (all when undefined); `head - 1` if none. */
  upperIndex(upper: Buffer | undefined): number {
    const entries = this.entries;
    if (upper === undefined) return entries.length - 1;
    let lo = this.head;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(entries[mid].message.id, upper) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }
}

interface Cursor {
  readonly log: ChannelLog;
  index: number;
}

const newestFirst = (a: Cursor, b: Cursor): number =>
  Buffer.compare(b.log.entries[b.index].message.id, a.log.entries[a.index].message.id);

/** Channels and their message logs, by contract and level. */
export class ChannelIndex {
  private readonly contracts = new Map<number, ChannelNode>();
  private channelCount = 0;

  /** Number of channels holding at least one message. */
  get channels(): number {
    return this.channelCount;
  }

  /** Files a message under its channel; returns its entry. */
  add(message: StoredMessage, size: number): Entry {
    const ssid = message.ssid;
    let node: ChannelNode | undefined = this.contracts.get(ssid[0] | 0);
    if (node === undefined) {
      node = new ChannelNode(undefined, ssid[0] | 0);
      this.contracts.set(node.key, node);
    }
    for (let i = 1; i < ssid.length; i++) {
      const key = ssid[i] | 0;
      let child: ChannelNode | undefined = node.children?.get(key);
      if (child === undefined) {
        child = new ChannelNode(node, key);
        (node.children ??= new Map()).set(key, child);
      }
      node = child;
    }
    let log = node.log;
    if (log === undefined) {
      log = node.log = new ChannelLog(node);
      this.channelCount++;
    }
    const entry: Entry = { message, size, log };
    log.add(entry);
    return entry;
  }

  /** Removes a live entry; drops its channel and the empty nodes above it when it was the last. */
  remove(entry: Entry): void {
    const log = entry.log;
    if (log === undefined) return;
    log.remove(entry);
    if (log.live > 0) return;
    let node: ChannelNode | undefined = log.node;
    node.log = undefined;
    this.channelCount--;
    while (node !== undefined && node.log === undefined && (node.children?.size ?? 0) === 0) {
      const parent: ChannelNode | undefined = node.parent;
      if (parent === undefined) this.contracts.delete(node.key);
      else parent.children?.delete(node.key);
      node = parent;
    }
  }

  /** Walks the matching messages from the newest, feeding `collector` until it is full. */
  collect(plan: QueryPlan, now: number, collector: ResultCollector): void {
    const root = this.contracts.get(plan.pattern[0] | 0);
    if (root === undefined) return;
    const logs: ChannelLog[] = [];
    descend(root, plan.pattern, 1, logs);
    const cursors: Cursor[] = [];
    for (const log of logs) {
      const index = log.upperIndex(plan.upper);
      if (index >= log.head) cursors.push({ log, index });
    }
    if (cursors.length === 0) return;
    const lower = plan.lower;
    const heap = new Heap(newestFirst, cursors);
    for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
      const entry = top.log.entries[top.index];
      const message = entry.message;
      if (lower !== undefined && Buffer.compare(message.id, lower) < 0) {
        heap.pop(); // everything older in this log is before the window too
        continue;
      }
      if (entry.log === top.log && !isExpired(message.expires, now) && !collector.add(message)) return;
      top.index--;
      if (top.index < top.log.head) heap.pop();
      else heap.replaceTop(top);
    }
  }
}

// Gathers the logs of every channel the pattern matches, from pattern level `i` at `node`.
function descend(node: ChannelNode, pattern: Ssid, i: number, out: ChannelLog[]): void {
  if (i === pattern.length) {
    subtree(node, out);
    return;
  }
  const children = node.children;
  if (children === undefined) return;
  const key = pattern[i] | 0;
  if (key === MULTI_WILDCARD) {
    for (const child of children.values()) subtree(child, out);
  } else if (key === WILDCARD) {
    for (const child of children.values()) descend(child, pattern, i + 1, out);
  } else {
    const child = children.get(key);
    if (child !== undefined) descend(child, pattern, i + 1, out);
  }
}

function subtree(node: ChannelNode, out: ChannelLog[]): void {
  if (node.log !== undefined) out.push(node.log);
  if (node.children !== undefined) for (const child of node.children.values()) subtree(child, out);
}
