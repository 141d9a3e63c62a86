/**
 * The `redis` session store: sessions in Redis (standalone or Redis Cluster), shared by every broker node,
 * so a session written by one broker process is read by any other (a client whose node died finds its
 * session on the node it reconnects to).
 *
 * Each call is one Lua script (`redis-scripts.ts`): atomic (an enqueue inserts and enforces the bounds,
 * an open reads, drops an expired session and clears the expiry, in one step) and one round trip. The
 * connection pipelines automatically: the calls of one event-loop turn leave in one write per node, so a
 * burst of deliveries costs one round trip, not one per call. A call resolves when Redis has applied it;
 * how durable that is is Redis's persistence setting (`appendonly yes` with `appendfsync everysec` loses at
 * most a second of writes if Redis itself dies).
 *
 * Keys: a session's keys share one hash slot, so a script may touch all of them on a Redis Cluster. The
 * hash tag is the session's bucket, `{b<n>}` with n = FNV-1a(client id) mod 1024, rather than the client
 * id itself: the bucket's index of sessions (client id -> expiry) then sits in the same slot and every
 * script keeps it exact, so `list` and `purgeExpired` read 1024 small sorted sets instead of scanning the
 * key space, with no window where a session exists unindexed. 1024 buckets spread over the 16,384 slots
 * like client ids would on clusters of up to a few hundred masters; a client id cannot move its keys out
 * of their slot, whatever braces it contains.
 *   <prefix>session{b<n>}:<s|sub|so|o|m|q|p|i>:<client id>   the session (see redis-scripts.ts)
 *   <prefix>session{b<n>}:index                              the bucket's sessions by expiry
 * A session's calls run in call order: they go to one node over one connection, in the order made.
 */

import { connectRedis, type RedisClient } from '../redis.js';
import { StorageError, StorageErrorCode } from '../storage-error.js';
import { decodeOptions, decodeQueuedMessage, decodeWill, encodeMessage, encodeOptions } from './codec.js';
import { SCRIPT_KEYS, SessionScripts } from './redis-scripts.js';
import {
  queuedBytes,
  type EnqueueResult,
  type OutgoingEntry,
  type OutgoingState,
  type QoS,
  type QueuedMessage,
  type SessionRecord,
  type SessionStore,
  type SessionStoreConfig,
  type StoredSubscription,
  type StoredWill,
} from './session-store.js';
import { sessionStoreSettings, type SessionStoreSettings } from './settings.js';

/** Where the `redis` session store keeps its sessions: the `storage.config` fields it reads. */
export interface RedisSessionPlace {
  /** A Redis URL (`redis://host:port/db`, `rediss://` for TLS). */
  readonly url?: string;
  /** Seed URLs of a Redis Cluster (instead of `url`); a comma-separated string is accepted too. */
  readonly cluster?: readonly string[] | string;
  /** Prefix of every key; default `emitter:`, as the message storage. */
  readonly prefix?: string;
}

/** Buckets of sessions; part of the key layout, so it never changes. */
export const SESSION_BUCKETS = 1024;

type ScriptName = keyof typeof SessionScripts;
type Reply = Buffer | number | null | Reply[];
type ScriptCall = (...args: (string | Buffer | number)[]) => Promise<Reply>;

/** Sessions kept in Redis. */
export class RedisSessionStore implements SessionStore {
  readonly name = 'redis';
  private readonly settings: SessionStoreSettings;
  private readonly prefix: string;
  private readonly client: RedisClient;
  private readonly scripts: Record<ScriptName, ScriptCall>;
  private closed = false;
  private lastError = '';

  constructor(config: SessionStoreConfig = {}, place: RedisSessionPlace = {}) {
    this.settings = sessionStoreSettings(config);
    const prefix = place.prefix ?? 'emitter:';
    if (typeof prefix !== 'string') {
      throw new StorageError(StorageErrorCode.Config, 'storage.config.prefix must be a string');
    }
    this.prefix = prefix;
    const cluster =
      typeof place.cluster === 'string' ? place.cluster.split(',').map((url) => url.trim()) : place.cluster;
    this.client = connectRedis({ url: place.url, cluster }, true);
    // ioredis reconnects on its own; errors are reported through the failing calls, not thrown here.
    this.client.on('error', (error: Error) => {
      this.lastError = error.message;
    });
    const scripts = {} as Record<ScriptName, ScriptCall>;
    for (const [name, lua] of Object.entries(SessionScripts)) {
      this.client.defineCommand(name, { numberOfKeys: SCRIPT_KEYS, lua });
      // The Buffer variant: blobs come back as Buffers, and text is decoded where it is read.
      const call = (this.client as unknown as Record<string, ScriptCall>)[`${name}Buffer`];
      scripts[name as ScriptName] = call.bind(this.client);
    }
    this.scripts = scripts;
  }

  async open(clientId: string): Promise<SessionRecord | undefined> {
    const [before] = (await this.run('sessionOpen', clientId)) as [Reply[] | null];
    return before === null ? undefined : decodeRecord(clientId, before);
  }

  async load(clientId: string): Promise<SessionRecord | undefined> {
    const reply = (await this.run('sessionLoad', clientId)) as Reply[] | null;
    return reply === null ? undefined : decodeRecord(clientId, reply);
  }

  async setExpiry(clientId: string, expiresAt: number | undefined): Promise<void> {
    await this.run('sessionSetExpiry', clientId, [expiresAt === undefined ? '' : String(expiresAt)]);
  }

  async delete(clientId: string): Promise<void> {
    await this.run('sessionDelete', clientId);
  }

  async list(): Promise<string[]> {
    this.checkOpen();
    const after = `(${this.settings.now()}`;
    const buckets = await this.guard(() =>
      Promise.all(
        Array.from({ length: SESSION_BUCKETS }, (_, bucket) =>
          this.client.zrangebyscore(this.indexKey(bucket), after, '+inf'),
        ),
      ),
    );
    return buckets.flat();
  }

  async purgeExpired(): Promise<string[]> {
    this.checkOpen();
    const now = this.settings.now();
    const candidates = await this.guard(() =>
      Promise.all(
        Array.from({ length: SESSION_BUCKETS }, (_, bucket) =>
          this.client.zrangebyscore(this.indexKey(bucket), '-inf', now),
        ),
      ),
    );
    // Each is checked and deleted atomically: a session renewed meanwhile stays, and of two brokers
    // purging at once only one deletes (and reports) a session.
    const ids = candidates.flat();
    const purged = await Promise.all(ids.map((id) => this.run('sessionPurge', id, [], now)));
    return ids.filter((_, i) => purged[i] === 1);
  }

  async addSubscriptions(clientId: string, subscriptions: readonly StoredSubscription[]): Promise<void> {
    const args: string[] = [];
    for (const { topic, qos, options } of subscriptions) {
      args.push(topic, `${qos}${encodeOptions(options) ?? ''}`);
    }
    await this.run('sessionSubscribe', clientId, args);
  }

  async removeSubscriptions(clientId: string, topics: readonly string[]): Promise<void> {
    await this.run('sessionUnsubscribe', clientId, topics);
  }

  async subscriptions(clientId: string): Promise<StoredSubscription[]> {
    return decodeSubscriptions((await this.run('sessionSubscriptions', clientId)) as Buffer[]);
  }

  async enqueue(clientId: string, message: QueuedMessage, packetId?: number): Promise<EnqueueResult> {
    const { maxQueuedMessages, maxQueuedBytes } = this.settings;
    const [seq, dropped] = (await this.run('sessionEnqueue', clientId, [
      encodeMessage(message),
      message.qos,
      queuedBytes(message),
      maxQueuedMessages,
      maxQueuedBytes,
      packetId ?? '',
    ])) as [number, number];
    return { seq: seq < 0 ? undefined : seq, dropped };
  }

  async markSent(clientId: string, seq: number, packetId: number): Promise<void> {
    await this.run('sessionMarkSent', clientId, [seq, packetId]);
  }

  async release(clientId: string, packetId: number): Promise<boolean> {
    return (await this.run('sessionRelease', clientId, [packetId])) === 1;
  }

  async acknowledge(clientId: string, packetId: number): Promise<boolean> {
    return (await this.run('sessionAcknowledge', clientId, [packetId])) === 1;
  }

  async outgoing(clientId: string): Promise<OutgoingEntry[]> {
    const [metas, blobs] = (await this.run('sessionOutgoing', clientId)) as [Buffer[], Buffer[]];
    return decodeOutgoing(metas, blobs);
  }

  async incomingStore(clientId: string, packetId: number): Promise<void> {
    await this.run('sessionIncomingStore', clientId, [packetId]);
  }

  async incomingRelease(clientId: string, packetId: number): Promise<boolean> {
    return (await this.run('sessionIncomingRelease', clientId, [packetId])) === 1;
  }

  async incoming(clientId: string): Promise<number[]> {
    return ((await this.run('sessionIncoming', clientId)) as Buffer[]).map(Number);
  }

  async setWill(clientId: string, will: StoredWill | undefined): Promise<void> {
    await this.run('sessionSetWill', clientId, [will === undefined ? '' : encodeMessage(will)]);
  }

  /** Waits for the replies of calls already sent, then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  // One script call for one session: its keys, the clock, the client id, then `args`. The command is
  // sent (queued on the connection) before this returns, which is what keeps a session's calls in order.
  private run(
    name: ScriptName,
    clientId: string,
    args: readonly (string | Buffer | number)[] = [],
    now: number = this.settings.now(),
  ): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closedError());
    const base = `${this.prefix}session{b${bucketOf(clientId)}}:`;
    return this.guard(() =>
      this.scripts[name](
        `${base}s:${clientId}`,
        `${base}sub:${clientId}`,
        `${base}so:${clientId}`,
        `${base}o:${clientId}`,
        `${base}m:${clientId}`,
        `${base}q:${clientId}`,
        `${base}p:${clientId}`,
        `${base}i:${clientId}`,
        `${base}index`,
        now,
        clientId,
        ...args,
      ),
    );
  }

  // Redis failures become StorageErrors (Io) naming the provider and the cause.
  private guard<T>(work: () => Promise<T>): Promise<T> {
    return work().catch((error: unknown) => {
      if (error instanceof StorageError) throw error;
      if (this.closed) throw this.closedError();
      const reason = (error as Error).message || this.lastError;
      throw new StorageError(StorageErrorCode.Io, `redis session store: ${reason}`, { cause: error });
    });
  }

  private checkOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): StorageError {
    return new StorageError(StorageErrorCode.Closed, 'redis session store is closed');
  }

  private indexKey(bucket: number): string {
    return `${this.prefix}session{b${bucket}}:index`;
  }
}

/** The bucket of a client id: 32-bit FNV-1a of its UTF-16 code units, mod `SESSION_BUCKETS`. */
export function bucketOf(clientId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < clientId.length; i++) {
    hash ^= clientId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % SESSION_BUCKETS;
}

function decodeRecord(clientId: string, reply: Reply[]): SessionRecord {
  const [expiry, will, subscriptions, metas, blobs, incoming] = reply as [
    Buffer | null,
    Buffer | null,
    Buffer[],
    Buffer[],
    Buffer[],
    Buffer[],
  ];
  return {
    clientId,
    expiresAt: expiry === null ? undefined : Number(expiry.toString()),
    subscriptions: decodeSubscriptions(subscriptions),
    outgoing: decodeOutgoing(metas, blobs),
    incoming: incoming.map(Number),
    will: will === null ? undefined : decodeWill(will),
  };
}

// Flat topic, encoded subscription (qos digit, then options JSON), ...
function decodeSubscriptions(flat: readonly Buffer[]): StoredSubscription[] {
  const out: StoredSubscription[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const topic = flat[i].toString();
    const encoded = flat[i + 1].toString();
    const qos = Number(encoded[0]) as QoS;
    out.push(encoded.length > 1 ? { topic, qos, options: decodeOptions(encoded.slice(1)) } : { topic, qos });
  }
  return out;
}

// Flat seq, "state:packetId:qos:bytes" and flat seq, blob -> entries in seq order.
function decodeOutgoing(metas: readonly Buffer[], blobs: readonly Buffer[]): OutgoingEntry[] {
  const blobBySeq = new Map<number, Buffer>();
  for (let i = 0; i + 1 < blobs.length; i += 2) blobBySeq.set(Number(blobs[i]), blobs[i + 1]);
  const out: OutgoingEntry[] = [];
  for (let i = 0; i + 1 < metas.length; i += 2) {
    const seq = Number(metas[i]);
    const blob = blobBySeq.get(seq);
    if (blob === undefined) continue;
    const [state, packetId] = metas[i + 1].toString().split(':', 2).map(Number);
    out.push({ seq, message: decodeQueuedMessage(blob), packetId, state: state as OutgoingState });
  }
  return out.sort((a, b) => a.seq - b.seq);
}
