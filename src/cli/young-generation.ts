import v8 from 'node:v8';

/** When the young generation may grow, and how often that is checked. */
export interface YoungGenerationOptions {
  /** Messages (in + out) per second from which the broker counts as busy (default 10,000). */
  readonly busyRate?: number;
  /** Milliseconds between checks (default 250). */
  readonly intervalMs?: number;
}

// Node was started with its own young-generation setting (NODE_OPTIONS or a flag): that one stands, and
// it is also how to compare with V8's default sizing (`NODE_OPTIONS=--max-semi-space-size=16`, its default maximum).
const SET_BY_USER = /--(max-|min-)?semi-space-(size|growth-factor)/;
const governed = (): boolean =>
  !SET_BY_USER.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`);

const growthFactor = (factor: number): void => {
  if (governed()) v8.setFlagsFromString(`--semi-space-growth-factor=${factor}`);
};

/** Stops V8's young generation from growing (until `governYoungGeneration` sees the broker busy). */
export function holdYoungGeneration(): void {
  growthFactor(1);
}

/**
 * Lets V8's young generation grow only while the broker is busy. V8 doubles the young generation (up to
 * 2 x 16 MiB) whenever objects keep surviving it, which is what accepting connections does: ten thousand
 * idle clients connecting (or merely loading the broker's modules) leave a young generation of 32 MiB
 * behind for good, paged in as the connections' garbage cycles through it: some 2 KiB of RSS per
 * connection that holds nothing. Busy, a big young generation is worth it (fewer scavenges per message,
 * some 20% of the CPU per message at high rates): so it may grow from `busyRate` messages per second,
 * not below (V8 itself shrinks it at a later scavenge that finds allocation slow). Returns a function that
 * stops the watch.
 */
export function governYoungGeneration(
  messages: () => number,
  options: YoungGenerationOptions = {},
): () => void {
  const busyRate = options.busyRate ?? 10000;
  const intervalMs = options.intervalMs ?? 250;
  if (!governed()) return () => {};
  let busy = false;
  holdYoungGeneration();
  let last = messages();
  const timer = setInterval(() => {
    const now = messages();
    const rate = ((now - last) * 1000) / intervalMs;
    last = now;
    if (rate >= busyRate !== busy) {
      busy = !busy;
      // Busy: the next growth goes straight to V8's maximum (a factor of 16 from the initial 1 MiB), as
      // if it had grown since start-up; doubling from 1 MiB took seconds of extra scavenges.
      growthFactor(busy ? 16 : 1);
    }
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    growthFactor(2);
  };
}
