/**
 * A message on its way to subscribers, and its wire forms: each distinct PUBLISH (protocol version x QoS
 * x retain flag) is encoded once, on first need, and shared by every recipient that takes that form. A
 * QoS > 0 form carries a zero packet id: each recipient gets a copy with its own id patched in.
 */

import mqttPacket from 'mqtt-packet';
import { encodePublish } from './encode.js';

/** An MQTT quality of service level. */
export type QoS = 0 | 1 | 2;

/** MQTT 5 PUBLISH properties, as mqtt-packet types them. */
export type PublishProperties = NonNullable<mqttPacket.IPublishPacket['properties']>;

/** What a delivery carries: the message, not bytes. */
export interface Message {
  readonly topic: string;
  readonly payload: Buffer;
  /** The QoS it was published at: the highest any recipient gets it at. */
  readonly qos: QoS;
  /** The RETAIN flag recipients see (false for live deliveries, as MQTT says). */
  readonly retain: boolean;
  /** The message storage id, when it was also stored (`?ttl`). */
  readonly storedId?: Buffer;
  /** MQTT 5 properties, passed to v5 recipients. */
  readonly properties?: PublishProperties;
}

const V5 = 5;
// Form slots: [v3/v4 | v5] x qos (0..2) x retain (0/1).
const FORMS = 12;

/** A message being delivered, with its encoded forms cached. */
export class Delivery implements Message {
  // The form nearly every Emitter recipient takes (3.1.1, QoS 0, no retain), kept apart from the rest.
  private plain: Buffer | undefined;
  private forms: (Buffer | undefined)[] | undefined;
  /** Unix ms after which the message is not delivered (MQTT 5 Message Expiry Interval); 0: never. */
  readonly expiresAt: number;
  /** The publishing session's id, for MQTT 5 No Local; unset for messages of the broker. */
  senderId: string | undefined = undefined;
  /** The RETAIN flag it was published with, for MQTT 5 Retain As Published. */
  publishedRetain = false;
  // The same message under its other topic form (see `alternate`), made on first need.
  private other: Delivery | undefined;

  constructor(
    readonly topic: string,
    readonly payload: Buffer,
    readonly qos: QoS = 0,
    readonly retain = false,
    readonly storedId?: Buffer,
    readonly properties?: PublishProperties,
    expiresAt?: number,
  ) {
    const expiry = properties?.messageExpiryInterval;
    this.expiresAt = expiresAt ?? (expiry === undefined ? 0 : Date.now() + expiry * 1000);
  }

  /**
   * This message under another form of its topic (the broker's plain MQTT recipients see `a/b` where
   * Emitter's see `a/b/`): made once, with `form(topic)`, on first need, and with wire forms of its own,
   * so every recipient of either topic form shares one encoding per wire form. One delivery has one
   * other form: `form` must always be the same function.
   */
  alternate(form: (topic: string) => string): Delivery {
    let other = this.other;
    if (other !== undefined) return other;
    other = new Delivery(
      form(this.topic),
      this.payload,
      this.qos,
      this.retain,
      this.storedId,
      this.properties,
      this.expiresAt,
    );
    other.senderId = this.senderId;
    other.publishedRetain = this.publishedRetain;
    this.other = other;
    return other;
  }

  /** True once its Message Expiry Interval has passed: it is not delivered any more [MQTT-3.3.2-5]. */
  get expired(): boolean {
    return this.expiresAt !== 0 && Date.now() >= this.expiresAt;
  }

  /** A delivery of `message` (reusing it when it already is one). */
  static of(message: Message): Delivery {
    if (message instanceof Delivery) return message;
    return new Delivery(
      message.topic,
      message.payload,
      message.qos,
      message.retain,
      message.storedId,
      message.properties,
    );
  }

  /** Hands over an already-encoded 3.1.1 QoS 0 form of this message (a cluster peer sent it so). */
  seedPlainForm(packet: Buffer): void {
    this.plain = packet;
  }

  /**
   * The encoded PUBLISH for a recipient speaking `protocolVersion` at `qos`: shared, never modify it. For
   * QoS > 0 its packet id is 0: send `withPacketId(...)` instead.
   */
  packet(qos: QoS = 0, protocolVersion = 4, retain = this.retain): Buffer {
    if (qos === 0 && !retain && protocolVersion !== V5) return (this.plain ??= this.encode(0, 4, false));
    if (protocolVersion === V5 && this.expiresAt !== 0) {
      // A message sent later than published carries what is left of its expiry [MQTT-3.3.2-6]: a form of
      // its own, not shared.
      const left = this.expiryLeft();
      if (left !== undefined) return this.encode(qos, V5, retain, left);
    }
    const slot = (protocolVersion === V5 ? 6 : 0) + qos * 2 + (retain ? 1 : 0);
    const forms = (this.forms ??= new Array<Buffer | undefined>(FORMS));
    return (forms[slot] ??= this.encode(qos, protocolVersion, retain));
  }

  /**
   * The form for one MQTT 5 subscription with a Subscription Identifier: encoded for it alone (the
   * identifier differs per subscription). Without an identifier, the shared form.
   */
  packetFor(
    qos: QoS,
    protocolVersion: number,
    retain: boolean,
    identifier: number | undefined,
    alias = 0,
  ): Buffer {
    if ((identifier === undefined && alias === 0) || protocolVersion !== V5)
      return this.packet(qos, protocolVersion, retain);
    return this.encode(qos, V5, retain, this.expiryLeft(), identifier, alias);
  }

  /** A copy of the QoS > 0 form with `packetId` (and the DUP flag on a re-send) patched in. */
  withPacketId(
    qos: 1 | 2,
    packetId: number,
    dup: boolean,
    protocolVersion = 4,
    retain = this.retain,
    identifier?: number,
    alias = 0,
  ): Buffer {
    return patchPacketId(this.packetFor(qos, protocolVersion, retain, identifier, alias), packetId, dup);
  }

  // Seconds left of the Message Expiry Interval, when less than it was.
  private expiryLeft(): number | undefined {
    if (this.expiresAt === 0) return undefined;
    const left = Math.max(1, Math.ceil((this.expiresAt - Date.now()) / 1000));
    return left < (this.properties?.messageExpiryInterval ?? 0) ? left : undefined;
  }

  private encode(
    qos: QoS,
    protocolVersion: number,
    retain: boolean,
    expiryLeft?: number,
    identifier?: number,
    // MQTT 5 server-to-client topic alias: > 0 sets it (topic and alias), < 0 uses it (empty topic).
    alias = 0,
  ): Buffer {
    if (protocolVersion !== V5) {
      return encodePublish({ topic: this.topic, payload: this.payload, qos, retain, messageId: 0 });
    }
    return mqttPacket.generate(
      {
        cmd: 'publish',
        topic: alias < 0 ? '' : this.topic,
        payload: this.payload,
        qos,
        retain,
        dup: false,
        // mqtt-packet wants an id for QoS > 0; it is patched per recipient.
        messageId: qos > 0 ? 1 : undefined,
        properties:
          expiryLeft === undefined && identifier === undefined && alias === 0
            ? this.properties
            : {
                ...this.properties,
                ...(expiryLeft === undefined ? {} : { messageExpiryInterval: expiryLeft }),
                ...(identifier === undefined ? {} : { subscriptionIdentifier: identifier }),
                ...(alias === 0 ? {} : { topicAlias: alias > 0 ? alias : -alias }),
              },
      },
      { protocolVersion: V5 },
    );
  }
}

/**
 * A copy of an encoded QoS > 0 PUBLISH with its packet id set (and DUP when `dup`): the id sits right after
 * the topic in every protocol version.
 */
export function patchPacketId(form: Buffer, packetId: number, dup: boolean): Buffer {
  const packet = Buffer.allocUnsafe(form.length);
  form.copy(packet);
  let offset = 1;
  while (packet[offset] & 0x80) offset++;
  offset++;
  const topicLength = packet.readUInt16BE(offset);
  packet.writeUInt16BE(packetId, offset + 2 + topicLength);
  if (dup) packet[0] |= 0x08;
  return packet;
}
