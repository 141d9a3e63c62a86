/**
 * The broker's key authority for one licence (Emitter's "single" contract provider): decrypts keys,
 * authorises channel operations (spec 3.6), holds the ban set (spec 4.4) and makes keys (spec 4.3).
 * Authorisation runs on every publish, so decryption and channel checks are cached; bans and expiry
 * are checked on every call, before any cache, so neither can be served stale.
 */

import { ChannelKind, parseChannel } from '../channel/index.js';
import { EmitterError, Errors } from '../errors.js';
import { KEY_TEXT_LENGTH } from './base64.js';
import { ChannelKey, encodeTarget } from './key.js';
import { MASTER_ID, randomSalt, type License } from './license.js';
import { LruCache } from './lru-cache.js';
import { parsePermissions, Permission } from './permissions.js';
import { SecurityError } from './security-error.js';

/** How `authorize` is called. */
export interface AuthorizeOptions {
  /** Refuse keys with `e` (publish, subscribe, unsubscribe, presence, will) with `Errors.UnauthorizedExt`. */
  readonly rejectExtend?: boolean;
  /** The time in unix seconds; the clock when absent. */
  readonly now?: number;
}

/** An `emitter/keygen/` request, as `services/keygen/wire.ts` reads it. */
export interface KeygenRequest {
  /** The secret key (path A) or an extend key (path B). */
  readonly key: string;
  readonly channel: string;
  /** Permission letters, `rwslpex`. */
  readonly type: string;
  /** Seconds until expiry; 0 for never (path B: as long as the parent). */
  readonly ttl: number;
}

/** Making a key with the secret key (CLI `keygen`, HTTP `/keygen`, path A). */
export interface CreateKeyRequest {
  readonly secret: string;
  readonly channel: string;
  readonly type: string;
  readonly ttl: number;
}

/** A new key and the channel it is for. */
export interface CreatedKey {
  readonly key: string;
  readonly channel: string;
}

/** Tuning of a `KeyAuthority`. */
export interface KeyAuthorityOptions {
  /** Entries in each of the decryption and channel-check caches; 10,000 by default. */
  readonly cacheSize?: number;
}

/** A decrypted key (frozen) and whether it carries this contract's master id and signature. */
interface DecryptedKey {
  readonly key: ChannelKey;
  readonly owned: boolean;
}

const DEFAULT_CACHE_SIZE = 10_000;
// Channels longer than this are checked without caching, so the cache's memory stays bounded.
const MAX_CACHED_CHANNEL = 256;
const MAX_TTL = 0x7fffffff;
// Path B reports target errors as 500s with the Go security package's own texts (spec 4.2).
const RAW_TARGET_TOO_LONG = new EmitterError(500, 'channel can not have more than 23 parts');
const RAW_TARGET_INVALID = new EmitterError(
  500,
  'channel should end with `/` for strict types or `/#/` for multi level wildcard',
);

function clock(): number {
  return Date.now() / 1000;
}

function validTtl(ttl: number): boolean {
  return Number.isInteger(ttl) && ttl >= 0 && ttl <= MAX_TTL;
}

/** Decrypts, authorises, bans and makes keys for the contract of one licence. */
export class KeyAuthority {
  readonly license: License;
  /** A key carrying the only valid (master id, contract, signature), to compare keys against. */
  readonly #owner: ChannelKey;
  /** Decrypted keys; `null` remembers a key text that does not decrypt. */
  readonly #keys: LruCache<string, DecryptedKey | null>;
  /** `validateChannel` results by key text + channel text (key texts are always 32 characters). */
  readonly #grants: LruCache<string, boolean>;
  readonly #banned = new Set<string>();

  /** An authority for the licence's contract, whose master id is always 1 as in Emitter. */
  constructor(license: License, options: KeyAuthorityOptions = {}) {
    this.license = license;
    const owner = new ChannelKey();
    owner.masterId = MASTER_ID;
    owner.contract = license.contract;
    owner.signature = license.signature;
    this.#owner = owner.freeze();
    const size = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    this.#keys = new LruCache(size);
    this.#grants = new LruCache(size);
  }

  /** Decrypts a key text with the licence cipher; `undefined` when it is not a key. The result is frozen. */
  decrypt(keyText: string): ChannelKey | undefined {
    return this.#lookup(keyText)?.key;
  }

  /** True when `keyText` is a key of this licence's contract (whatever its state: banned, expired). */
  owns(keyText: string): boolean {
    return this.#lookup(keyText)?.owned === true;
  }

  /** Adds a key text to the ban set; true when it was not banned yet. */
  ban(keyText: string): boolean {
    if (this.#banned.has(keyText)) return false;
    this.#banned.add(keyText);
    return true;
  }

  /** Removes a key text from the ban set; true when it was banned. */
  unban(keyText: string): boolean {
    return this.#banned.delete(keyText);
  }

  /** Whether this exact key text is banned. */
  isBanned(keyText: string): boolean {
    return this.#banned.has(keyText);
  }

  /** The banned key texts, for replication and persistence. */
  bannedKeys(): string[] {
    return [...this.#banned];
  }

  /**
   * Authorises `required` permission bits on a channel (`a/b/c/`, no key or options): the key must be
   * unbanned, decrypt, be unexpired, belong to the contract, hold the bits and open the channel. Every
   * failure is `Errors.Unauthorized`; with `rejectExtend`, a key that passes but has `e` gets
   * `Errors.UnauthorizedExt`. Returns the (frozen) key on success.
   */
  authorize(
    keyText: string,
    channelText: string,
    required: number,
    options: AuthorizeOptions = {},
  ): ChannelKey | EmitterError {
    if (this.#banned.has(keyText)) return Errors.Unauthorized;
    const found = this.#lookup(keyText);
    if (!found || found.key.isExpired(options.now ?? clock())) return Errors.Unauthorized;
    if (!found.owned) return Errors.Unauthorized;
    const key = found.key;
    if (!key.hasPermission(required)) return Errors.Unauthorized;
    if (!this.#opens(keyText, key, channelText, (required & Permission.Write) !== 0)) {
      return Errors.Unauthorized;
    }
    if (options.rejectExtend && key.hasPermission(Permission.Extend)) return Errors.UnauthorizedExt;
    return key;
  }

  /** True while a key authorised before is neither banned nor expired (what can change after a grant). */
  stillValid(keyText: string, key: ChannelKey): boolean {
    if (this.#banned.has(keyText)) return false;
    return key.expires === 0 || !key.isExpired(clock());
  }

  /**
   * Makes a channel key with the secret key (spec 4.3 path A): 401 unless the secret decrypts, is
   * unexpired, unbanned and master; 404 for another contract; 400 for a bad target or ttl.
   */
  createKey(request: CreateKeyRequest, now: number = clock()): CreatedKey | EmitterError {
    if (!validTtl(request.ttl)) return Errors.BadRequest;
    // Emitter does not look at the ban set here; a banned secret making fresh keys would defeat the ban.
    if (this.#banned.has(request.secret)) return Errors.Unauthorized;
    const master = this.decrypt(request.secret);
    if (!master || !master.isMaster() || master.isExpired(now)) return Errors.Unauthorized;
    if (master.contract !== this.license.contract) return Errors.NotFound;
    if (!master.sameOwner(this.#owner)) return Errors.Unauthorized;
    const target = encodeTarget(request.channel);
    if (target instanceof EmitterError) return target;

    const key = new ChannelKey();
    key.salt = randomSalt();
    key.masterId = master.masterId;
    key.contract = master.contract;
    key.signature = master.signature;
    // A keygen request can never mint another secret key.
    key.permissions = parsePermissions(request.type) & ~Permission.Master & 0xff;
    key.expires = request.ttl === 0 ? 0 : Math.floor(now) + request.ttl;
    key.targetPath = target.path;
    key.targetHash = target.hash;
    return { key: this.license.cipher.encrypt(key), channel: request.channel };
  }

  /**
   * Derives a private-channel key from an extend key (spec 4.3 path B): for `<channel><connectionId>/`
   * (plus `#/` when asked), permissions = parent's AND requested, without `e`. Unlike Emitter, the child
   * never outlives its parent (our decision 7): ttl 0 inherits the parent's expiry, and a longer ttl is
   * cut to it.
   */
  extendKey(request: KeygenRequest, connectionId: string, now: number = clock()): CreatedKey | EmitterError {
    if (!validTtl(request.ttl)) return Errors.BadRequest;
    let channelName = request.channel;
    let suffix = '';
    if (channelName.endsWith('#/')) {
      suffix = '#/';
      channelName = channelName.slice(0, -2);
    }
    const parsed = parseChannel(`${request.key}/${channelName}`);
    if (parsed.kind !== ChannelKind.Static) return Errors.BadRequest;
    const parent = this.authorize(request.key, parsed.channel, Permission.Extend, { now });
    if (parent instanceof EmitterError) return Errors.Unauthorized;

    const channel = `${parsed.channel}${connectionId}/${suffix}`;
    const target = encodeTarget(channel);
    if (target instanceof EmitterError) {
      return target === Errors.TargetTooLong ? RAW_TARGET_TOO_LONG : RAW_TARGET_INVALID;
    }
    const key = parent.clone();
    // Emitter keeps the parent's salt; a fresh one gives the child its own keystream under V3.
    key.salt = randomSalt();
    key.permissions = parent.permissions & parsePermissions(request.type) & ~Permission.Extend & 0xff;
    key.expires = childExpiry(parent.expires, request.ttl, now);
    key.targetPath = target.path;
    key.targetHash = target.hash;
    return { key: this.license.cipher.encrypt(key), channel };
  }

  /**
   * Serves `emitter/keygen/`: path A for the secret key, path B for an extend key, 401 for any other
   * key and for one that does not decrypt or has expired.
   */
  keygen(request: KeygenRequest, connectionId: string, now: number = clock()): CreatedKey | EmitterError {
    const parent = this.decrypt(request.key);
    if (!parent || parent.isExpired(now)) return Errors.Unauthorized;
    if (parent.isMaster()) {
      return this.createKey(
        { secret: request.key, channel: request.channel, type: request.type, ttl: request.ttl },
        now,
      );
    }
    if (parent.hasPermission(Permission.Extend)) return this.extendKey(request, connectionId, now);
    return Errors.Unauthorized;
  }

  #lookup(keyText: string): DecryptedKey | undefined {
    // Anything but 32 characters fails at once; not caching it keeps long garbage out of memory.
    if (keyText.length !== KEY_TEXT_LENGTH) return undefined;
    const cached = this.#keys.get(keyText);
    if (cached !== undefined) return cached ?? undefined;
    let found: DecryptedKey | null = null;
    try {
      const key = this.license.cipher.decrypt(keyText).freeze();
      found = { key, owned: key.sameOwner(this.#owner) };
    } catch (error) {
      if (!(error instanceof SecurityError)) throw error;
    }
    this.#keys.set(keyText, found);
    return found ?? undefined;
  }

  // `validateChannel`, through the cache for publishes (a result depends only on the key bytes and the
  // channel text). A subscription is checked once, so caching it would only hold an entry per
  // subscribed channel: with many devices on channels of their own, memory per idle connection.
  #opens(keyText: string, key: ChannelKey, channelText: string, cache: boolean): boolean {
    if (!cache || channelText.length > MAX_CACHED_CHANNEL) return key.validateChannel(channelText);
    const id = keyText + channelText;
    const cached = this.#grants.get(id);
    if (cached !== undefined) return cached;
    const granted = key.validateChannel(channelText);
    this.#grants.set(id, granted);
    return granted;
  }
}

/** The expiry of a derived key: the requested one, never later than a parent that expires. */
function childExpiry(parentExpires: number, ttl: number, now: number): number {
  const requested = ttl === 0 ? 0 : Math.floor(now) + ttl;
  if (parentExpires === 0) return requested;
  if (requested === 0) return parentExpires;
  return Math.min(parentExpires, requested);
}
