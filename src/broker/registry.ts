/**
 * Sessions by client id: which session a CONNECT gets (new, resumed, taken over), persistent sessions
 * waiting offline until they expire, and their write-through to the session store (restored at start).
 */

import { normalizeSubscribeTopic, parseChannel, parsePlainFilter } from '../channel/index.js';
import { keyedTopic } from './keyless.js';
import { restoredPlainFilter } from './plain.js';
import { Delivery, type PublishProperties } from '../mqtt/index.js';
import { OutgoingState, type SessionRecord, type SessionStore } from '../storage/index.js';
import type { BrokerCore } from './core.js';
import { SessionJournal } from './journal.js';
import { Outbox, type OutboxLimits } from './outbox.js';
import { ClientSession } from './session.js';

/** How persistent sessions behave. */
export interface SessionSettings extends OutboxLimits {
  /** Milliseconds a persistent session is kept while its client is away; 0 keeps it for good. */
  readonly expiryMs: number;
}

/** Defaults: 20 in flight (Mosquitto), 1,000 queued messages or 16 MiB, a day offline. */
export const DEFAULT_SESSION_SETTINGS: SessionSettings = {
  maxInflight: 20,
  maxQueuedMessages: 1000,
  maxQueuedBytes: 16 * 1024 * 1024,
  expiryMs: 24 * 60 * 60 * 1000,
};

const SWEEP_INTERVAL_MS = 1000;

/** The broker's sessions by client id. */
export class SessionRegistry {
  private readonly byClientId = new Map<string, ClientSession>();
  /** Persistent sessions whose client is away, with when they expire (unix ms; Infinity: never). */
  private readonly offline = new Map<ClientSession, number>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly store: SessionStore,
    readonly settings: SessionSettings,
    private readonly core: BrokerCore,
    private readonly onStoreError: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Number of sessions known (connected with a client id, or persistent and away). */
  get size(): number {
    return this.byClientId.size;
  }

  /** Number of persistent sessions whose client is away. */
  get offlineCount(): number {
    return this.offline.size;
  }

  /** The session of a client id, if any. */
  get(clientId: string): ClientSession | undefined {
    return this.byClientId.get(clientId);
  }

  /**
   * A CONNECT named `fresh.clientId`. A connection already holding that client id is closed (takeover).
   * With `clean`, any previous session is discarded and `fresh` serves; without, the previous persistent
   * session (if any) is resumed on `fresh`'s connection. The serving session outlives its connection when
   * `persistent` (MQTT 3.1.1: not clean; MQTT 5: a non-zero Session Expiry Interval).
   */
  connect(
    fresh: ClientSession,
    clean: boolean,
    persistent = !clean,
  ): { serving: ClientSession; present: boolean } {
    const clientId = fresh.clientId;
    const existing = clientId === '' ? undefined : this.byClientId.get(clientId);
    if (existing !== undefined && existing !== fresh) {
      existing.takenOver();
      if (!clean && existing.persistent && !existing.ended) {
        this.offline.delete(existing);
        fresh.ended = true;
        this.core.sessionReplaced(fresh, existing);
        existing.resume(fresh.connection, fresh);
        if (!persistent) {
          // MQTT 5, expiry 0 this time: the session ends with this connection, and leaves the store now.
          existing.persistent = false;
          existing.journal?.delete();
          existing.journal = undefined;
        }
        return { serving: existing, present: true };
      }
      this.discard(existing);
    }
    if (clientId !== '') this.byClientId.set(clientId, fresh);
    if (persistent) {
      fresh.persistent = true;
      fresh.journal = this.journal(clientId);
      fresh.journal.open();
    }
    // A stored session of this client id went with `existing` (discard deletes it). Alone, this node holds
    // every stored session (restore() at start), so a clean CONNECT costs no store call; with a store shared
    // by the cluster, `prepare` read another node's session into this registry before this call, and a
    // clean CONNECT deletes whatever another node left there.
    if (clean && existing === undefined && this.shared && clientId !== '') void this.store.delete(clientId);
    return { serving: fresh, present: false };
  }

  /**
   * Sessions live in a store every cluster node shares (`redis` with a cluster): a session is held by the
   * node its client is connected to, or last was, and read from the store by whichever node the client
   * connects to next (see `prepare`), instead of being restored by every node at start.
   */
  get shared(): boolean {
    return (this.sharedStore ??=
      this.store.name === 'redis' && this.core.cluster.state().provider !== 'local');
  }
  private sharedStore: boolean | undefined;

  /**
   * Before a CONNECT naming `clientId` is served: the other cluster nodes close their connection with that
   * client id and let its session go (their store writes done); then, for a persistent session this node
   * does not hold and a shared store, the session is read from the store (the node that held it may have
   * died) and waits here for `connect`. Undefined when there is nothing to wait for (sessions not shared:
   * the peers are told without waiting).
   */
  prepare(clientId: string, clean: boolean): Promise<void> | undefined {
    if (clientId === '') return undefined;
    // Sessions a node keeps to itself cannot move: the peers close their connections, nothing is read
    // and nothing is waited for.
    const claim = this.core.cluster.claim(clientId, this.shared);
    if (!this.shared) return undefined;
    return (async () => {
      await claim;
      if (clean || this.byClientId.has(clientId) || this.closed) return;
      const record = await this.store.load(clientId);
      if (record !== undefined && !this.byClientId.has(clientId) && !this.closed)
        await this.restoreOne(record);
    })();
  }

  /**
   * Another node serves `clientId` now: close our connection with it (takeover, no will) and forget its
   * session here without deleting it from the store, once its pending store writes are done.
   */
  async release(clientId: string): Promise<void> {
    const session = this.byClientId.get(clientId);
    if (session === undefined) return;
    session.takenOver();
    this.offline.delete(session);
    this.byClientId.delete(clientId);
    session.end();
    await session.journal?.flush();
    session.journal = undefined;
  }

  /** A session's connection closed: a persistent session waits for its client, any other ends. */
  disconnected(session: ClientSession): void {
    if (session.persistent && !session.ended) {
      const expiryMs = session.v5?.expiryMs ?? this.settings.expiryMs;
      const expiresAt = expiryMs > 0 && Number.isFinite(expiryMs) ? this.now() + expiryMs : Infinity;
      this.offline.set(session, expiresAt);
      // At shutdown the store may be closed already: a restart counts the expiry from then.
      if (!this.closed) session.journal?.setExpiry(Number.isFinite(expiresAt) ? expiresAt : undefined);
      this.startSweeping();
      return;
    }
    session.end();
    if (this.byClientId.get(session.clientId) === session) this.byClientId.delete(session.clientId);
  }

  /** Ends a session for good: out of the trie, out of the store. */
  private discard(session: ClientSession): void {
    this.offline.delete(session);
    session.end();
    if (session.journal) {
      session.journal.delete();
      session.journal = undefined;
    }
    if (this.byClientId.get(session.clientId) === session) this.byClientId.delete(session.clientId);
  }

  /** Ends persistent sessions whose client stayed away past the expiry. */
  sweep(): void {
    const now = this.now();
    for (const [session, expiresAt] of this.offline) {
      if (expiresAt <= now) {
        this.discard(session);
        this.core.counters.sessionsExpired++;
      }
    }
    if (this.offline.size === 0) this.stopSweeping();
  }

  /**
   * Puts back every session the store holds (after a restart with a durable store): subscriptions into
   * the trie, in-flight and queued messages into the outbox, waiting for their clients.
   */
  async restore(): Promise<number> {
    // A shared store's sessions belong to the nodes their clients connect to (see `prepare`).
    if (this.shared) return 0;
    const ids = await this.store.list();
    let restored = 0;
    for (const clientId of ids) {
      const record = await this.store.load(clientId);
      if (record === undefined || this.byClientId.has(clientId)) continue;
      await this.restoreOne(record);
      restored++;
    }
    return restored;
  }

  private async restoreOne(record: SessionRecord): Promise<void> {
    const session = ClientSession.restored(this.core, record.clientId);
    this.byClientId.set(record.clientId, session);
    for (const { topic, qos, options } of record.subscriptions) {
      // A plain MQTT filter comes back in its plain form, under the key it was made with.
      const plain = restoredPlainFilter(topic, this.core.plain.anonymousKey);
      if (plain !== undefined && plain.access === undefined) continue; // anonymous access is off now
      const channel =
        plain?.access !== undefined
          ? parsePlainFilter(plain.access.key, plain.filter)
          : parseChannel(keyedTopic(this.core.keylessKey, normalizeSubscribeTopic(topic)));
      // Authorised again: a key banned or expired meanwhile no longer subscribes.
      await this.core.pubsub.subscribe(
        session,
        channel,
        false,
        qos,
        topic,
        options || plain
          ? {
              noLocal: options?.noLocal,
              retainAsPublished: options?.retainAsPublished,
              identifier: options?.identifier,
              ...(plain ? { plain: true } : {}),
            }
          : undefined,
      );
    }
    if (record.outgoing.length > 0) {
      const outbox = (session.outbox = new Outbox(this.settings));
      for (const entry of record.outgoing) {
        const m = entry.message;
        outbox.restore({
          delivery: new Delivery(
            m.topic,
            m.payload,
            m.qos,
            m.retain,
            m.storedId,
            m.properties as PublishProperties | undefined,
          ),
          qos: m.qos,
          packetId: entry.packetId,
          state: entry.state === OutgoingState.Queued ? OutgoingState.Queued : entry.state,
          seq: entry.seq,
        });
      }
    }
    if (record.incoming.length > 0) session.pendingQos2 = new Set(record.incoming);
    session.journal = this.journal(record.clientId);
    const expiresAt =
      record.expiresAt ?? (this.settings.expiryMs > 0 ? this.now() + this.settings.expiryMs : Infinity);
    this.offline.set(session, expiresAt);
    this.startSweeping();
  }

  /** Stops the expiry timer and waits for every session's pending store writes. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopSweeping();
    await Promise.all([...this.byClientId.values()].map((session) => session.journal?.flush()));
  }

  private journal(clientId: string): SessionJournal {
    return new SessionJournal(this.store, clientId, this.onStoreError);
  }

  private startSweeping(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(
      () => this.sweep(),
      Math.min(SWEEP_INTERVAL_MS, this.settings.expiryMs || SWEEP_INTERVAL_MS),
    );
    this.timer.unref();
  }

  private stopSweeping(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
