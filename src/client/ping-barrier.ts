/** The part of MQTT.js a barrier needs: sending a PINGREQ. */
export interface Pinger {
  sendPing(): void;
}

/**
 * Resolves once everything the broker sent before now has been read: a PINGREQ is answered after every
 * packet the broker wrote before it, in order. The broker writes an `emitter/error/` caused by a PUBLISH or
 * UNSUBSCRIBE right after its ack; so a PINGRESP after the ack means no error is still on its way.
 * Callers in one event-loop turn share one ping. Pings MQTT.js sends for keep-alive are counted too,
 * so each PINGRESP settles the ping it answers.
 */
export class PingBarrier {
  // One entry per PINGREQ on the wire, oldest first: the callers waiting for its PINGRESP.
  private readonly inFlight: Array<Array<() => void>> = [];
  private next: Array<() => void> | undefined;
  private sending: Array<() => void> | undefined;

  constructor(private readonly pinger: Pinger) {}

  /** Resolves after the PINGRESP to a PINGREQ sent from now on (or at once when the connection closes). */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      if (this.next) {
        this.next.push(resolve);
        return;
      }
      this.next = [resolve];
      queueMicrotask(() => this.ping());
    });
  }

  /** Every packet MQTT.js writes. */
  packetSent(cmd: string): void {
    if (cmd !== 'pingreq') return;
    this.inFlight.push(this.sending ?? []);
    this.sending = undefined;
  }

  /** Every packet MQTT.js reads. */
  packetReceived(cmd: string): void {
    if (cmd !== 'pingresp') return;
    for (const resolve of this.inFlight.shift() ?? []) resolve();
  }

  /**
   * The connection closed: nothing more will arrive on it, so waiting longer tells nothing. Callers waited
   * for an ack that did come, so they resolve.
   */
  closed(): void {
    const waiting = this.inFlight.splice(0).flat();
    for (const resolve of waiting) resolve();
  }

  private ping(): void {
    const waiting = this.next ?? [];
    this.next = undefined;
    this.sending = waiting;
    this.pinger.sendPing();
    // Offline, MQTT.js queues the PINGREQ instead of writing it: nothing is on the wire to wait for.
    if (this.sending === waiting) {
      this.sending = undefined;
      for (const resolve of waiting) resolve();
    }
  }
}
