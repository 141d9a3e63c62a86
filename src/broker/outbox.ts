/**
 * A session's QoS 1 and 2 deliveries to its client: the in-flight window (sent, not yet acknowledged),
 * the queue behind it (window full, or the client away), per-session packet ids, and the PUBACK / PUBREC /
 * PUBREL / PUBCOMP exchange. Made on a session's first QoS > 0 delivery: most Emitter sessions never need it.
 */

import type { SubscriptionOptions } from '../channel/index.js';
import type { Delivery, MqttConnection } from '../mqtt/index.js';
import { OutgoingState } from '../storage/index.js';
import type { SessionJournal } from './journal.js';

/** Bounds of one session's outgoing messages. */
export interface OutboxLimits {
  /** Most QoS > 0 deliveries sent and not yet acknowledged (Mosquitto's `max_inflight_messages`). */
  readonly maxInflight: number;
  /** Most messages waiting behind the window; past it the oldest waiting one is dropped. */
  readonly maxQueuedMessages: number;
  /** Most bytes (topic + payload) waiting behind the window; past it the oldest are dropped. */
  readonly maxQueuedBytes: number;
}

/** What the outbox needs of its session. */
export interface OutboxOwner {
  /** True while a connection serves the session. */
  readonly online: boolean;
  readonly connection: MqttConnection;
  readonly journal: SessionJournal | undefined;
  /** MQTT 5: the client's Receive Maximum, which caps our window [MQTT-3.3.4-9]. */
  readonly v5: { readonly receiveMaximum: number } | undefined;
  /** A waiting message was dropped to stay within the bounds. */
  queueDropped(): void;
  /** A message was not sent: above the client's Maximum Packet Size (MQTT 5). */
  tooLargeDropped(): void;
  /** MQTT 5 server-to-client topic alias for a topic about to be sent (see `ClientSession.aliasOf`). */
  aliasOf(topic: string): number;
  /** A PUBLISH that set a topic alias was written. */
  aliasSent(topic: string, alias: number): void;
}

/** One message for the client; `seq` is its place in the session store (0 until stored, -1 if dropped there). */
export interface OutboxEntry {
  readonly delivery: Delivery;
  readonly qos: 1 | 2;
  /** MQTT 5: the RETAIN flag and Subscription Identifier of the subscription it is for, when it has them. */
  readonly retain?: boolean;
  readonly identifier?: number;
  packetId: number;
  state: OutgoingState;
  seq: number;
}

/** Outgoing QoS > 0 state of one session. */
export class Outbox {
  /** Sent and unacknowledged, by packet id, in the order they were (first) sent. */
  private readonly inflight = new Map<number, OutboxEntry>();
  private queue: OutboxEntry[] = [];
  private head = 0;
  private queuedBytes = 0;
  private lastId = 0;

  constructor(private readonly limits: OutboxLimits) {}

  /** Messages in flight plus waiting. */
  get size(): number {
    return this.inflight.size + this.queue.length - this.head;
  }

  /** Messages waiting behind the window. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Adds a delivery: sent at once when the client is here and the window has room, queued otherwise. */
  push(owner: OutboxOwner, delivery: Delivery, qos: 1 | 2, options?: SubscriptionOptions): void {
    const entry: OutboxEntry =
      options === undefined || owner.v5 === undefined
        ? { delivery, qos, packetId: 0, state: OutgoingState.Queued, seq: 0 }
        : {
            delivery,
            qos,
            packetId: 0,
            state: OutgoingState.Queued,
            seq: 0,
            retain: options.retainAsPublished === true ? delivery.publishedRetain : delivery.retain,
            identifier: options.identifier,
          };
    if (owner.online && this.waiting === 0 && this.inflight.size < this.window(owner)) {
      this.send(owner, entry, true);
      return;
    }
    owner.journal?.enqueue(entry);
    this.queue.push(entry);
    this.queuedBytes += entryBytes(entry);
    this.enforceBounds(owner);
  }

  /** Puts back an entry read from the session store (a restart): in flight when it has a packet id. */
  restore(entry: OutboxEntry): void {
    if (entry.state === OutgoingState.Queued) {
      this.queue.push(entry);
      this.queuedBytes += entryBytes(entry);
    } else {
      this.inflight.set(entry.packetId, entry);
    }
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): the exchange for `packetId` is over; the window moves on. */
  acknowledge(owner: OutboxOwner, packetId: number, expected: 1 | 2): void {
    const entry = this.inflight.get(packetId);
    if (entry === undefined || entry.qos !== expected) return;
    if (expected === 2 && entry.state !== OutgoingState.Released) return;
    this.inflight.delete(packetId);
    owner.journal?.acknowledge(packetId);
    if (this.head === this.queue.length) return;
    this.pump(owner);
    // The window refilled: what it sent leaves after this read (with the rest of the read's refills), so
    // the client's next acknowledgements come back while the broker is still busy with other sockets.
    owner.connection.flushAfterRead();
  }

  /** PUBREC: the client has the QoS 2 message; answer PUBREL (also for an id we no longer know). */
  received(owner: OutboxOwner, packetId: number): void {
    const entry = this.inflight.get(packetId);
    if (entry !== undefined && entry.qos === 2 && entry.state !== OutgoingState.Released) {
      entry.state = OutgoingState.Released;
      owner.journal?.release(packetId);
    }
    owner.connection.pubrel({ messageId: packetId });
  }

  /**
   * The client is back (a resumed session): re-sends every unacknowledged PUBLISH with DUP set and every
   * pending PUBREL, in the order first sent, then fills the window from the queue.
   */
  resume(owner: OutboxOwner): void {
    const connection = owner.connection;
    for (const entry of this.inflight.values()) {
      if (entry.state === OutgoingState.Released) connection.pubrel({ messageId: entry.packetId });
      else {
        const alias = owner.aliasOf(entry.delivery.topic);
        connection.writeEncoded(
          entry.delivery.withPacketId(
            entry.qos,
            entry.packetId,
            true,
            connection.protocolVersion,
            entry.retain,
            entry.identifier,
            alias,
          ),
        );
        owner.aliasSent(entry.delivery.topic, alias);
      }
    }
    this.pump(owner);
  }

  /** Sends waiting messages while the client is here and the window has room. */
  pump(owner: OutboxOwner): void {
    const window = this.window(owner);
    while (owner.online && this.head < this.queue.length && this.inflight.size < window) {
      const entry = this.queue[this.head++];
      this.queuedBytes -= entryBytes(entry);
      this.send(owner, entry);
    }
    this.compact();
  }

  // In flight at most: ours, or fewer when an MQTT 5 client allows fewer.
  private window(owner: OutboxOwner): number {
    const theirs = owner.v5?.receiveMaximum;
    return theirs !== undefined && theirs < this.limits.maxInflight ? theirs : this.limits.maxInflight;
  }

  // `fresh`: the entry was never queued; it is stored in flight with its packet id in one store call.
  private send(owner: OutboxOwner, entry: OutboxEntry, fresh = false): void {
    const packetId = this.nextPacketId();
    entry.packetId = packetId;
    entry.state = OutgoingState.Sent;
    const connection = owner.connection;
    const alias = owner.aliasOf(entry.delivery.topic);
    // Sent at once, the delivery's shared form serves its other recipients; sent from the queue, it is
    // encoded for this send only.
    const packet = fresh
      ? entry.delivery.withPacketId(
          entry.qos,
          packetId,
          false,
          connection.protocolVersion,
          entry.retain,
          entry.identifier,
          alias,
        )
      : entry.delivery.encodeOnce(
          entry.qos,
          packetId,
          connection.protocolVersion,
          entry.retain,
          entry.identifier,
          alias,
        );
    if (fresh) owner.journal?.enqueue(entry, packetId);
    else owner.journal?.sent(entry, packetId);
    const expired = entry.delivery.expired;
    if (expired || !connection.fits(packet)) {
      // Expired while queued [MQTT-3.3.2-5], or too large for the client [MQTT-3.1.2-25]: dropped as if
      // sent and acknowledged.
      owner.journal?.acknowledge(packetId);
      if (!expired) owner.tooLargeDropped();
      return;
    }
    this.inflight.set(packetId, entry);
    connection.writeEncoded(packet);
    owner.aliasSent(entry.delivery.topic, alias);
  }

  // Packet ids are per session, 1..65535, never one still in flight.
  private nextPacketId(): number {
    do {
      this.lastId = this.lastId >= 0xffff ? 1 : this.lastId + 1;
    } while (this.inflight.has(this.lastId));
    return this.lastId;
  }

  // Past a bound the oldest waiting messages go (the store applies the same rule to its copy).
  private enforceBounds(owner: OutboxOwner): void {
    const { maxQueuedMessages, maxQueuedBytes } = this.limits;
    while (
      this.head < this.queue.length &&
      (this.queue.length - this.head > maxQueuedMessages || this.queuedBytes > maxQueuedBytes)
    ) {
      const dropped = this.queue[this.head++];
      this.queuedBytes -= entryBytes(dropped);
      owner.queueDropped();
    }
    this.compact();
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

function entryBytes(entry: OutboxEntry): number {
  return Buffer.byteLength(entry.delivery.topic) + entry.delivery.payload.length;
}
