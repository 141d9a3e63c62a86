/**
 * Plain MQTT topics (README "Plain MQTT clients"): topics without a channel key, kept verbatim, in the
 * same channel space as Emitter's. The plain topic `T` is the Emitter channel `T/` (one SSID: each level
 * hashed as it is), so `a/b` is `a/b/` and `a/b/` (an empty last level) is `a/b//`. MQTT's own rules
 * apply instead of Emitter's channel grammar: any character but NUL, empty levels, no `?options`.
 */

import { hashLevel, PlainMark, WellKnownHash } from './hash.js';
import { EMPTY_OPTIONS } from './options.js';
import { ChannelKind, type ParsedChannel } from './parse.js';

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;
const SHARE_PREFIX = '$share/';

const INVALID: ParsedChannel = Object.freeze({
  key: '',
  channel: '',
  levels: Object.freeze([]),
  query: Object.freeze([]),
  options: EMPTY_OPTIONS,
  rawOptions: '',
  kind: ChannelKind.Invalid,
});

/** The Emitter channel of a plain topic (or filter): `a/b` is `a/b/`. */
export function emitterChannelOf(plain: string): string {
  return `${plain}/`;
}

/** The plain topic of an Emitter channel: `a/b/` is `a/b` (the inverse of `emitterChannelOf`). */
export function plainTopicOf(channel: string): string {
  return channel.charCodeAt(channel.length - 1) === SLASH ? channel.slice(0, -1) : channel;
}

/**
 * True when a topic (plain or Emitter form) starts with `$`: its first level is then not matched by a
 * plain subscription's leading `+` or `#` [MQTT-4.7.2-1]. The trie's `dollar` argument.
 */
export function startsWithDollar(topic: string): boolean {
  return topic.charCodeAt(0) === DOLLAR;
}

/**
 * A plain PUBLISH topic read as a channel under `key` (the key the connection authenticates with): levels
 * hashed as they are, `channel` its Emitter form for the key's target check. Invalid when empty, with a
 * NUL, or with a wildcard character [MQTT-3.3.2-2, MQTT-4.7.3-1, MQTT-4.7.3-2].
 */
export function parsePlainTopic(key: string, topic: string): ParsedChannel {
  const length = topic.length;
  if (length === 0) return INVALID;
  const levels: string[] = [];
  const query: number[] = [];
  let start = 0;
  for (let i = 0; i <= length; i++) {
    const code = i === length ? SLASH : topic.charCodeAt(i);
    if (code === SLASH) {
      const level = topic.slice(start, i);
      levels.push(level);
      query.push(hashLevel(level));
      start = i + 1;
    } else if (code === PLUS || code === HASH || code === 0) return INVALID;
  }
  return {
    key,
    channel: emitterChannelOf(topic),
    levels,
    query,
    options: EMPTY_OPTIONS,
    rawOptions: '',
    kind: ChannelKind.Static,
    plain: true,
  };
}

/**
 * A plain SUBSCRIBE filter read as a channel under `key`. Its SSID (`query`) carries the marks that make the
 * trie match it MQTT-exactly (`PlainMark`); `channel` is its Emitter form (`a/+` is `a/+/`) for the key's
 * target check. `$share/<group>/<filter>` is a shared subscription, checked against `<filter>`. Invalid
 * when empty, with a NUL, or with `+`/`#` not a whole level or `#` not last [MQTT-4.7.1-1, MQTT-4.7.1-2].
 */
export function parsePlainFilter(key: string, filter: string): ParsedChannel {
  let inner = filter;
  const query: number[] = [];
  if (filter.startsWith(SHARE_PREFIX)) {
    const groupEnd = filter.indexOf('/', SHARE_PREFIX.length);
    // A group name is at least one character without wildcards, and a filter follows [MQTT-4.8.2-1, -2].
    if (groupEnd <= SHARE_PREFIX.length || groupEnd === filter.length - 1) return INVALID;
    const group = filter.slice(SHARE_PREFIX.length, groupEnd);
    if (group.includes('+') || group.includes('#')) return INVALID;
    query.push(WellKnownHash.share, hashLevel(group));
    inner = filter.slice(groupEnd + 1);
  }
  const length = inner.length;
  if (length === 0) return INVALID;
  const levels: string[] = [];
  let kind: ChannelKind = ChannelKind.Static;
  let start = 0;
  for (let i = 0; i <= length; i++) {
    const code = i === length ? SLASH : inner.charCodeAt(i);
    if (code === 0) return INVALID;
    if (code !== SLASH) continue;
    const level = inner.slice(start, i);
    const first = levels.length === 0;
    levels.push(level);
    start = i + 1;
    if (level === '+') {
      kind = ChannelKind.Wildcard;
      query.push(first ? PlainMark.rootWildcard : WellKnownHash.wildcard);
    } else if (level === '#') {
      if (i !== length) return INVALID;
      kind = ChannelKind.Wildcard;
      query.push(first ? PlainMark.rootMulti : PlainMark.multi);
      return filterResult(key, inner, levels, query, kind);
    } else if (level.includes('+') || level.includes('#')) return INVALID;
    else query.push(hashLevel(level));
  }
  query.push(PlainMark.exact);
  return filterResult(key, inner, levels, query, kind);
}

function filterResult(
  key: string,
  filter: string,
  levels: readonly string[],
  query: readonly number[],
  kind: ChannelKind,
): ParsedChannel {
  return {
    key,
    channel: emitterChannelOf(filter),
    levels,
    query,
    options: EMPTY_OPTIONS,
    rawOptions: '',
    kind,
    plain: true,
  };
}
