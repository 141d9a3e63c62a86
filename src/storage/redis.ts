/**
 * The `redis` provider: stored messages in Redis, shared by every broker node of a cluster, so a message
 * stored through one node is replayed through any other and outlives any broker process.
 *
 * Layout, per contract (the `{c<contract>}` hash tag keeps a contract's keys in one Redis Cluster slot,
 * so each store is one MULTI; contracts spread over the slots):
 * - `<prefix>{c<contract>}:ids`  sorted set, every score 0, member = hex message id: ordered by id, i.e.
 *   by (time, sequence), and read newest first with ZREVRANGEBYLEX between the query's id bounds;
 * - `<prefix>{c<contract>}:msg`  hash, hex id -> encoded message (expires, SSID, channel, payload);
 * - `<prefix>{c<contract>}:exp`  sorted set by expiry time (unix seconds), for the purge;
 * - `<prefix>contracts`          the contracts that have messages, for the purge.
 * Expiry is judged by the storage's clock when reading (so an expired message is never returned), and
 * expired messages are removed by the purge.
 *
 * While Redis is unreachable, writes are held in memory (`holdMessages`, `holdBytes`, `holdTimeoutMs`)
 * and written, in order, once it answers again; a store resolves only when Redis has the message, so a
 * QoS 1 PUBACK still means "in Redis". Every write is idempotent (ZADD/HSET of the same id), so one sent
 * again after a lost reply does no harm.
 */

import { performance } from 'node:perf_hooks';
import { Redis, Cluster as RedisClusterClient } from 'ioredis';
import type { Logger } from 'pino';
import type { Ssid } from '../channel/ssid.js';
import { commonSettings, nonNegativeInteger, positiveInteger, type StorageConfig } from './config.js';
import { HoldBuffer, type HoldLimits } from './hold-buffer.js';
import { isExpired, type StoredMessage } from './message.js';
import { matchesPattern, planQuery, ResultCollector, type StorageQuery } from './query.js';
import type { Storage, StorageHealth, StorageOptions } from './storage.js';
import { StorageError, StorageErrorCode } from './storage-error.js';
import { checkMessage } from './validate.js';

/** Settings of the redis provider: `url` or `cluster`, `prefix`, and the common ones. */
export type RedisStorageConfig = StorageConfig;

const DEFAULT_PURGE_INTERVAL_MS = 10_000;
/** Default of `holdMessages`: writes held while Redis is unreachable. */
export const DEFAULT_HOLD_MESSAGES = 10_000;
/** Default of `holdBytes`: 16 MiB of held writes. */
export const DEFAULT_HOLD_BYTES = 16 * 1024 * 1024;
/** Default of `holdTimeoutMs`: how long a held write (and the PUBACK waiting on it) waits for Redis. */
export const DEFAULT_HOLD_TIMEOUT_MS = 10_000;
// Redis error replies that a later attempt may not get (loading after a restart, failing over).
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS)\b/;
// Ids read per round trip while walking a contract newest first.
const PAGE = 256;
const PURGE_BATCH = 1000;

/** A connection to a standalone Redis or a Redis Cluster. */
export type RedisClient = Redis | RedisClusterClient;

// One message as written: encoded once, whether it is written at once or held first.
interface RedisWrite {
  readonly contract: number;
  readonly id: string;
  readonly body: Buffer;
  readonly expires: number;
}

/** Messages kept in Redis (standalone or Redis Cluster). */
export class RedisStorage implements Storage {
  readonly name = 'redis';
  readonly retain: number;
  private readonly maxQueryBytes: number;
  private readonly now: () => number;
  private readonly prefix: string;
  private readonly client: RedisClient;
  private readonly knownContracts = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastError = '';
  // Writes sent straight to Redis and not yet answered.
  private readonly writes = new Set<Promise<void>>();
  private readonly held: HoldBuffer<RedisWrite>;
  private sequence = 0;
  private readonly logger: Logger | undefined;

  constructor(config: RedisStorageConfig = {}, options: StorageOptions = {}) {
    const common = commonSettings(config);
    this.retain = common.retain;
    this.maxQueryBytes = common.maxQueryBytes;
    this.now = common.now;
    this.prefix = config.prefix ?? 'emitter:';
    this.logger = options.logger;
    const limits = holdLimits(config);
    this.client = connectRedis(config);
    // ioredis reconnects on its own; errors are reported through the failing calls, not thrown here.
    this.client.on('error', (error: Error) => {
      this.lastError = error.message;
    });
    this.held = new HoldBuffer<RedisWrite>(limits, {
      label: 'redis storage',
      write: (write) => this.write(write),
      isTransient: isTransientRedisError,
      failure: (error) => this.storageError(error),
      holding: (reason) =>
        this.logger?.warn(
          { reason, holdMessages: limits.messages, holdBytes: limits.bytes, holdTimeoutMs: limits.timeoutMs },
          'redis storage unreachable: holding stored messages until it is back',
        ),
      drained: (written, dropped, heldMs) => {
        const fields = { written, dropped, heldMs };
        // All dropped: Redis did not come back within holdTimeoutMs (a later store starts a new hold).
        if (written === 0 && dropped > 0)
          this.logger?.warn(fields, 'redis storage still unreachable: held messages dropped');
        else if (dropped > 0)
          this.logger?.warn(fields, 'redis storage back: held messages written, some dropped');
        else this.logger?.info(fields, 'redis storage back: held messages written');
      },
    });
    const interval = nonNegativeInteger('purgeIntervalMs', config.purgeIntervalMs, DEFAULT_PURGE_INTERVAL_MS);
    if (interval > 0) {
      this.timer = setInterval(
        () =>
          void this.purgeExpired().catch((error: unknown) =>
            this.logger?.debug({ error: (error as Error).message }, 'redis storage purge failed'),
          ),
        interval,
      );
      this.timer.unref();
    }
  }

  /**
   * Stores a message; resolves once Redis has it. While Redis is unreachable the write is held (see
   * `HoldBuffer`) and written when it is back; rejects when it cannot be held or waited too long.
   */
  async store(message: StoredMessage): Promise<void> {
    this.checkOpen();
    checkMessage(message);
    if (isExpired(message.expires, this.now())) return;
    const write: RedisWrite = {
      contract: message.ssid[0],
      id: message.id.toString('hex'),
      body: encodeBody(message),
      expires: message.expires,
    };
    const seq = ++this.sequence;
    const startedAt = performance.now();
    // Behind held writes (order), or while the connection is down: do not wait for a failure to hold.
    if (this.held.enabled && (this.held.size > 0 || this.client.status !== 'ready')) {
      return this.held.hold(seq, write, heldBytes(write), startedAt, `connection ${this.client.status}`);
    }
    const attempt = this.write(write);
    // A query issued before this settles waits for it (read your own writes, whatever the connection
    // order: a Redis Cluster client may send a transaction after a later plain command).
    this.writes.add(attempt);
    try {
      await attempt;
    } catch (error) {
      if (this.closed || !this.held.enabled || !isTransientRedisError(error)) throw this.storageError(error);
      return this.held.hold(seq, write, heldBytes(write), startedAt, describeError(error, this.lastError));
    } finally {
      this.writes.delete(attempt);
    }
  }

  // One message into Redis: its id in the contract's sorted set, its body in the hash, its expiry.
  private async write(write: RedisWrite): Promise<void> {
    // Held past its ttl: nothing to write (a query would not return it anyway).
    if (isExpired(write.expires, this.now())) return;
    const { contract, id } = write;
    const registered = this.knownContracts.has(contract)
      ? undefined
      : this.client.sadd(this.contractsKey(), String(contract));
    const multi = this.client
      .multi()
      .zadd(this.key(contract, 'ids'), 0, id)
      .hset(this.key(contract, 'msg'), id, write.body);
    if (write.expires > 0) multi.zadd(this.key(contract, 'exp'), write.expires, id);
    const [results] = await Promise.all([multi.exec(), registered]);
    const failed = results?.find(([error]) => error !== null);
    if (failed) throw failed[0];
    this.knownContracts.add(contract);
  }

  /** The newest matching messages, oldest first: walks the contract's ids from the newest, in pages. */
  async query(ssid: Ssid, query: StorageQuery): Promise<StoredMessage[]> {
    this.checkOpen();
    const plan = planQuery(ssid, query, this.maxQueryBytes);
    if (!plan) return [];
    if (this.writes.size > 0) await Promise.allSettled([...this.writes]);
    // Held writes are read too once Redis is back; while it is down, the query fails like any other.
    if (this.held.size > 0) await this.held.settledOrFailed();
    const contract = plan.pattern[0];
    const collector = new ResultCollector(plan.limit, plan.maxBytes);
    const now = this.now();
    const lowest = plan.lower ? `[${plan.lower.toString('hex')}` : '-';
    let highest = plan.upper ? `(${plan.upper.toString('hex')}` : '+';
    return this.run(async () => {
      for (;;) {
        const ids = await this.client.zrevrangebylex(
          this.key(contract, 'ids'),
          highest,
          lowest,
          'LIMIT',
          0,
          PAGE,
        );
        if (ids.length === 0) break;
        const bodies = await this.client.hmgetBuffer(this.key(contract, 'msg'), ...ids);
        for (let i = 0; i < ids.length; i++) {
          const body = bodies[i];
          if (!body) continue; // purged between the two reads
          const message = decodeBody(Buffer.from(ids[i], 'hex'), body);
          if (!message || isExpired(message.expires, now) || !matchesPattern(plan.pattern, message.ssid))
            continue;
          if (!collector.add(message)) return collector.result();
        }
        if (ids.length < PAGE) break;
        highest = `(${ids[ids.length - 1]}`;
      }
      return collector.result();
    });
  }

  /** Removes expired messages of every contract; resolves to how many. */
  async purgeExpired(): Promise<number> {
    this.checkOpen();
    return this.run(async () => {
      const contracts = await this.client.smembers(this.contractsKey());
      const now = Math.floor(this.now() / 1000);
      let removed = 0;
      for (const text of contracts) {
        const contract = Number(text);
        for (;;) {
          const ids = await this.client.zrangebyscore(
            this.key(contract, 'exp'),
            0,
            now,
            'LIMIT',
            0,
            PURGE_BATCH,
          );
          if (ids.length === 0) break;
          await this.client
            .multi()
            .zrem(this.key(contract, 'exp'), ...ids)
            .zrem(this.key(contract, 'ids'), ...ids)
            .hdel(this.key(contract, 'msg'), ...ids)
            .exec();
          removed += ids.length;
          if (ids.length < PURGE_BATCH) break;
        }
      }
      return removed;
    });
  }

  /** Ok while the client is connected and ready; otherwise the connection state and last error. */
  health(): StorageHealth {
    if (this.closed) return { ok: false, error: 'redis storage is closed' };
    const status = this.client.status;
    if (status === 'ready') return { ok: true };
    return { ok: false, error: `redis ${status}${this.lastError ? `: ${this.lastError}` : ''}` };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.held.close(
      new StorageError(
        StorageErrorCode.Closed,
        'redis storage closed while Redis was unreachable: message not stored',
      ),
    );
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  // Redis failures become StorageErrors (Io) naming the provider and the cause.
  private async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.storageError(error);
    }
  }

  private storageError(error: unknown): StorageError {
    if (error instanceof StorageError) return error;
    return new StorageError(StorageErrorCode.Io, `redis storage: ${describeError(error, this.lastError)}`, {
      cause: error,
    });
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.Closed, 'redis storage is closed');
  }

  private key(contract: number, suffix: string): string {
    return `${this.prefix}{c${contract}}:${suffix}`;
  }

  private contractsKey(): string {
    return `${this.prefix}contracts`;
  }
}

// `holdMessages`, `holdBytes`, `holdTimeoutMs`, checked; 0 messages (or bytes) turns holding off.
function holdLimits(config: RedisStorageConfig): HoldLimits {
  return {
    messages: nonNegativeInteger('holdMessages', config.holdMessages, DEFAULT_HOLD_MESSAGES),
    bytes: nonNegativeInteger('holdBytes', config.holdBytes, DEFAULT_HOLD_BYTES),
    timeoutMs: positiveInteger('holdTimeoutMs', config.holdTimeoutMs, DEFAULT_HOLD_TIMEOUT_MS),
  };
}

// What a held write costs: its body and its id (as sent, hex), the rest is small and fixed.
function heldBytes(write: RedisWrite): number {
  return write.body.length + write.id.length + 64;
}

// Connection failures (closed, timed out, retries exhausted) and the replies of a Redis that is loading
// or failing over may pass; other error replies (wrong type, out of memory) will not by waiting.
function isTransientRedisError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof StorageError) return false;
  if (error.name === 'ReplyError') return TRANSIENT_REPLY.test(error.message);
  return true;
}

// The driver's message only: its error objects also carry the command and its arguments (the payload).
function describeError(error: unknown, fallback: string): string {
  return (error instanceof Error && error.message) || fallback || 'unknown error';
}

/**
 * Connects to `storage.config.cluster` (seeds of a Redis Cluster) or `storage.config.url`; a missing or
 * malformed URL is a `StorageError` (Config). `autoPipelining` sends the commands of one event-loop turn
 * together (one write per node).
 */
export function connectRedis(config: RedisStorageConfig, autoPipelining = false): RedisClient {
  // Commands wait through a short outage, then fail (held writes are tried again; reads get an error).
  const options = {
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    commandTimeout: 5000,
    enableAutoPipelining: autoPipelining,
  };
  // Reconnect within a second of Redis coming back, so held writes (and their PUBACKs) wait little.
  const retryStrategy = (times: number): number => Math.min(100 * times, 1000);
  if (config.cluster && config.cluster.length > 0) {
    return new RedisClusterClient(
      config.cluster.map((url) => {
        const parsed = new URL(url);
        return { host: parsed.hostname, port: Number(parsed.port || 6379) };
      }),
      { clusterRetryStrategy: retryStrategy, redisOptions: options, enableAutoPipelining: autoPipelining },
    );
  }
  if (!config.url) {
    throw new StorageError(
      StorageErrorCode.Config,
      'storage.config.url is required for the redis provider (or storage.config.cluster for Redis Cluster)',
    );
  }
  if (!/^rediss?:\/\//.test(config.url)) {
    throw new StorageError(
      StorageErrorCode.Config,
      `storage.config.url must be a redis:// or rediss:// URL, got ${JSON.stringify(config.url)}`,
    );
  }
  return new Redis(config.url, { ...options, retryStrategy });
}

// Body: [u32 expires][u8 levels | HAS_PROPERTIES][u32 ssid]*[u16 channel length][channel utf8]
// ([u32 properties length][properties])?[payload]. The flag sits in the levels byte (an SSID has far fewer
// than 128 levels), so bodies written before properties existed read unchanged.
const HAS_PROPERTIES = 0x80;

function encodeBody(message: StoredMessage): Buffer {
  const channel = Buffer.from(message.channel);
  const properties = message.properties;
  const head = Buffer.allocUnsafe(4 + 1 + 4 * message.ssid.length + 2);
  let at = head.writeUInt32BE(message.expires >>> 0, 0);
  at = head.writeUInt8(message.ssid.length | (properties === undefined ? 0 : HAS_PROPERTIES), at);
  for (const level of message.ssid) at = head.writeUInt32BE(level >>> 0, at);
  head.writeUInt16BE(channel.length, at);
  if (properties === undefined) return Buffer.concat([head, channel, message.payload]);
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(properties.length, 0);
  return Buffer.concat([head, channel, length, properties, message.payload]);
}

function decodeBody(id: Buffer, body: Buffer): StoredMessage | undefined {
  if (body.length < 7) return undefined;
  const expires = body.readUInt32BE(0);
  const levels = body[4] & ~HAS_PROPERTIES;
  let at = 5;
  if (body.length < at + 4 * levels + 2) return undefined;
  const ssid: number[] = [];
  for (let i = 0; i < levels; i++, at += 4) ssid.push(body.readUInt32BE(at));
  const channelLength = body.readUInt16BE(at);
  at += 2;
  if (body.length < at + channelLength) return undefined;
  const channel = body.toString('utf8', at, at + channelLength);
  at += channelLength;
  const time = Number(id.readBigUInt64BE(0));
  if ((body[4] & HAS_PROPERTIES) === 0)
    return { id, ssid, channel, payload: body.subarray(at), time, expires };
  if (body.length < at + 4) return undefined;
  const end = at + 4 + body.readUInt32BE(at);
  if (body.length < end) return undefined;
  const properties = body.subarray(at + 4, end);
  return { id, ssid, channel, payload: body.subarray(end), time, expires, properties };
}
