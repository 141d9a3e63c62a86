/**
 * The `inmemory` session store: sessions in this process's memory. It keeps what a session needs across
 * its connections on this node; a restart forgets everything (use `ssd` for that).
 */

import { StorageError, StorageErrorCode } from '../storage-error.js';
import {
  OutgoingState,
  queuedBytes,
  type EnqueueResult,
  type OutgoingEntry,
  type QueuedMessage,
  type SessionRecord,
  type SessionStore,
  type SessionStoreConfig,
  type StoredSubscription,
  type StoredWill,
} from './session-store.js';
import { sessionStoreSettings, type SessionStoreSettings } from './settings.js';

interface Entry {
  readonly seq: number;
  readonly message: QueuedMessage;
  packetId: number;
  state: OutgoingState;
}

class StoredSession {
  expiresAt: number | undefined;
  readonly subscriptions = new Map<string, StoredSubscription>();
  /** By seq; a Map keeps insertion (= seq) order. */
  readonly outgoing = new Map<number, Entry>();
  readonly inFlight = new Map<number, Entry>();
  readonly incoming = new Set<number>();
  will: StoredWill | undefined;
  nextSeq = 1;
  queuedCount = 0;
  queuedBytes = 0;

  record(clientId: string): SessionRecord {
    return {
      clientId,
      expiresAt: this.expiresAt,
      subscriptions: [...this.subscriptions.values()],
      outgoing: this.entries(),
      incoming: [...this.incoming],
      will: this.will,
    };
  }

  entries(): OutgoingEntry[] {
    const out: OutgoingEntry[] = [];
    for (const e of this.outgoing.values())
      out.push({ seq: e.seq, message: e.message, packetId: e.packetId, state: e.state });
    return out;
  }
}

/** Sessions kept in memory. */
export class InMemorySessionStore implements SessionStore {
  readonly name = 'inmemory';
  private readonly sessions = new Map<string, StoredSession>();
  private readonly settings: SessionStoreSettings;
  private closed = false;

  constructor(config: SessionStoreConfig = {}) {
    this.settings = sessionStoreSettings(config);
  }

  async open(clientId: string): Promise<SessionRecord | undefined> {
    const existing = this.live(clientId);
    const record = existing?.record(clientId);
    const session = this.session(clientId);
    session.expiresAt = undefined;
    return record;
  }

  async load(clientId: string): Promise<SessionRecord | undefined> {
    return this.live(clientId)?.record(clientId);
  }

  async setExpiry(clientId: string, expiresAt: number | undefined): Promise<void> {
    this.session(clientId).expiresAt = expiresAt;
  }

  async delete(clientId: string): Promise<void> {
    this.check();
    this.sessions.delete(clientId);
  }

  async list(): Promise<string[]> {
    this.check();
    const now = this.settings.now();
    const ids: string[] = [];
    for (const [id, session] of this.sessions) if (!expired(session, now)) ids.push(id);
    return ids;
  }

  async purgeExpired(): Promise<string[]> {
    this.check();
    const now = this.settings.now();
    const gone: string[] = [];
    for (const [id, session] of this.sessions) {
      if (!expired(session, now)) continue;
      this.sessions.delete(id);
      gone.push(id);
    }
    return gone;
  }

  async addSubscriptions(clientId: string, subscriptions: readonly StoredSubscription[]): Promise<void> {
    const session = this.session(clientId);
    for (const subscription of subscriptions) session.subscriptions.set(subscription.topic, subscription);
  }

  async removeSubscriptions(clientId: string, topics: readonly string[]): Promise<void> {
    const session = this.live(clientId);
    if (session) for (const topic of topics) session.subscriptions.delete(topic);
  }

  async subscriptions(clientId: string): Promise<StoredSubscription[]> {
    return [...(this.live(clientId)?.subscriptions.values() ?? [])];
  }

  async enqueue(clientId: string, message: QueuedMessage, packetId?: number): Promise<EnqueueResult> {
    const session = this.session(clientId);
    if (packetId !== undefined) {
      const sent: Entry = { seq: session.nextSeq++, message, packetId, state: OutgoingState.Sent };
      session.outgoing.set(sent.seq, sent);
      session.inFlight.set(packetId, sent);
      return { seq: sent.seq, dropped: 0 };
    }
    const entry: Entry = { seq: session.nextSeq++, message, packetId: 0, state: OutgoingState.Queued };
    session.outgoing.set(entry.seq, entry);
    session.queuedCount++;
    session.queuedBytes += queuedBytes(message);
    let dropped = 0;
    let keptNew = true;
    const { maxQueuedMessages, maxQueuedBytes } = this.settings;
    if (session.queuedCount > maxQueuedMessages || session.queuedBytes > maxQueuedBytes) {
      for (const old of session.outgoing.values()) {
        if (session.queuedCount <= maxQueuedMessages && session.queuedBytes <= maxQueuedBytes) break;
        if (old.state !== OutgoingState.Queued) continue;
        session.outgoing.delete(old.seq);
        session.queuedCount--;
        session.queuedBytes -= queuedBytes(old.message);
        dropped++;
        if (old === entry) keptNew = false;
      }
    }
    return { seq: keptNew ? entry.seq : undefined, dropped };
  }

  async markSent(clientId: string, seq: number, packetId: number): Promise<void> {
    const session = this.live(clientId);
    const entry = session?.outgoing.get(seq);
    if (!session || !entry) return;
    if (entry.state === OutgoingState.Queued) {
      session.queuedCount--;
      session.queuedBytes -= queuedBytes(entry.message);
    } else {
      session.inFlight.delete(entry.packetId);
    }
    entry.packetId = packetId;
    entry.state = OutgoingState.Sent;
    session.inFlight.set(packetId, entry);
  }

  async release(clientId: string, packetId: number): Promise<boolean> {
    const entry = this.live(clientId)?.inFlight.get(packetId);
    if (!entry || entry.message.qos !== 2) return false;
    entry.state = OutgoingState.Released;
    return true;
  }

  async acknowledge(clientId: string, packetId: number): Promise<boolean> {
    const session = this.live(clientId);
    const entry = session?.inFlight.get(packetId);
    if (!session || !entry) return false;
    session.inFlight.delete(packetId);
    session.outgoing.delete(entry.seq);
    return true;
  }

  async outgoing(clientId: string): Promise<OutgoingEntry[]> {
    return this.live(clientId)?.entries() ?? [];
  }

  async incomingStore(clientId: string, packetId: number): Promise<void> {
    this.session(clientId).incoming.add(packetId);
  }

  async incomingRelease(clientId: string, packetId: number): Promise<boolean> {
    return this.live(clientId)?.incoming.delete(packetId) ?? false;
  }

  async incoming(clientId: string): Promise<number[]> {
    return [...(this.live(clientId)?.incoming ?? [])];
  }

  async setWill(clientId: string, will: StoredWill | undefined): Promise<void> {
    this.session(clientId).will = will;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sessions.clear();
  }

  private check(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.Closed, 'inmemory session store is closed');
  }

  // The session if stored and unexpired (an expired one waits for purgeExpired, which reports it).
  private live(clientId: string): StoredSession | undefined {
    this.check();
    const session = this.sessions.get(clientId);
    return session === undefined || expired(session, this.settings.now()) ? undefined : session;
  }

  // The session, made (connected, empty) when missing or expired.
  private session(clientId: string): StoredSession {
    let session = this.live(clientId);
    if (session === undefined) this.sessions.set(clientId, (session = new StoredSession()));
    return session;
  }
}

function expired(session: StoredSession, now: number): boolean {
  return session.expiresAt !== undefined && session.expiresAt <= now;
}
