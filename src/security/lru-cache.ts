/**
 * A bounded least-recently-used map. Key decryption and channel validation run on every publish and
 * subscribe, but their inputs come from clients, so the caches must not grow with what clients send.
 */

/**
 * A `Map` that keeps at most `capacity` entries, evicting the least recently read or written one. A read
 * moves an entry to the young end only when it has aged past half the capacity: hot entries are then
 * plain `Map` lookups (a delete and re-insert on every read churned the map on the publish path), and
 * whatever is evicted is still older than at least half the entries.
 */
export class LruCache<K, V> {
  readonly #entries = new Map<K, { value: V; stamp: number }>();
  readonly #half: number;
  #clock = 0;

  /** A cache of at most `capacity` entries (at least 1). */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be >= 1, got ${capacity}`);
    this.#half = capacity / 2;
  }

  /** The number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value for `key`, refreshing its recency; `undefined` when absent. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.stamp < this.#clock - this.#half) {
      // A Map iterates in insertion order: re-inserting moves the entry to the young end.
      this.#entries.delete(key);
      entry.stamp = ++this.#clock;
      this.#entries.set(key, entry);
    }
    return entry.value;
  }

  /** Stores a value (which must not be `undefined`), evicting the oldest entry when full. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, stamp: ++this.#clock });
  }

  /** Removes one entry. */
  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
  }
}
