import { connectRedis, type RedisClient } from '../redis.js';
import type { RedisStorageConfig } from '../redis.js';
import { StorageError, StorageErrorCode } from '../storage-error.js';
import { decodeRetained, encodeRetained } from './codec.js';
import {
  isRetainedExpired,
  filterMatcher,
  isWildcardFilter,
  literalPrefix,
  type RetainedMessage,
  type RetainedStore,
} from './retained-store.js';

/**
 * Retained messages in Redis, shared by every cluster node using it: per contract a hash
 * `<prefix>retained{<contract>}` (topic -> codec blob) and a sorted set `<prefix>retained{<contract>}:topics`
 * of its topics (score 0, so ordered by bytes), both in one Redis Cluster slot (the `{contract}` tag) and
 * written in one MULTI. A filter without wildcards is one HGET; a wildcard filter reads the topics of its
 * literal prefix with ZRANGEBYLEX, then the matching ones with one HMGET: O(retained topics under the
 * prefix) per wildcard SUBSCRIBE.
 */
export class RedisRetainedStore implements RetainedStore {
  readonly name = 'redis';
  private readonly client: RedisClient;
  private readonly prefix: string;
  private closed = false;

  constructor(
    place: RedisStorageConfig = {},
    private readonly now: () => number = Date.now,
  ) {
    const prefix = place.prefix ?? 'emitter:';
    if (typeof prefix !== 'string')
      throw new StorageError(StorageErrorCode.Config, 'storage.config.prefix must be a string');
    this.prefix = prefix;
    this.client = connectRedis(place, true);
    // ioredis reconnects on its own; failures reach the callers through their promises.
    this.client.on('error', () => undefined);
  }

  async set(contract: number, message: RetainedMessage): Promise<void> {
    this.open();
    const hash = this.hash(contract);
    checked(
      await this.client
        .multi()
        .hset(hash, message.topic, encodeRetained(message))
        .zadd(`${hash}:topics`, 0, message.topic)
        .exec(),
    );
  }

  async clear(contract: number, topic: string): Promise<void> {
    this.open();
    const hash = this.hash(contract);
    checked(await this.client.multi().hdel(hash, topic).zrem(`${hash}:topics`, topic).exec());
  }

  async match(contract: number, filter: string): Promise<RetainedMessage[]> {
    this.open();
    const hash = this.hash(contract);
    let topics: string[];
    if (!isWildcardFilter(filter)) topics = [filter];
    else {
      const prefix = Buffer.from(literalPrefix(filter));
      const names =
        prefix.length === 0
          ? await this.client.zrangebylexBuffer(`${hash}:topics`, '-', '+')
          : await this.client.zrangebylexBuffer(
              `${hash}:topics`,
              Buffer.concat([Buffer.from('['), prefix]),
              // UTF-8 never holds 0xff: every topic starting with the prefix sorts below prefix + 0xff.
              Buffer.concat([Buffer.from('('), prefix, Buffer.from([0xff])]),
            );
      const matches = filterMatcher(filter);
      topics = names.map((name) => name.toString()).filter(matches);
    }
    if (topics.length === 0) return [];
    const bodies = await this.client.hmgetBuffer(hash, ...topics);
    const now = this.now();
    const found: RetainedMessage[] = [];
    const expired: string[] = [];
    for (const body of bodies) {
      if (body === null) continue;
      const message = decodeRetained(body);
      if (isRetainedExpired(message, now)) expired.push(message.topic);
      else found.push(message);
    }
    if (expired.length > 0) {
      checked(
        await this.client
          .multi()
          .hdel(hash, ...expired)
          .zrem(`${hash}:topics`, ...expired)
          .exec(),
      );
    }
    return found;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private hash(contract: number): string {
    return `${this.prefix}retained{${contract}}`;
  }

  private open(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.Closed, 'retained store is closed');
  }
}

// A MULTI's replies: the first command error, if any, is the call's failure.
function checked(replies: [Error | null, unknown][] | null): void {
  if (replies === null)
    throw new StorageError(StorageErrorCode.Io, 'retained store: redis transaction aborted');
  for (const [error] of replies) if (error) throw error;
}
