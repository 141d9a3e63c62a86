// A subscriber in a process of its own (so publishers pumping in the parent cannot starve its acks):
// connects, subscribes at the QoS asked, acknowledges QoS 1 deliveries, and reports how many it received
// whenever the parent asks.
import { RawClient } from './raw-client.js';

/** What the parent sends first. */
export interface SubscriberJob {
  readonly port: number;
  readonly clientId: string;
  readonly topic: string;
  readonly qos: 0 | 1;
}

process.once('message', (job: SubscriberJob) => {
  void (async () => {
    const client = await RawClient.connect(job.port, job.clientId);
    client.ackQos1 = job.qos === 1;
    await client.subscribe(job.topic, job.qos);
    process.send?.({ ready: true });
    process.on('message', () => process.send?.({ received: client.received }));
  })();
});
