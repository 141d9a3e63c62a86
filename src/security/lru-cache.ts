/**
 * A bounded least-recently-used map. Key decryption and channel validation run on every publish and
 * subscribe, but their inputs come from clients, so the caches must not grow with what clients send.
 */

/** A `Map` that keeps at most `capacity` entries, evicting the least recently read or written one. */
export class LruCache<K, V> {
  readonly #entries = new Map<K, V>();

  /** A cache of at most `capacity` entries (at least 1). */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be >= 1, got ${capacity}`);
  }

  /** The number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value for `key`, refreshing its recency; `undefined` when absent. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    // A Map iterates in insertion order: re-inserting moves the entry to the young end.
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /** Stores a value (which must not be `undefined`), evicting the oldest entry when full. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value);
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
