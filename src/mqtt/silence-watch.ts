/**
 * Deadlines for silent connections (no CONNECT in time, keep-alive exceeded) on one shared timer. A
 * Timeout per connection costs some 150 bytes, which ten thousand idle devices notice; here a watched
 * connection costs a set entry and two small integers. Time is counted in ticks of TICK_MS, so a
 * deadline fires up to one tick late, never early.
 */

/** A connection the watch can close. */
export interface Watched {
  /** Tick of the last sign of life (set by `SilenceWatch.touch`). */
  lastTick: number;
  /** Ticks of silence allowed. */
  allowedTicks: number;
  /** Called once the allowed silence has passed. */
  silenceExceeded(): void;
}

const TICK_MS = 250;

/** One timer for every watched connection of the process. */
export class SilenceWatch {
  #tick = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #watched = new Set<Watched>();

  /** Number of watched items. */
  get size(): number {
    return this.#watched.size;
  }

  /** Starts (or restarts) watching: `item` must show life within `silenceMs`. */
  watch(item: Watched, silenceMs: number): void {
    // +1: the last sign of life may have come just before a tick, which then counts a whole tick.
    item.allowedTicks = Math.ceil(silenceMs / TICK_MS) + 1;
    item.lastTick = this.#tick;
    this.#watched.add(item);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), TICK_MS);
      this.#timer.unref();
    }
  }

  /** A sign of life: the allowed silence starts again. */
  touch(item: Watched): void {
    item.lastTick = this.#tick;
  }

  /** Stops watching `item`. */
  unwatch(item: Watched): void {
    this.#watched.delete(item);
    if (this.#watched.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #sweep(): void {
    const tick = ++this.#tick;
    for (const item of this.#watched) {
      if (tick - item.lastTick >= item.allowedTicks) {
        this.unwatch(item);
        item.silenceExceeded();
      }
    }
  }
}

/** The process-wide watch used by MQTT connections. */
export const silenceWatch = new SilenceWatch();
