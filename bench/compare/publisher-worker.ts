// A load-generator process: connects its share of a scenario's publishers to the broker, then pumps
// batches of QoS 0 PUBLISH packets until the deadline, pausing only on socket back-pressure.
import mqttPacket from 'mqtt-packet';
import { RawClient } from './raw-client.js';

/** What the parent sends first: where to connect and, per publisher, the topics its batch cycles over. */
export interface PublisherJob {
  readonly port: number;
  readonly prefix: string;
  readonly publishers: readonly (readonly string[])[];
  readonly payloadSize: number;
  readonly batch: number;
}

/** What the worker reports back when done. */
export interface PublisherReport {
  readonly sent: number;
  /** This process's CPU time during the run, microseconds. */
  readonly cpu: number;
}

const send = (message: unknown): void => void process.send?.(message);
const until = (deadline: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())));

process.once('message', (job: PublisherJob) => {
  void (async () => {
    const payload = Buffer.alloc(job.payloadSize, 0x61);
    const clients: RawClient[] = [];
    for (let i = 0; i < job.publishers.length; i++)
      clients.push(await RawClient.connect(job.port, `${job.prefix}${i}`));
    // A batch covers every topic of its publisher at least once.
    const sizes = job.publishers.map((topics) => Math.max(job.batch, topics.length));
    const batches = job.publishers.map((topics, p) =>
      Buffer.concat(
        Array.from({ length: sizes[p] }, (_, i) =>
          mqttPacket.generate({
            cmd: 'publish',
            topic: topics[i % topics.length],
            payload,
            qos: 0,
            retain: false,
            dup: false,
          }),
        ),
      ),
    );
    send({ ready: true });
    process.once('message', ({ deadline }: { deadline: number }) => {
      void (async () => {
        const cpu0 = process.cpuUsage();
        let sent = 0;
        await Promise.all(
          clients.map(async (client, i) => {
            while (Date.now() < deadline && !client.socket.destroyed) {
              const wait = client.write(batches[i]);
              sent += sizes[i];
              // A broker that stops reading must not hang the run: the deadline ends the wait too.
              if (wait) await Promise.race([wait, until(deadline)]);
              else await new Promise((resolve) => setImmediate(resolve));
            }
          }),
        );
        // Bytes still queued in this process would die with it: let them reach the kernel first (bounded).
        for (
          let i = 0;
          i < 200 && clients.some((c) => c.socket.writableLength > 0 && !c.socket.destroyed);
          i++
        )
          await new Promise((resolve) => setTimeout(resolve, 50));
        const cpu = process.cpuUsage(cpu0);
        const report: PublisherReport = { sent, cpu: cpu.user + cpu.system };
        send(report);
        // Closing right away could cut what is still queued in the sockets: the parent kills us.
      })();
    });
  })();
});
