import type { Identified, Ssid, SubscriptionOptions } from '../channel/index.js';
import type { Delivery, QoS } from '../mqtt/index.js';

/** Where a publish was addressed: its contract and channel level hashes (the SSID without building it). */
export interface Route {
  readonly contract: number;
  readonly levels: readonly number[];
}

/** Anything in the subscription trie a message can be delivered to: a client here or one on a peer node. */
export interface RoutedSubscriber extends Identified {
  /** The node name for a subscriber held on another node; absent for this node's own clients. */
  readonly peer?: string;
  /**
   * Delivers a message at `qos` (already min(publish QoS, granted QoS)). The same `Delivery` goes to every
   * recipient of a publish, so its encoded forms are shared; `route` says where it was published, for
   * forwarding to peers.
   */
  /** `options`: the MQTT 5 options of the subscription that matched, when it has any. */
  deliver(delivery: Delivery, qos: QoS, route?: Route, options?: SubscriptionOptions): void;
}

/** One subscription of a client, as the cluster replicates it to the other nodes. */
export interface MemberSubscription {
  /** The client's connection id. */
  readonly id: string;
  readonly username: string;
  readonly clientId: string;
  /** The channel as subscribed (`a/b/`), '' for internal subscriptions such as presence watches. */
  readonly channel: string;
  readonly ssid: Ssid;
}

/** What a cluster calls back into on this node. */
export interface ClusterHost {
  /** Adds a peer's subscriber to this node's trie, so local publishes reach it. */
  addRemote(ssid: Ssid, subscriber: RoutedSubscriber): void;
  /** Removes a peer's subscriber from the trie. */
  removeRemote(ssid: Ssid, subscriber: RoutedSubscriber): void;
  /** A message a peer forwarded: deliver it to this node's own clients subscribed to the route. */
  deliverLocal(route: Route, delivery: Delivery): void;
  /** A share-group message a peer picked one of this node's clients for. */
  deliverTo(sessionId: string, route: Route, delivery: Delivery): void;
  /** A peer left (died or stopped): its clients' subscriptions are gone; tell local presence watchers. */
  peerLeft(subscriptions: readonly MemberSubscription[]): void;
  /**
   * A client id connected on another node: close this node's connection with it (takeover, no will) and
   * let its session go, its store writes done; resolves once they are.
   */
  release(clientId: string): Promise<void>;
}

/** Counters the cluster keeps for metrics (plain integers, read at scrape time). */
export interface ClusterCounters {
  /** Copies of messages sent to peer nodes (one per node per message). */
  forwarded: number;
  /** Messages received from peer nodes. */
  received: number;
  /** Forwards that could not be sent (Redis unreachable). */
  dropped: number;
}

/** A cluster's state as `/health` and the dashboard report it. */
export interface ClusterState {
  /** `local` (alone) or `redis`. */
  readonly provider: string;
  /** False while a Redis cluster is not joined (Redis unreachable): the node serves its own clients only. */
  readonly connected: boolean;
  /** The peer nodes known alive, by name. */
  readonly peers: readonly string[];
}

/** How a broker joins other brokers: `local` (alone) or `redis` (many nodes through Redis). */
export interface Cluster {
  /** This node's unique name. */
  readonly name: string;
  readonly counters: ClusterCounters;
  /** Number of peer nodes currently known alive. */
  readonly peers: number;
  /** Starts replicating; resolves once started (a Redis cluster keeps trying in the background if Redis is down). */
  start(host: ClusterHost): Promise<void>;
  /** A client of this node subscribed: tell the peers. */
  subscribed(subscription: MemberSubscription): void;
  /** A client of this node unsubscribed (or left): tell the peers. */
  unsubscribed(subscription: MemberSubscription): void;
  /**
   * A client id connected on this node: every peer closes its connection with that client id and lets its
   * session go. With `wait`, resolves once every peer answered (bounded; at once without peers); without,
   * at once, and the peers do not answer.
   */
  claim(clientId: string, wait: boolean): Promise<void>;
  /** Leaves the cluster (peers drop this node's subscribers at once) and closes connections. */
  close(): Promise<void>;
  /** Whether it is joined and which peers it knows. */
  state(): ClusterState;
}

/** A broker on its own: nothing to replicate. */
export class LocalCluster implements Cluster {
  readonly counters: ClusterCounters = { forwarded: 0, received: 0, dropped: 0 };
  readonly peers = 0;

  constructor(readonly name: string) {}

  async start(): Promise<void> {}
  subscribed(): void {}
  unsubscribed(): void {}
  async claim(): Promise<void> {}
  async close(): Promise<void> {}
  state(): ClusterState {
    return { provider: 'local', connected: true, peers: [] };
  }
}
