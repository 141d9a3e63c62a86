/**
 * Plain MQTT clients (README "Plain MQTT clients"): which connections may use topics without a channel key,
 * under which key, and how each topic is told plain from keyed. A connection gets plain access with a
 * channel key as its MQTT password (`keyPassword`) or, without a password, from `anonymous`; its plain
 * topics are then read as if it had written that key in front of them.
 */

import type { IConnectPacket } from 'mqtt-packet';
import { parsePlainFilter, parsePlainTopic, type ParsedChannel } from '../channel/index.js';
import { EmitterError } from '../errors.js';
import type { KeyAuthority, License } from '../security/index.js';

/** The key a connection's plain topics are read under. */
export interface PlainAccess {
  /** A channel key of this licence: the connection's password, or the broker's anonymous key. */
  readonly key: string;
  /** True for the anonymous key (stored subscriptions then take the anonymous key of the day). */
  readonly anonymous: boolean;
}

/** The broker's plain MQTT settings, as a session sees them. */
export interface PlainSettings {
  /** A channel key as MQTT password authenticates a plain connection. */
  readonly keyPassword: boolean;
  /** The key anonymous plain clients get (`anonymous` permissions on `#/`); undefined when off. */
  readonly anonymousKey: string | undefined;
}

/** Plain MQTT off: what a broker without either setting has. */
export const NO_PLAIN: PlainSettings = { keyPassword: false, anonymousKey: undefined };

/** `emitter/...` stays Emitter's, for every client. */
const REQUEST_PREFIX = 'emitter/';
const SHARE_PREFIX = '$share/';
// Channel keys are 32 characters (base64 of 24 bytes).
const KEY_LENGTH = 32;

/**
 * The plain access of a connecting client, or `'refused'` (CONNACK 5 / 0x87): with `keyPassword` on, a
 * password must be a valid channel key of this licence (decrypts, not banned, not expired, not the secret
 * key); without a password, the anonymous key when `anonymous` is on; otherwise none (an Emitter client).
 */
export function plainAccessOf(
  packet: IConnectPacket,
  settings: PlainSettings,
  authority: KeyAuthority,
): PlainAccess | 'refused' | undefined {
  const password = packet.password;
  if (settings.keyPassword && password !== undefined && password.length > 0) {
    const key = typeof password === 'string' ? password : password.toString('utf8');
    return isUsableKey(authority, key) ? { key, anonymous: false } : 'refused';
  }
  return settings.anonymousKey === undefined ? undefined : { key: settings.anonymousKey, anonymous: true };
}

// A channel key that could authorise something now: owned by this licence, neither banned nor expired, and
// not the secret key (which opens no channel).
function isUsableKey(authority: KeyAuthority, key: string): boolean {
  if (!authority.owns(key) || authority.isBanned(key)) return false;
  const decrypted = authority.decrypt(key);
  if (decrypted === undefined || decrypted.isMaster()) return false;
  return !decrypted.isExpired(Date.now() / 1000);
}

/**
 * True when `topic` is Emitter's, not plain: an `emitter/` request, or a first level that is a channel key
 * of this licence (banned and expired keys included, so their users get Emitter's error as before).
 */
export function isEmitterTopic(authority: KeyAuthority, topic: string): boolean {
  if (topic.startsWith(REQUEST_PREFIX)) return true;
  return topic.indexOf('/') === KEY_LENGTH && authority.owns(topic.slice(0, KEY_LENGTH));
}

/**
 * A PUBLISH topic of a connection with plain access, read as a plain channel; undefined when the topic is
 * Emitter's (or the connection has no plain access), for the Emitter path.
 */
export function plainTopicChannel(
  access: PlainAccess | undefined,
  authority: KeyAuthority,
  topic: string,
): ParsedChannel | undefined {
  if (access === undefined || isEmitterTopic(authority, topic)) return undefined;
  return parsePlainTopic(access.key, topic);
}

/** A SUBSCRIBE or UNSUBSCRIBE filter read as a plain channel; undefined for an Emitter filter (as above). */
export function plainFilterChannel(
  access: PlainAccess | undefined,
  authority: KeyAuthority,
  filter: string,
): ParsedChannel | undefined {
  if (access === undefined) return undefined;
  if (isEmitterTopic(authority, shareInner(filter))) return undefined;
  return parsePlainFilter(access.key, filter);
}

// The filter of `$share/<group>/<filter>` (an Emitter client writes its key there), else the filter.
function shareInner(filter: string): string {
  if (!filter.startsWith(SHARE_PREFIX)) return filter;
  const groupEnd = filter.indexOf('/', SHARE_PREFIX.length);
  return groupEnd < 0 ? filter : filter.slice(groupEnd + 1);
}

// A persistent session's plain subscription is stored as `\0<key>\0<filter>` (an empty key for the
// anonymous one): no MQTT or Emitter topic holds a NUL, so it cannot be taken for an Emitter filter.
const STORED_MARK = '\u0000';

/** How a persistent session stores a plain subscription's filter. */
export function storedPlainFilter(access: PlainAccess, filter: string): string {
  return `${STORED_MARK}${access.anonymous ? '' : access.key}${STORED_MARK}${filter}`;
}

/**
 * A stored filter read back: the plain filter and the access it was made with (`anonymousKey` stands for
 * the anonymous one; absent, the subscription is not restored). Undefined for an Emitter filter.
 */
export function restoredPlainFilter(
  stored: string,
  anonymousKey: string | undefined,
): { readonly filter: string; readonly access: PlainAccess | undefined } | undefined {
  if (!stored.startsWith(STORED_MARK)) return undefined;
  const end = stored.indexOf(STORED_MARK, 1);
  if (end < 0) return undefined;
  const key = stored.slice(1, end);
  const filter = stored.slice(end + 1);
  if (key !== '') return { filter, access: { key, anonymous: false } };
  return { filter, access: anonymousKey === undefined ? undefined : { key: anonymousKey, anonymous: true } };
}

/**
 * The broker's anonymous key: `permissions` (a subset of `rwslp`) on every channel (`#/`) of the licence's
 * contract, made from its master key; undefined when `permissions` is empty (anonymous access off).
 */
export function anonymousKeyOf(
  permissions: string,
  license: License,
  authority: KeyAuthority,
): string | undefined {
  if (permissions === '') return undefined;
  const created = authority.createKey({
    secret: license.newMasterKey(),
    channel: '#/',
    type: permissions,
    ttl: 0,
  });
  if (created instanceof EmitterError) throw new Error(`cannot make the anonymous key: ${created.message}`);
  return created.key;
}

/** True for a permission string `anonymous` accepts: letters of `rwslp`, each at most once. */
export function isAnonymousPermissions(text: string): boolean {
  return /^[rwslp]*$/.test(text) && new Set(text).size === text.length;
}
