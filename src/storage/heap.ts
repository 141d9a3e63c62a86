/** A binary heap ordered by a comparator: the smallest element (by `compare`) is at the top. */

/** A priority queue; `compare(a, b) < 0` puts `a` nearer the top than `b`. */
export class Heap<T> {
  private items: T[];

  constructor(
    private readonly compare: (a: T, b: T) => number,
    items: T[] = [],
  ) {
    this.items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Number of elements. */
  get size(): number {
    return this.items.length;
  }

  /** The top element without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds an element. */
  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  /** Removes and returns the top element. */
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Replaces the top element by `item` (cheaper than pop + push). */
  replaceTop(item: T): void {
    this.items[0] = item;
    this.down(0);
  }

  /** Keeps only the elements `keep` accepts, then restores heap order. */
  filter(keep: (item: T) => boolean): void {
    this.items = this.items.filter(keep);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private up(index: number): void {
    const items = this.items;
    const item = items[index];
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.compare(item, items[parent]) >= 0) break;
      items[index] = items[parent];
      index = parent;
    }
    items[index] = item;
  }

  private down(index: number): void {
    const items = this.items;
    const length = items.length;
    const item = items[index];
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && this.compare(items[child + 1], items[child]) < 0) child++;
      if (this.compare(items[child], item) >= 0) break;
      items[index] = items[child];
      index = child;
    }
    items[index] = item;
  }
}
