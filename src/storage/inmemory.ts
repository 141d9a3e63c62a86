/**
 * The `inmemory` provider (the default in Emitter's generated config): messages in a channel tree (see
 * `inmemory-index.ts`), bounded by `maxBytes` with the oldest stored evicted first, expired messages
 * hidden from queries at once and dropped by a background purge.
 */

import type { Ssid } from '../channel/ssid.js';
import { commonSettings, nonNegativeInteger, positiveInteger, type StorageConfig } from './config.js';
import { Heap } from './heap.js';
import { ChannelIndex, type Entry } from './inmemory-index.js';
import { isExpired, type StoredMessage } from './message.js';
import { planQuery, ResultCollector, type StorageQuery } from './query.js';
import type { Storage, StorageHealth } from './storage.js';
import { StorageError, StorageErrorCode } from './storage-error.js';
import { checkMessage } from './validate.js';

/** Default `maxBytes` of the in-memory provider: 64 MiB. */
export const DEFAULT_MAX_MEMORY_BYTES = 64 * 1024 * 1024;
/** Bytes counted per message besides payload, id, channel and SSID: the index and object overhead. */
export const MESSAGE_OVERHEAD_BYTES = 128;

const DEFAULT_PURGE_INTERVAL_MS = 1000;
// Queues drop their removed entries once they hold this many and more removed than live ones.
const COMPACT_MIN = 1024;

const byExpiry = (a: Entry, b: Entry): number => a.message.expires - b.message.expires;

/** Messages kept in this process's memory. */
export class InMemoryStorage implements Storage {
  readonly name = 'inmemory';
  readonly retain: number;
  private readonly maxQueryBytes: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private index = new ChannelIndex();
  /** Entries in store order, for eviction; removed ones are skipped and compacted away. */
  private fifo: Entry[] = [];
  private fifoHead = 0;
  private fifoRemoved = 0;
  /** Entries that expire, soonest first; evicted ones are skipped and compacted away. */
  private readonly expiry = new Heap<Entry>(byExpiry);
  private expiryRemoved = 0;
  private totalBytes = 0;
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(config: StorageConfig = {}) {
    const common = commonSettings(config);
    this.retain = common.retain;
    this.maxQueryBytes = common.maxQueryBytes;
    this.now = common.now;
    this.maxBytes = positiveInteger('maxBytes', config.maxBytes, DEFAULT_MAX_MEMORY_BYTES);
    const interval = nonNegativeInteger('purgeIntervalMs', config.purgeIntervalMs, DEFAULT_PURGE_INTERVAL_MS);
    if (interval > 0) {
      this.timer = setInterval(() => this.purge(), interval);
      this.timer.unref();
    }
  }

  /** Number of messages held, expired ones not yet purged included. */
  get size(): number {
    return this.count;
  }

  /** Bytes counted against `maxBytes`. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Number of channels holding messages. */
  get channels(): number {
    return this.index.channels;
  }

  /** Stores a copy of the payload (the caller may reuse its buffer); evicts the oldest past `maxBytes`. */
  async store(message: StoredMessage): Promise<void> {
    this.checkOpen();
    checkMessage(message);
    if (isExpired(message.expires, this.now())) return;
    const copy: StoredMessage = {
      id: message.id,
      ssid: Object.freeze([...message.ssid]),
      channel: message.channel,
      payload: Buffer.from(message.payload),
      time: message.time,
      expires: message.expires,
      ...(message.properties && { properties: Buffer.from(message.properties) }),
    };
    const size =
      copy.payload.length +
      (copy.properties?.length ?? 0) +
      copy.id.length +
      copy.channel.length +
      4 * copy.ssid.length +
      MESSAGE_OVERHEAD_BYTES;
    const entry = this.index.add(copy, size);
    this.fifo.push(entry);
    if (copy.expires !== 0) this.expiry.push(entry);
    this.totalBytes += size;
    this.count++;
    if (this.totalBytes > this.maxBytes) this.evict();
  }

  /** The newest `limit` messages matching `ssid` in the window, oldest first (see `Storage.query`). */
  async query(ssid: Ssid, query: StorageQuery): Promise<StoredMessage[]> {
    this.checkOpen();
    const plan = planQuery(ssid, query, this.maxQueryBytes);
    if (plan === undefined) return [];
    const collector = new ResultCollector(plan.limit, plan.maxBytes);
    this.index.collect(plan, this.now(), collector);
    return collector.result();
  }

  /** Drops every expired message now; returns how many. */
  async purgeExpired(): Promise<number> {
    this.checkOpen();
    return this.purge();
  }

  /** Ok until closed: memory is bounded by `maxBytes` (the oldest messages make room). */
  health(): StorageHealth {
    return this.closed ? { ok: false, error: 'inmemory storage is closed' } : { ok: true };
  }

  /** Stops the purge timer and frees every message. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.index = new ChannelIndex();
    this.fifo = [];
    this.expiry.filter(() => false);
    this.totalBytes = 0;
    this.count = 0;
  }

  private purge(): number {
    const now = this.now();
    let purged = 0;
    for (let top = this.expiry.peek(); top !== undefined; top = this.expiry.peek()) {
      if (top.log === undefined) {
        this.expiry.pop();
        this.expiryRemoved--;
        continue;
      }
      if (!isExpired(top.message.expires, now)) break;
      this.expiry.pop();
      this.remove(top);
      this.fifoRemoved++;
      purged++;
    }
    this.compactFifo();
    return purged;
  }

  private evict(): void {
    const fifo = this.fifo;
    while (this.totalBytes > this.maxBytes && this.fifoHead < fifo.length) {
      const entry = fifo[this.fifoHead++];
      if (entry.log === undefined) {
        this.fifoRemoved--;
        continue;
      }
      this.remove(entry);
      if (entry.message.expires !== 0) this.expiryRemoved++;
    }
    if (this.expiryRemoved > COMPACT_MIN && this.expiryRemoved * 2 > this.expiry.size) {
      this.expiry.filter((entry) => entry.log !== undefined);
      this.expiryRemoved = 0;
    }
    this.compactFifo();
  }

  private remove(entry: Entry): void {
    this.index.remove(entry);
    this.totalBytes -= entry.size;
    this.count--;
  }

  private compactFifo(): void {
    const pending = this.fifo.length - this.fifoHead;
    if (this.fifoRemoved > COMPACT_MIN && this.fifoRemoved * 2 > pending) {
      this.fifo = this.fifo.slice(this.fifoHead).filter((entry) => entry.log !== undefined);
      this.fifoHead = 0;
      this.fifoRemoved = 0;
    } else if (this.fifoHead > COMPACT_MIN && this.fifoHead * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.fifoHead);
      this.fifoHead = 0;
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.Closed, 'inmemory storage is closed');
  }
}
