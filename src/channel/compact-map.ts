/**
 * A map that keeps its first entry in fields and makes a Map only for a second. Most holders (a trie
 * node, a session's subscriptions) have a single entry, and even a nearly empty Map costs some 250
 * bytes: memory per idle connection. Values must not be `undefined`.
 */
export class CompactMap<K, V> {
  private oneKey: K | undefined;
  private one: V | undefined;
  private many: Map<K, V> | undefined;

  /** Number of entries. */
  get size(): number {
    return this.many !== undefined ? this.many.size : this.one !== undefined ? 1 : 0;
  }

  /** The value for `key`, if any. */
  get(key: K): V | undefined {
    if (this.many !== undefined) return this.many.get(key);
    return this.one !== undefined && this.oneKey === key ? this.one : undefined;
  }

  /** True when `key` has a value. */
  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Adds or replaces the value for `key`. */
  set(key: K, value: V): void {
    if (this.many !== undefined) {
      this.many.set(key, value);
    } else if (this.one === undefined || this.oneKey === key) {
      this.oneKey = key;
      this.one = value;
    } else {
      this.many = new Map([
        [this.oneKey as K, this.one],
        [key, value],
      ]);
      this.oneKey = undefined;
      this.one = undefined;
    }
  }

  /** Removes the value for `key`; false when there was none. */
  delete(key: K): boolean {
    if (this.many !== undefined) {
      const deleted = this.many.delete(key);
      if (this.many.size === 0) this.many = undefined;
      return deleted;
    }
    if (this.one === undefined || this.oneKey !== key) return false;
    this.oneKey = undefined;
    this.one = undefined;
    return true;
  }

  /** The keys, as a copy (safe to delete while going through it). */
  keys(): K[] {
    if (this.many !== undefined) return [...this.many.keys()];
    return this.one !== undefined ? [this.oneKey as K] : [];
  }

  /**
   * Sets every entry into `out`, except where `out` already has the key and `replaces(kept, value)` is
   * false (how the trie gathers a match, keeping a subscriber's highest QoS).
   */
  mergeInto(out: Map<K, V>, replaces: (kept: V, value: V) => boolean): void {
    if (this.many !== undefined) {
      for (const [key, value] of this.many) mergeOne(out, key, value, replaces);
    } else if (this.one !== undefined) {
      mergeOne(out, this.oneKey as K, this.one, replaces);
    }
  }

  /** Sets every entry into `out` (how the trie gathers a match without allocating). */
  copyInto(out: Map<K, V>): void {
    if (this.many !== undefined) for (const [key, value] of this.many) out.set(key, value);
    else if (this.one !== undefined) out.set(this.oneKey as K, this.one);
  }
}

function mergeOne<K, V>(out: Map<K, V>, key: K, value: V, replaces: (kept: V, value: V) => boolean): void {
  const kept = out.get(key);
  if (kept === undefined || replaces(kept, value)) out.set(key, value);
}
