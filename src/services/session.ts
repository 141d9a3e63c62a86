import type { CompactMap, QoS, Ssid, SubscriptionOptions } from '../channel/index.js';
import type { RoutedSubscriber } from '../cluster/index.js';
import type { Delivery } from '../mqtt/index.js';

/**
 * Anything a message can be delivered to: a client session of this node, or (with `peer` set) a client
 * of another cluster node, reached through the cluster. Ids are Emitter's connection ids (a persistent
 * session keeps its id across connections).
 */
export type Subscriber = RoutedSubscriber;

/** One subscription held by a session, keyed by its SSID. */
export interface SessionSubscription {
  readonly ssid: Ssid;
  /** The channel as subscribed, without key or options (`a/b/`, `$share/g/a/`). */
  readonly channel: string;
  /** The QoS granted (deliveries go at min(publish QoS, this)). */
  readonly qos: QoS;
  /** The topic filter as the client sent it (what a session store keeps), '' for internal ones. */
  readonly topic: string;
}

/**
 * A replay in progress on a session (see `Session.holdDeliveries`): stored messages go out through
 * `replay` at once, live ones wait until `release`.
 */
export interface DeliveryHold {
  /** Sends a replayed (stored) message now, ahead of every live message held meanwhile. */
  replay(delivery: Delivery, qos: QoS, options?: SubscriptionOptions): void;
  /** Ends this hold; when it was the last, held live messages go out, except those already replayed. */
  release(): void;
}

/** A client session as the services see it: identity, its subscriptions and links. */
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
   * Holds live deliveries while stored messages are replayed: replayed messages go out first, then the
   * held live ones that the replay did not already contain (by stored id), so there is no duplicate, no
   * gap and no overtaking at the seam, however long the storage query takes.
   */
  holdDeliveries(): DeliveryHold;
  /** Sends a JSON reply on a topic to this session only. */
  sendJson(topic: string, body: object): void;
}
