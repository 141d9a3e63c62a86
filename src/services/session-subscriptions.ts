import type { Ssid } from '../channel/index.js';

/** One subscription held by a session, keyed by its SSID. */
export interface SessionSubscription {
  readonly ssid: Ssid;
  /** The channel as subscribed, without key or options (`a/b/`, `$share/g/a/`). */
  readonly channel: string;
}

/**
 * A session's subscriptions by SSID key. Most clients hold one, so the first is kept in fields and a
 * Map (some 250 bytes even when nearly empty) is made only for a second: memory per idle connection.
 */
export class SessionSubscriptions {
  private oneId: string | undefined;
  private one: SessionSubscription | undefined;
  private many: Map<string, SessionSubscription> | undefined;

  /** Number of subscriptions. */
  get size(): number {
    return this.many !== undefined ? this.many.size : this.one !== undefined ? 1 : 0;
  }

  /** The subscription with this SSID key, if any. */
  get(id: string): SessionSubscription | undefined {
    if (this.many !== undefined) return this.many.get(id);
    return this.oneId === id ? this.one : undefined;
  }

  /** True when a subscription has this SSID key. */
  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds or replaces the subscription with this SSID key. */
  set(id: string, subscription: SessionSubscription): void {
    if (this.many !== undefined) {
      this.many.set(id, subscription);
    } else if (this.one === undefined || this.oneId === id) {
      this.oneId = id;
      this.one = subscription;
    } else {
      this.many = new Map([
        [this.oneId as string, this.one],
        [id, subscription],
      ]);
      this.oneId = undefined;
      this.one = undefined;
    }
  }

  /** Removes the subscription with this SSID key; false when there was none. */
  delete(id: string): boolean {
    if (this.many !== undefined) {
      const deleted = this.many.delete(id);
      if (this.many.size === 0) this.many = undefined;
      return deleted;
    }
    if (this.one === undefined || this.oneId !== id) return false;
    this.oneId = undefined;
    this.one = undefined;
    return true;
  }

  /** The SSID keys, as a copy (safe to delete while going through it). */
  ids(): string[] {
    if (this.many !== undefined) return [...this.many.keys()];
    return this.oneId !== undefined ? [this.oneId] : [];
  }
}
