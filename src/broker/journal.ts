/**
 * Writes a persistent session's changes through to its session store, one after another (a later call
 * may need what an earlier one returned, such as an entry's `seq`). The broker does not wait for it on the
 * delivery path, with one exception: a QoS > 0 PUBACK waits for the messages its publish queued
 * (`collectQueuedWrites`), so an acknowledged message survives a crash with a durable store.
 */

import type { QoS } from '../mqtt/index.js';
import type { SessionStore, StoredSubscription, StoredWill } from '../storage/index.js';
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
  private tail: Promise<void> = Promise.resolve();

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
    this.run(() => this.store.open(this.clientId));
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

  enqueue(entry: OutboxEntry): void {
    const { delivery, qos } = entry;
    this.run(async () => {
      const result = await this.store.enqueue(this.clientId, {
        topic: delivery.topic,
        payload: delivery.payload,
        qos,
        retain: delivery.retain,
        storedId: delivery.storedId,
        ...(delivery.properties ? { properties: delivery.properties } : {}),
        ...(delivery.expiresAt !== 0 ? { expiresAt: delivery.expiresAt } : {}),
      });
      entry.seq = result.seq ?? -1;
    });
    (collected ??= []).push(this.tail);
  }

  sent(entry: OutboxEntry, packetId: number): void {
    this.run(async () => {
      if (entry.seq > 0) await this.store.markSent(this.clientId, entry.seq, packetId);
    });
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

  private run(operation: () => Promise<unknown>): void {
    this.tail = this.tail.then(operation).then(
      () => undefined,
      (error: unknown) => this.onError(error),
    );
  }
}
