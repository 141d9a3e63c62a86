import type { CompactMap, Ssid } from '../channel/index.js';
import type { RoutedSubscriber } from '../cluster/index.js';

/**
 * Anything a message can be delivered to: a client connection of this node, or (with `peer` set) a
 * client of another cluster node, reached through the cluster. Ids are Emitter's connection ids.
 */
export type Subscriber = RoutedSubscriber;

/** One subscription held by a session, keyed by its SSID. */
export interface SessionSubscription {
  readonly ssid: Ssid;
  /** The channel as subscribed, without key or options (`a/b/`, `$share/g/a/`). */
  readonly channel: string;
}

/** A client connection as the services see it: identity, its subscriptions and links. */
export interface Session extends Subscriber {
  /** The MQTT username from CONNECT, '' when none (shown in presence). */
  readonly username: string;
  /** The MQTT client id from CONNECT. */
  readonly clientId: string;
  /** Subscriptions by `ssidKey`; the pubsub service keeps it in step with the trie. */
  readonly subscriptions: CompactMap<string, SessionSubscription>;
  /** Link name (1-2 characters) to the full topic it stands for (`KEY/chan/?opts`). */
  readonly links: Map<string, string>;
  /**
   * Holds live deliveries while stored messages are replayed: `release` sends the held ones that the
   * replay did not already contain (by stored id), so there is no duplicate and no gap at the seam.
   */
  holdDeliveries(): { release(replayedIds: ReadonlySet<string>): void };
  /** Sends a JSON reply on a topic to this session only. */
  sendJson(topic: string, body: object): void;
}
