/** A SUBSCRIBE or UNSUBSCRIBE as MQTT.js hands it to `packetsend`, just before writing it. */
export interface FilterPacket {
  cmd: string;
  subscriptions?: Array<{ topic: string }>;
  unsubscriptions?: string[];
}

/**
 * MQTT.js refuses filters where `#` is not the whole last level, which is how Emitter writes wildcards
 * (`KEY/a/#/`, `KEY/a/#/?last=5`). Such a filter goes through MQTT.js under a stand-in name and is swapped
 * back in the packet on `packetsend`, which MQTT.js emits right before it encodes the packet.
 */
export class FilterStandIns {
  private readonly filters = new Map<string, string>();
  private count = 0;

  /** The topic to give MQTT.js for `filter`: itself when MQTT.js takes it, else a stand-in. */
  standIn(filter: string): string {
    if (mqttAccepts(filter)) return filter;
    const name = `emitter-ts/stand-in/${++this.count}`;
    this.filters.set(name, filter);
    return name;
  }

  /** Puts the real filters back into a packet about to be written. */
  restore(packet: FilterPacket): void {
    for (const subscription of packet.subscriptions ?? []) subscription.topic = this.take(subscription.topic);
    const unsubscriptions = packet.unsubscriptions;
    if (unsubscriptions)
      for (let i = 0; i < unsubscriptions.length; i++) unsubscriptions[i] = this.take(unsubscriptions[i]);
  }

  /** Forgets stand-ins never written (the client disconnected). */
  clear(): void {
    this.filters.clear();
  }

  private take(topic: string): string {
    const filter = this.filters.get(topic);
    if (filter === undefined) return topic;
    this.filters.delete(topic);
    return filter;
  }
}

// MQTT.js's own rule (validations.js): `+` only as a whole level, `#` only as the whole last level.
function mqttAccepts(filter: string): boolean {
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level === '+') continue;
    if (level === '#') return i === levels.length - 1;
    if (level.includes('+') || level.includes('#')) return false;
  }
  return true;
}
