/**
 * Topic parsing: `<key>/<level>/<level>/[?k=v&k=v]` (spec 2.1). Runs on every PUBLISH, so it is one
 * char-code scan over the string with a class table, never a regex or split.
 */

import { hashLevel } from './hash.js';
import { EMPTY_OPTIONS, parseOptions, type ChannelOptions } from './options.js';

/** What a topic may be used for: static channels can be published to, wildcard ones only subscribed. */
export const ChannelKind = { Invalid: 0, Static: 1, Wildcard: 2 } as const;
/** One of the `ChannelKind` values. */
export type ChannelKind = (typeof ChannelKind)[keyof typeof ChannelKind];

/** A parsed topic; when `kind` is `Invalid` every other field is empty. */
export interface ParsedChannel {
  /** Everything before the first `/`: a channel key, or `emitter` for built-in requests. */
  readonly key: string;
  /** The levels with their trailing slash, without key or options (`a/b/c/`). */
  readonly channel: string;
  /** Each level's text, wildcards included. */
  readonly levels: readonly string[];
  /** `hashLevel` of each level: the SSID without its contract. */
  readonly query: readonly number[];
  /** The known options, parsed. */
  readonly options: ChannelOptions;
  /** The text after `?` as sent (unknown options included), '' when there is none. */
  readonly rawOptions: string;
  /** Invalid, static or wildcard. */
  readonly kind: ChannelKind;
  /** A plain MQTT topic or filter (see `./plain.ts`): its recipients see topics in plain form. */
  readonly plain?: boolean;
}

const INVALID: ParsedChannel = Object.freeze({
  key: '',
  channel: '',
  levels: Object.freeze([]),
  query: Object.freeze([]),
  options: EMPTY_OPTIONS,
  rawOptions: '',
  kind: ChannelKind.Invalid,
});

const SLASH = 0x2f;
const QUESTION = 0x3f;

// Byte classes of the channel grammar; everything >= 0x80 is invalid and never reaches the table.
const OTHER = 0;
const CHAR = 1;
const WILD = 2;
const CLASSES = new Uint8Array(128);
for (let c = 0x2d; c <= 0x3a; c++) CLASSES[c] = CHAR;
for (let c = 0x41; c <= 0x7a; c++) CLASSES[c] = CHAR;
CLASSES[0x24] = CHAR; // '$', for $share
CLASSES[0x2b] = WILD; // '+'
CLASSES[0x23] = WILD; // '#'
CLASSES[0x2a] = WILD; // '*'
// '/' (0x2f) lies inside the CHAR range but is a separator; the scan tests for it first.

/** Parses a topic; never throws: anything outside the grammar gives `kind: ChannelKind.Invalid`. */
export function parseChannel(topic: string): ParsedChannel {
  const keyEnd = topic.indexOf('/');
  if (keyEnd <= 0) return INVALID;

  const length = topic.length;
  const levels: string[] = [];
  const query: number[] = [];
  let kind: ChannelKind = ChannelKind.Static;
  let start = keyEnd + 1;
  // 0 = empty level so far, CHAR = ordinary characters, WILD = a wildcard (must stay alone).
  let state = OTHER;
  for (let i = start; i < length; i++) {
    const code = topic.charCodeAt(i);
    if (code === SLASH) {
      if (state === OTHER) return INVALID;
      const level = topic.slice(start, i);
      levels.push(level);
      query.push(hashLevel(level));
      const next = i + 1;
      if (next === length) return result(topic, keyEnd, next, levels, query, '', EMPTY_OPTIONS, kind);
      if (topic.charCodeAt(next) === QUESTION) {
        const rawOptions = topic.slice(next + 1);
        const options = parseOptions(rawOptions);
        if (options === undefined) return INVALID;
        return result(topic, keyEnd, next, levels, query, rawOptions, options, kind);
      }
      start = next;
      state = OTHER;
      continue;
    }
    const cls = code < 0x80 ? CLASSES[code] : OTHER;
    if (cls === OTHER || state === WILD || (cls === WILD && state === CHAR)) return INVALID;
    if (cls === WILD) kind = ChannelKind.Wildcard;
    state = cls;
  }
  // Ran out of text inside a level: the channel did not end with '/'.
  return INVALID;
}

function result(
  topic: string,
  keyEnd: number,
  channelEnd: number,
  levels: readonly string[],
  query: readonly number[],
  rawOptions: string,
  options: ChannelOptions,
  kind: ChannelKind,
): ParsedChannel {
  return {
    key: topic.slice(0, keyEnd),
    channel: topic.slice(keyEnd + 1, channelEnd),
    levels,
    query,
    options,
    rawOptions,
    kind,
  };
}

/**
 * The channel with its options, without the key, as Emitter writes it back (link targets, replies):
 * a bare `?` and a trailing `&` are dropped.
 */
export function channelWithOptions(parsed: ParsedChannel): string {
  let raw = parsed.rawOptions;
  if (raw.length > 0 && raw.charCodeAt(raw.length - 1) === 0x26) raw = raw.slice(0, -1);
  return raw.length === 0 ? parsed.channel : `${parsed.channel}?${raw}`;
}

/**
 * Emitter's SUBSCRIBE-only rewrite for paho clients (spec 2.5): every `#` becomes `#/`, then every `//`
 * becomes `/` (left to right, non-overlapping, like Go's `bytes.ReplaceAll`). `KEY/a/#` and `KEY/a/#/`
 * both come out as `KEY/a/#/`, so a SUBSCRIBE and an UNSUBSCRIBE of either spelling name one subscription.
 */
export function normalizeSubscribeTopic(topic: string): string {
  // Most topics need neither rewrite: return them without building a new string.
  if (topic.indexOf('#') < 0 && topic.indexOf('//') < 0) return topic;
  return topic.replaceAll('#', '#/').replaceAll('//', '/');
}
