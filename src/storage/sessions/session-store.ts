/**
 * The session store contract (shaped after aedes-persistence): what an MQTT session keeps between its
 * connections, so that it can outlive one (`cleanSession: false`), survive a restart (`ssd`) or move to
 * another node (`redis`). Every provider passes the same conformance suite
 * (`test/storage/sessions/conformance.ts`).
 *
 * The broker keeps a connected session's working state in memory and writes every change through to the
 * store; it reads the store back when a client id it does not hold in memory connects (after a restart,
 * or on another cluster node), and at start to put stored subscriptions back into the trie.
 */

/** An MQTT quality of service level. */
export type QoS = 0 | 1 | 2;

/** MQTT 5 subscription options (absent for MQTT 3.1.1 subscriptions). */
export interface StoredSubscriptionOptions {
  readonly noLocal?: boolean;
  readonly retainAsPublished?: boolean;
  readonly retainHandling?: 0 | 1 | 2;
  /** The subscription identifier (1 .. 268,435,455). */
  readonly identifier?: number;
}

/** One subscription of a session: the topic filter as the client sent it, and the QoS granted. */
export interface StoredSubscription {
  /** The topic filter as subscribed (for Emitter clients it includes the channel key and options). */
  readonly topic: string;
  readonly qos: QoS;
  readonly options?: StoredSubscriptionOptions;
}

/** A message for a session's client: queued while it is away or its window is full, or in flight. */
export interface QueuedMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** The QoS it is sent at: min(publish QoS, granted QoS), so 1 or 2 (QoS 0 is never stored). */
  readonly qos: 1 | 2;
  readonly retain: boolean;
  /** The message storage id, when the message was also stored (`?ttl`). */
  readonly storedId?: Buffer;
  /**
   * MQTT 5 PUBLISH properties (message expiry, content type, user properties, ...): JSON values and
   * Buffers only, so every provider can keep them.
   */
  readonly properties?: Readonly<Record<string, unknown>>;
  /**
   * Unix ms after which it is not delivered (its MQTT 5 Message Expiry Interval ran out); absent: never.
   * Kept so that the interval counts the time spent queued, across restarts and nodes too.
   */
  readonly expiresAt?: number;
}

/** Where an outgoing entry stands in the MQTT exchange. */
export const OutgoingState = {
  /** Waiting: the client is away, or the in-flight window is full. No packet id yet. */
  Queued: 0,
  /** PUBLISH sent with `packetId`; waiting for PUBACK (QoS 1) or PUBREC (QoS 2). */
  Sent: 1,
  /** QoS 2: PUBREC received and PUBREL sent; waiting for PUBCOMP. */
  Released: 2,
} as const;
/** One of the `OutgoingState` values. */
export type OutgoingState = (typeof OutgoingState)[keyof typeof OutgoingState];

/** One message in a session's outgoing queue. */
export interface OutgoingEntry {
  /** Assigned by the store, increasing within a session (never reused while the session lives). */
  readonly seq: number;
  readonly message: QueuedMessage;
  /** The packet id while in flight (1 .. 65535); 0 while queued. */
  readonly packetId: number;
  readonly state: OutgoingState;
}

/** A will message kept with the session (MQTT 5 will delay needs it beyond the connection). */
export interface StoredWill {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly properties?: Readonly<Record<string, unknown>>;
}

/** Everything stored for one session. */
export interface SessionRecord {
  readonly clientId: string;
  /** Unix ms when the session expires; undefined while a connection holds it (it does not expire then). */
  readonly expiresAt: number | undefined;
  /** In the order they were first added (a re-subscribe keeps its place and takes the new QoS). */
  readonly subscriptions: readonly StoredSubscription[];
  /** In `seq` order: in-flight entries and queued ones as they were enqueued. */
  readonly outgoing: readonly OutgoingEntry[];
  /** Packet ids of QoS 2 PUBLISHes received and acknowledged with PUBREC, not yet released by PUBREL. */
  readonly incoming: readonly number[];
  readonly will: StoredWill | undefined;
}

/** The outcome of an `enqueue`. */
export interface EnqueueResult {
  /** The new entry's `seq`; undefined when the message itself was dropped (bigger than the byte bound). */
  readonly seq: number | undefined;
  /** Entries dropped to stay within the bounds, the new message included when it was dropped. */
  readonly dropped: number;
}

/** Settings every session store provider takes. */
export interface SessionStoreConfig {
  /** Most `Queued` entries per session; past it the oldest queued are dropped. Default 1000. */
  readonly maxQueuedMessages?: number;
  /** Most bytes (topic + payload) of `Queued` entries per session; oldest dropped past it. Default 16 MiB. */
  readonly maxQueuedBytes?: number;
  /** The clock expiry is judged by, unix ms; default `Date.now`. Tests inject one. */
  readonly now?: () => number;
}

/** Default bound on queued messages per session (Mosquitto's `max_queued_messages` is 1000). */
export const DEFAULT_MAX_QUEUED_MESSAGES = 1000;
/** Default bound on queued bytes per session. */
export const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** Bytes an entry counts against `maxQueuedBytes`. */
export function queuedBytes(message: QueuedMessage): number {
  return Buffer.byteLength(message.topic) + message.payload.length;
}

/**
 * A session store. Rules every provider keeps:
 * - Ordering: the calls made for one client id take effect in the order they were made, even when the
 *   caller does not wait for one before making the next (a provider serialises them per client id);
 *   calls for different client ids are independent.
 * - Atomicity: each call is all or nothing (a crash leaves it done or not done); `enqueue` inserts and
 *   enforces the bounds in one step; `open` reads, drops an expired session and clears the expiry in one.
 * - Bounds: only `Queued` entries count against `maxQueuedMessages`/`maxQueuedBytes` (in-flight ones are
 *   bounded by the caller's in-flight window); past a bound the oldest `Queued` entries are dropped.
 * - Expiry: a session whose `expiresAt` has passed is absent to every read (`open`, `load`, `list`) even
 *   before `purgeExpired` removes it.
 * - Calls for a client id that has no session: writes create it (connected, no expiry), reads return
 *   empty results, `acknowledge`/`release`/`incomingRelease` return false.
 * - Returned records and arrays are snapshots: later calls do not change them, and changing them does
 *   not change the store. Message buffers may be shared: do not modify them.
 * - After `close()`, calls reject with a `StorageError` (`Closed`).
 */
export interface SessionStore {
  /** The provider name: `inmemory`, `ssd` or `redis`. */
  readonly name: string;

  /**
   * A client connected with `cleanSession: false`: returns the session it had (undefined when none, or
   * when it had expired, which is then deleted), makes sure one exists, and clears its expiry.
   */
  open(clientId: string): Promise<SessionRecord | undefined>;
  /** The stored session, undefined when none (or expired); changes nothing. */
  load(clientId: string): Promise<SessionRecord | undefined>;
  /** Sets when the session expires (its client went away), or clears it (undefined: connected again). */
  setExpiry(clientId: string, expiresAt: number | undefined): Promise<void>;
  /** Deletes the session and everything in it (`cleanSession: true`, expiry, a discarded session). */
  delete(clientId: string): Promise<void>;
  /** Client ids of every stored, unexpired session (restored at start), in no particular order. */
  list(): Promise<string[]>;
  /**
   * Deletes every session that expired by now; resolves to their client ids (a session replaced by a
   * write or `open` after it expired is a new session, not reported).
   */
  purgeExpired(): Promise<string[]>;

  /** Adds subscriptions, or replaces the QoS and options of those with the same topic. */
  addSubscriptions(clientId: string, subscriptions: readonly StoredSubscription[]): Promise<void>;
  /** Removes the subscriptions with these topics; unknown topics are ignored. */
  removeSubscriptions(clientId: string, topics: readonly string[]): Promise<void>;
  /** The session's subscriptions, in the order they were first added. */
  subscriptions(clientId: string): Promise<StoredSubscription[]>;

  /**
   * Appends a message to the outgoing queue (state `Queued`), then enforces the bounds. With `packetId`
   * the message was sent at once: the entry is stored in flight (state `Sent` with that id), as if
   * `markSent` had followed, so no later call needs its `seq` and the bounds do not apply to it.
   */
  enqueue(clientId: string, message: QueuedMessage, packetId?: number): Promise<EnqueueResult>;
  /**
   * The entry `seq` was sent with `packetId` (state `Sent`); a no-op when the entry is gone (dropped).
   * Re-sending an entry on reconnect keeps its packet id and needs no call. `qos`, when the caller gives
   * it, is the entry's: a provider may write a QoS 1 entry's new state lazily (a crash then only re-sends
   * it, as QoS 1 allows), as long as every later call sees it.
   */
  markSent(clientId: string, seq: number, packetId: number, qos?: 1 | 2): Promise<void>;
  /**
   * QoS 2: PUBREC came for `packetId` (state `Released`); false when no QoS 2 entry in flight has that
   * id. Releasing twice is harmless (still true).
   */
  release(clientId: string, packetId: number): Promise<boolean>;
  /** PUBACK (QoS 1) or PUBCOMP (QoS 2) came for `packetId`: removes the entry; false when none had it. */
  acknowledge(clientId: string, packetId: number): Promise<boolean>;
  /** The outgoing entries (in flight and queued), in `seq` order. */
  outgoing(clientId: string): Promise<OutgoingEntry[]>;

  /** A QoS 2 PUBLISH with `packetId` was received (PUBREC sent); storing an id twice keeps one. */
  incomingStore(clientId: string, packetId: number): Promise<void>;
  /** PUBREL came for `packetId`: forgets it; false when it was not stored. */
  incomingRelease(clientId: string, packetId: number): Promise<boolean>;
  /** Packet ids of QoS 2 PUBLISHes received and not yet released, in the order received. */
  incoming(clientId: string): Promise<number[]>;

  /** Sets (or, with undefined, clears) the session's will. */
  setWill(clientId: string, will: StoredWill | undefined): Promise<void>;

  /** Finishes pending writes and releases connections and files; later calls reject. */
  close(): Promise<void>;
}

/** The session store providers `createSessionStore` knows. */
export const SessionStoreProvider = { InMemory: 'inmemory', Ssd: 'ssd', Redis: 'redis' } as const;
/** One of the `SessionStoreProvider` values. */
export type SessionStoreProvider = (typeof SessionStoreProvider)[keyof typeof SessionStoreProvider];
