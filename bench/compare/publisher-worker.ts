// A load-generator process: connects its share of a scenario's publishers to the broker, then sends
// batches of QoS 0 PUBLISH packets as the parent grants credit. The parent grants only what keeps a
// bounded number of messages in flight end to end (sent, not yet received by the subscribers): a closed
// loop, so a slow broker is measured at its own pace instead of piling a backlog into kernel buffers.
import { publishFrame, RawClient, type ProtocolLevel } from './raw-client.js';

/** What the parent sends first: where to connect and, per publisher, the topics its batch cycles over. */
export interface PublisherJob {
  readonly port: number;
  readonly prefix: string;
  readonly publishers: readonly (readonly string[])[];
  readonly payloadSize: number;
  readonly batch: number;
  /** MQTT protocol level of the publishers (4: 3.1.1, 5). */
  readonly protocolVersion: ProtocolLevel;
}

/** Messages from the parent after the job: credit to send, then the end of the run. */
export type PublisherCommand = { readonly credit: number } | { readonly stop: true };

/** What the worker reports: `ready` once connected (with its batch size), then the final counts. */
export type PublisherMessage =
  { readonly ready: true; readonly batchSizes: readonly number[] } | PublisherReport;

/** What the worker reports back when done. */
export interface PublisherReport {
  readonly sent: number;
  /** This process's CPU time during the run, microseconds. */
  readonly cpu: number;
}

const send = (message: PublisherMessage): void => void process.send?.(message);

process.once('message', (job: PublisherJob) => {
  void (async () => {
    const payload = Buffer.alloc(job.payloadSize, 0x61);
    const clients: RawClient[] = [];
    for (let i = 0; i < job.publishers.length; i++)
      clients.push(
        await RawClient.connect(job.port, `${job.prefix}${i}`, { protocolVersion: job.protocolVersion }),
      );
    // A batch covers every topic of its publisher at least once.
    const sizes = job.publishers.map((topics) => Math.max(job.batch, topics.length));
    const batches = job.publishers.map((topics, p) =>
      Buffer.concat(
        Array.from({ length: sizes[p] }, (_, i) =>
          publishFrame(topics[i % topics.length], payload, 0, job.protocolVersion),
        ),
      ),
    );
    let credit = 0;
    let sent = 0;
    let stopped = false;
    let next = 0; // the publisher whose turn it is: credit is spent round robin
    let cpu0: NodeJS.CpuUsage | undefined;
    let blocked = 0; // sockets waiting for 'drain'
    const pump = (): void => {
      // Spend the credit in whole batches, one publisher after the other; a socket that pushes back
      // waits for 'drain' and the others go on.
      for (let tries = 0; tries < clients.length && credit > 0; tries++) {
        const p = next;
        next = (next + 1) % clients.length;
        const client = clients[p];
        if (credit < sizes[p] || client.socket.destroyed || client.blocked) continue;
        credit -= sizes[p];
        sent += sizes[p];
        tries = -1; // progress: give every publisher another turn
        const wait = client.write(batches[p]);
        if (wait) {
          client.blocked = true;
          blocked++;
          void wait.then(() => {
            client.blocked = false;
            blocked--;
            pump();
          });
        }
      }
    };
    process.on('message', (command: PublisherCommand) => {
      if ('credit' in command) {
        cpu0 ??= process.cpuUsage();
        if (stopped) return;
        credit += command.credit;
        pump();
        return;
      }
      stopped = true;
      void (async () => {
        // Bytes still queued in this process would die with it: let them reach the kernel (bounded).
        for (let i = 0; i < 200 && (blocked > 0 || clients.some((c) => c.socket.writableLength > 0)); i++)
          await new Promise((resolve) => setTimeout(resolve, 50));
        const cpu = process.cpuUsage(cpu0);
        send({ sent, cpu: cpu.user + cpu.system });
        // Closing right away could cut what is still queued in the sockets: the parent kills us.
      })();
    });
    send({ ready: true, batchSizes: sizes });
  })();
});
