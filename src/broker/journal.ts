/**
 * Writes a persistent session's changes through to its session store. Calls go to the store as they are
 * made, without waiting for the ones before to answer (the store applies a session's calls in the order
 * made): a burst of queued messages shares the store's batches (one SQLite commit, one Redis round trip)
 * instead of paying one each. The one dependency, a `markSent` needing the `seq` its entry's `enqueue`
 * returns, holds that call and the later ones until the answer. The broker does not wait for it on the
 * delivery path, with one exception: a QoS > 0 PUBACK waits for the messages its publish queued
 * (`collectQueuedWrites`), so an acknowledged message survives a crash with a durable store.
 */

import type { QoS } from '../mqtt/index.js';
import type { QueuedMessage, SessionStore, StoredSubscription, StoredWill } from '../storage/index.js';
import type { OutboxEntry } from './outbox.js';

// Queue writes started while a publish is handled, for its acknowledgement to wait on (see below).
let collected: Promise<void>[] | undefined;

/**
 * Runs `publish` and returns its result with the store writes of the messages it queued for persistent
 * sessions: the publisher's acknowledgement waits for them (none: an empty list, nothing allocated).
 */
export function collectQueuedWrites<T>(publish: () => T): { result: T; writes: Promise<void>[] | undefined } {
  const outer = collected;
  collected = undefined;
  try {
    const result = publish();
    return { result, writes: collected };
  } finally {
    collected = outer;
  }
}

/** The write-through of one persistent session. */
export class SessionJournal {
  // Settles once the last call made has (its predecessors took effect before it: the store keeps a
  // session's calls in order).
  private tail: Promise<void> = Promise.resolve();
  // Calls held back, in order, behind a `markSent` whose entry's `enqueue` has not answered (its `seq`
  // is unknown); undefined while none is.
  private held: Held[] | undefined;
  // Entries whose `enqueue` has not answered yet, with its settling; made on first use.
  private unanswered: Map<OutboxEntry, Promise<void>> | undefined;
  private readonly report = (error: unknown): void => this.onError(error);

  constructor(
    private readonly store: SessionStore,
    readonly clientId: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Resolves once every change made so far is in the store (or failed and was reported). */
  flush(): Promise<void> {
    return this.tail;
  }

  /** The client connected: the session exists and does not expire while connected. */
  open(): void {
    // Not `store.open`, which also reads the whole session back (every queued message): the broker holds
    // it in memory already. Clearing the expiry makes the session, or replaces an expired one, the same.
    this.run(() => this.store.setExpiry(this.clientId, undefined));
  }

  setExpiry(expiresAt: number | undefined): void {
    this.run(() => this.store.setExpiry(this.clientId, expiresAt));
  }

  delete(): void {
    this.run(() => this.store.delete(this.clientId));
  }

  subscribe(topic: string, qos: QoS, options?: StoredSubscription['options']): void {
    const subscription: StoredSubscription = options ? { topic, qos, options } : { topic, qos };
    this.run(() => this.store.addSubscriptions(this.clientId, [subscription]));
  }

  unsubscribe(topic: string): void {
    this.run(() => this.store.removeSubscriptions(this.clientId, [topic]));
  }

  /**
   * A message for the client: queued, or with `packetId` already sent (stored in flight in the same
   * call). The publisher's acknowledgement waits for it (`collectQueuedWrites`).
   */
  enqueue(entry: OutboxEntry, packetId?: number): void {
    const { delivery, qos } = entry;
    // The delivery is the message when it goes at its own QoS (no copy: an in-memory store keeps it).
    const message: QueuedMessage =
      delivery.qos === qos
        ? (delivery as QueuedMessage)
        : {
            topic: delivery.topic,
            payload: delivery.payload,
            qos,
            retain: delivery.retain,
            storedId: delivery.storedId,
            ...(delivery.properties ? { properties: delivery.properties } : {}),
            ...(delivery.expiresAt !== 0 ? { expiresAt: delivery.expiresAt } : {}),
          };
    const done = this.run(
      () => this.store.enqueue(this.clientId, message, packetId),
      (result) => {
        entry.seq = result.seq ?? -1;
        this.unanswered?.delete(entry);
      },
      () => {
        entry.seq = -1;
        this.unanswered?.delete(entry);
      },
    );
    // Only a queued entry's seq is needed later (by `sent`).
    if (packetId === undefined && entry.seq === 0) (this.unanswered ??= new Map()).set(entry, done);
    (collected ??= []).push(done);
  }

  /** A queued entry was sent with `packetId`. */
  sent(entry: OutboxEntry, packetId: number): void {
    this.run(
      () => (entry.seq > 0 ? this.store.markSent(this.clientId, entry.seq, packetId, entry.qos) : undefined),
      undefined,
      undefined,
      entry.seq === 0 ? entry : undefined,
    );
  }

  release(packetId: number): void {
    this.run(() => this.store.release(this.clientId, packetId));
  }

  acknowledge(packetId: number): void {
    this.run(() => this.store.acknowledge(this.clientId, packetId));
  }

  incomingStore(packetId: number): void {
    this.run(() => this.store.incomingStore(this.clientId, packetId));
  }

  incomingRelease(packetId: number): void {
    this.run(() => this.store.incomingRelease(this.clientId, packetId));
  }

  setWill(will: StoredWill | undefined): void {
    this.run(() => this.store.setWill(this.clientId, will));
  }

  // Makes the store call now (the store keeps a session's calls in order, answered or not), or holds it
  // back behind a call that waits for an answer (`needs`: the entry whose `seq` it needs). The returned
  // promise settles with the call and never rejects: a failure is reported.
  private run<T>(
    call: () => Promise<T> | undefined,
    onDone?: (result: T) => void,
    onFailed?: () => void,
    needs?: OutboxEntry,
  ): Promise<void> {
    const settle = (issued: Promise<T> | undefined): Promise<void> =>
      issued === undefined
        ? Promise.resolve()
        : issued.then(
            (result) => onDone?.(result),
            (error: unknown) => {
              onFailed?.();
              this.report(error);
            },
          );
    let done: Promise<void>;
    if (this.held === undefined && (needs === undefined || this.unanswered?.has(needs) !== true)) {
      done = settle(call());
    } else {
      const held = (this.held ??= []);
      done = new Promise<void>((resolve) => held.push({ needs, issue: () => resolve(settle(call())) }));
      if (held.length === 1) this.issueHeld();
    }
    this.tail = done;
    return done;
  }

  // Issues held calls in order until one needs an answer still to come; resumes when it comes.
  private issueHeld(): void {
    const held = this.held;
    if (held === undefined) return;
    let next = 0;
    for (; next < held.length; next++) {
      const { needs } = held[next];
      const answer = needs === undefined ? undefined : this.unanswered?.get(needs);
      if (answer !== undefined) {
        held.splice(0, next);
        void answer.then(() => this.issueHeld());
        return;
      }
      held[next].issue();
    }
    this.held = undefined;
  }
}

interface Held {
  readonly needs: OutboxEntry | undefined;
  readonly issue: () => void;
}
