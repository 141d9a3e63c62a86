// A process holding many subscribers that drains their sockets every `intervalMs` instead of reading each
// delivery as it comes (as the independent C harness does). Reading every socket as soon as it turns
// readable costs a wake-up and a read per delivery when each subscriber gets a trickle (wildcard routing):
// the generator then spends about what the broker does per message and caps the figure. Here the process
// sleeps (its event loop blocked), the kernel buffers what arrives, and the next poll phase reads each
// socket once, with everything it holds. Reports its running delivery count after every drain.
import { RawClient } from './raw-client.js';

/** What the parent sends first. */
export interface DrainSubscriberJob {
  readonly port: number;
  readonly prefix: string;
  /** One subscriber per topic. */
  readonly topics: readonly string[];
  readonly intervalMs: number;
}

/** What the worker sends: `ready` once every subscription is acknowledged, then counts after each drain. */
export type DrainSubscriberMessage = { readonly ready: true } | { readonly received: number };

const send = (message: DrainSubscriberMessage): void => void process.send?.(message);

process.once('message', (job: DrainSubscriberJob) => {
  void (async () => {
    const clients: RawClient[] = [];
    for (let i = 0; i < job.topics.length; i++) {
      const client = await RawClient.connect(job.port, `${job.prefix}${i}`);
      await client.subscribe(job.topics[i]);
      clients.push(client);
    }
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    let reported = 0;
    let next = Date.now() + job.intervalMs;
    // Runs in the check phase, right after the poll phase that read whatever arrived during the last
    // sleep: report, then sleep until the next period. `setImmediate` keeps the next poll from blocking.
    const drain = (): void => {
      let received = 0;
      for (const client of clients) received += client.received;
      if (received !== reported) send({ received: (reported = received) });
      const wait = next - Date.now();
      if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
      next = Math.max(next + job.intervalMs, Date.now());
      setImmediate(drain);
    };
    send({ ready: true });
    setImmediate(drain);
  })();
});
