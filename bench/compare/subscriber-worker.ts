// A subscriber in a process of its own (so publishers pumping in the parent cannot starve its acks):
// connects, subscribes at the QoS asked, acknowledges QoS 1 deliveries (PUBACK) and QoS 2 ones (PUBREC, then
// PUBCOMP for the broker's PUBREL), and reports how many it received and its CPU whenever the parent asks.
import { RawClient, type ProtocolLevel } from './raw-client.js';

/** What the parent sends first. */
export interface SubscriberJob {
  readonly port: number;
  readonly clientId: string;
  readonly topic: string;
  readonly qos: 0 | 1 | 2;
  readonly protocolVersion?: ProtocolLevel;
}

/** The worker's answer to 'count'. */
export interface SubscriberCount {
  readonly received: number;
  /** This process's CPU time so far, microseconds. */
  readonly cpu: number;
}

process.once('message', (job: SubscriberJob) => {
  void (async () => {
    const client = await RawClient.connect(job.port, job.clientId, { protocolVersion: job.protocolVersion });
    client.ackQos1 = job.qos === 1;
    client.ackQos2 = job.qos === 2;
    await client.subscribe(job.topic, job.qos);
    process.send?.({ ready: true });
    process.on('message', () => {
      const cpu = process.cpuUsage();
      process.send?.({ received: client.received, cpu: cpu.user + cpu.system } satisfies SubscriberCount);
    });
  })();
});
