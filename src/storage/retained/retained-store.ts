/**
 * MQTT retained messages (MQTT 3.1.1 / 5 section 3.3.1.3): at most one per topic and contract, replaced
 * by the next retained publish, cleared by a retained publish with an empty payload [MQTT-3.3.1-10/11],
 * sent on SUBSCRIBE to every matching filter [MQTT-3.3.1-6]. The Emitter message storage keeps history
 * (`last`); this store keeps the one message per topic that plain MQTT subscribers get.
 *
 * Topics are plain MQTT topics as published (`sensors/t1`): an Emitter channel `sensors/t1/` is the
 * plain topic `sensors/t1` (`plainTopicOf` in src/channel/plain.ts). Every provider passes
 * `src/testing/retained`'s suite.
 */

import type { QoS } from '../sessions/session-store.js';

/** One retained message. */
export interface RetainedMessage {
  /** The plain MQTT topic it was published to. */
  readonly topic: string;
  readonly payload: Buffer;
  /** The QoS it was published at (deliveries go at min(this, the subscription's)). */
  readonly qos: QoS;
  /** MQTT 5 PUBLISH properties as published (their Message Expiry Interval is the original one). */
  readonly properties?: Readonly<Record<string, unknown>>;
  /** Unix ms after which it is gone (MQTT 5 Message Expiry Interval); 0: never. */
  readonly expiresAt: number;
}

/** A retained-message store: one message per (contract, topic). */
export interface RetainedStore {
  /** The provider name: `inmemory`, `ssd` or `redis`. */
  readonly name: string;
  /** Sets the retained message of its topic (replacing any); resolves once stored. */
  set(contract: number, message: RetainedMessage): Promise<void>;
  /** Removes the retained message of a topic, if any. */
  clear(contract: number, topic: string): Promise<void>;
  /**
   * The unexpired retained messages whose topic matches an MQTT topic filter (`+`, `#`, and no leading
   * wildcard matching a `$` topic [MQTT-4.7.2-1]), ordered by the topics' UTF-8 bytes.
   */
  match(contract: number, filter: string): Promise<RetainedMessage[]>;
  /** Releases files and connections; later calls reject. */
  close(): Promise<void>;
}

/** Whether a filter has a `+` or `#` level (then it can match more than one topic). */
export function isWildcardFilter(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/**
 * The longest plain text every topic a wildcard filter matches starts with: the filter up to its first
 * wildcard level, without the `/` before it (`a/b/#` matches `a/b` itself). '' when it starts with one.
 */
export function literalPrefix(filter: string): string {
  const levels = filter.split('/');
  let end = 0;
  while (end < levels.length && levels[end] !== '+' && levels[end] !== '#') end++;
  return levels.slice(0, end).join('/');
}

/**
 * MQTT topic matching (section 4.7): `+` is exactly one level (which may be empty), `#` is the last
 * level and matches its parent and everything below it [MQTT-4.7.1-2]; a filter starting with a
 * wildcard does not match a topic starting with `$` [MQTT-4.7.2-1].
 */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  return filterMatcher(filter)(topic);
}

/**
 * `topicMatchesFilter` for one filter and many topics: the filter is split once, and each topic is
 * walked in place (no substring or array per topic), since a wildcard SUBSCRIBE tests every retained
 * topic under its prefix.
 */
export function filterMatcher(filter: string): (topic: string) => boolean {
  const levels = filter.split('/');
  const leadingWildcard = levels[0] === '+' || levels[0] === '#';
  return (topic) => {
    if (leadingWildcard && topic.charCodeAt(0) === DOLLAR) return false;
    let at = 0; // start of the topic's current level; -1 once past its last level
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i];
      if (level === '#') return true; // '#' is last (a valid filter): the parent level counts too
      if (at < 0) return false;
      const end = topic.indexOf('/', at);
      const levelEnd = end < 0 ? topic.length : end;
      if (level !== '+' && (levelEnd - at !== level.length || !topic.startsWith(level, at))) return false;
      at = end < 0 ? -1 : end + 1;
    }
    return at < 0;
  };
}

const DOLLAR = 0x24;

/** Orders messages by their topics' UTF-8 bytes (as SQLite and Redis order them); sorts in place. */
export function sortByTopic(messages: RetainedMessage[]): RetainedMessage[] {
  if (messages.length < 2) return messages;
  const keyed = messages.map((message) => ({ key: Buffer.from(message.topic), message }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  for (let i = 0; i < keyed.length; i++) messages[i] = keyed[i].message;
  return messages;
}

/** Whether a retained message has passed its expiry at `now`. */
export function isRetainedExpired(message: RetainedMessage, now: number): boolean {
  return message.expiresAt !== 0 && now >= message.expiresAt;
}
