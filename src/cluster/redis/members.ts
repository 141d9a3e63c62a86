import { isShareSsid, ssidKey, type Ssid } from '../../channel/index.js';
import type { Delivery, QoS } from '../../mqtt/index.js';
import type { MemberSubscription, RoutedSubscriber, Route } from '../cluster.js';
import { FrameKind } from './frames.js';

/** Where remote subscribers send what they are given: the outgoing link to their node. */
export interface PeerLink {
  forward(kind: FrameKind, delivery: Delivery, qos: QoS, route: Route, target: string): void;
}

/** A client of a peer node as it sits in this node's trie: who it is and how many subscriptions it has here. */
abstract class RemoteClient implements RoutedSubscriber {
  /** Subscriptions this client holds (a client leaves the trie when the last goes). */
  count = 0;

  constructor(
    readonly id: string,
    readonly peer: string,
    readonly username: string,
    readonly clientId: string,
  ) {}

  abstract deliver(delivery: Delivery, qos: QoS, route?: Route): void;
}

/**
 * A peer's client subscribed directly. A publish reaching several clients of one peer is sent to that
 * peer once: the peer's link remembers the last message forwarded, and the peer delivers to all its
 * matching clients itself, each at its own granted QoS (remote clients sit in this node's trie at QoS 2,
 * so the publish QoS travels unchanged).
 */
export class RemoteSubscriber extends RemoteClient {
  constructor(
    id: string,
    peer: string,
    username: string,
    clientId: string,
    private readonly link: PeerLink & { last: Delivery | undefined },
  ) {
    super(id, peer, username, clientId);
  }

  deliver(delivery: Delivery, qos: QoS, route?: Route): void {
    if (route === undefined || this.link.last === delivery) return;
    this.link.last = delivery;
    this.link.forward(FrameKind.Direct, delivery, qos, route, '');
  }
}

/** A peer's client in a share group: when picked, the message goes to that client only. */
export class RemoteShareMember extends RemoteClient {
  constructor(
    id: string,
    peer: string,
    username: string,
    clientId: string,
    private readonly link: PeerLink,
  ) {
    super(id, peer, username, clientId);
  }

  deliver(delivery: Delivery, qos: QoS, route?: Route): void {
    if (route !== undefined) this.link.forward(FrameKind.Targeted, delivery, qos, route, this.id);
  }
}

/** The JSON shape of a subscription on the wire and in the snapshot hash. */
export interface WireMember {
  /** connection id */
  readonly i: string;
  /** username */
  readonly u: string;
  /** MQTT client id */
  readonly c: string;
  /** channel */
  readonly h: string;
  /** SSID */
  readonly s: number[];
}

/** The snapshot field of a subscription: unique per client and SSID. */
export function memberField(id: string, ssid: Ssid): string {
  return `${id}:${ssidKey(ssid)}`;
}

export function toWire(m: MemberSubscription): WireMember {
  return { i: m.id, u: m.username, c: m.clientId, h: m.channel, s: [...m.ssid] };
}

/** Reads a wire member; undefined when the shape is wrong (a foreign or corrupt entry). */
export function fromWire(value: unknown): MemberSubscription | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const w = value as Partial<WireMember>;
  if (typeof w.i !== 'string' || !Array.isArray(w.s) || w.s.length === 0) return undefined;
  if (!w.s.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) return undefined;
  return {
    id: w.i,
    username: typeof w.u === 'string' ? w.u : '',
    clientId: typeof w.c === 'string' ? w.c : '',
    channel: typeof w.h === 'string' ? w.h : '',
    ssid: w.s,
  };
}

/** True when the subscription puts its client in a share group (picked one at a time). */
export function isShareMember(m: MemberSubscription): boolean {
  return isShareSsid(m.ssid);
}
