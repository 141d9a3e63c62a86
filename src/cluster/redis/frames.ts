import type { QoS } from '../../mqtt/index.js';
import type { Route } from '../cluster.js';

/**
 * Messages between nodes travel in batches: one Redis PUBLISH carries every frame a node queued for a
 * peer during one event-loop turn. A frame is
 * `[u32 length][u8 kind | qos << 4 | flags][u8 levels][u32 contract][u32 level]*[u8 idLength][storedId][u8 targetLength][target]([u32 propertiesLength][properties])?[packet]`,
 * where `packet` is the message's MQTT 3.1.1 QoS 0 PUBLISH (written unchanged to the receiving node's QoS 0
 * clients, and the source of topic and payload for its other forms) and `qos` the QoS it was published
 * at: the receiving node delivers at min(qos, each local subscription's granted QoS). Flags: 0x40, the
 * message has MQTT 5 properties (their wire block follows the target); 0x80, it was published with RETAIN
 * (for MQTT 5 Retain As Published). A message of a 3.1.1 client has neither: its frame is as before.
 */
export const FrameKind = { Direct: 0, Targeted: 1 } as const;
/** One of the `FrameKind` values. */
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** A decoded frame; `packet` and `storedId` are views into the received batch. */
export interface Frame {
  readonly kind: FrameKind;
  /** The QoS the message was published at. */
  readonly qos: QoS;
  readonly route: Route;
  readonly storedId: Buffer | undefined;
  /** The session a share-group message was picked for (Targeted frames). */
  readonly target: string;
  readonly packet: Buffer;
  /** Its MQTT 5 properties' wire block (`encodePublishProperties`), a view into the batch. */
  readonly properties: Buffer | undefined;
  /** The RETAIN flag it was published with. */
  readonly publishedRetain: boolean;
}

const MAX_LEVELS = 255;
const HAS_PROPERTIES = 0x40;
const PUBLISHED_RETAIN = 0x80;

/** The header of a frame; the packet itself follows it unchanged (so it is not copied twice). */
export function encodeFrameHeader(
  kind: FrameKind,
  route: Route,
  storedId: Buffer | undefined,
  target: string,
  packetLength: number,
  qos: QoS = 0,
  properties?: Buffer,
  publishedRetain = false,
): Buffer {
  const levels = Math.min(route.levels.length, MAX_LEVELS);
  const idLength = storedId?.length ?? 0;
  const targetLength = Buffer.byteLength(target);
  const propertiesLength = properties === undefined ? 0 : 4 + properties.length;
  const headerLength = 4 + 1 + 1 + 4 + 4 * levels + 1 + idLength + 1 + targetLength + propertiesLength;
  const header = Buffer.allocUnsafe(headerLength);
  let at = header.writeUInt32BE(headerLength - 4 + packetLength, 0);
  let flags = kind | (qos << 4);
  if (properties !== undefined) flags |= HAS_PROPERTIES;
  if (publishedRetain) flags |= PUBLISHED_RETAIN;
  at = header.writeUInt8(flags, at);
  at = header.writeUInt8(levels, at);
  at = header.writeUInt32BE(route.contract >>> 0, at);
  for (let i = 0; i < levels; i++) at = header.writeUInt32BE(route.levels[i] >>> 0, at);
  at = header.writeUInt8(idLength, at);
  if (storedId !== undefined) at += storedId.copy(header, at);
  at = header.writeUInt8(targetLength, at);
  at += header.write(target, at, 'latin1');
  if (properties !== undefined) {
    at = header.writeUInt32BE(properties.length, at);
    properties.copy(header, at);
  }
  return header;
}

/** Calls `visit` for every frame of a batch; a malformed tail is ignored (and counted by the caller). */
export function decodeFrames(batch: Buffer, visit: (frame: Frame) => void): boolean {
  let offset = 0;
  while (offset + 4 <= batch.length) {
    const end = offset + 4 + batch.readUInt32BE(offset);
    if (end > batch.length || end < offset + 12) return false;
    let at = offset + 4;
    const flags = batch[at];
    const kind = (flags & 0x0f) as FrameKind;
    const qosBits = (batch[at++] >> 4) & 3;
    if (qosBits === 3) return false;
    const qos = qosBits as QoS;
    const count = batch[at++];
    const contract = batch.readUInt32BE(at);
    at += 4;
    const levels: number[] = [];
    for (let i = 0; i < count; i++, at += 4) levels.push(batch.readUInt32BE(at));
    const idLength = batch[at++];
    const storedId = idLength > 0 ? batch.subarray(at, at + idLength) : undefined;
    at += idLength;
    const targetLength = batch[at++];
    const target = batch.toString('latin1', at, at + targetLength);
    at += targetLength;
    let properties: Buffer | undefined;
    if ((flags & HAS_PROPERTIES) !== 0) {
      if (at + 4 > end) return false;
      const length = batch.readUInt32BE(at);
      at += 4;
      properties = batch.subarray(at, at + length);
      at += length;
    }
    if (at > end) return false;
    visit({
      kind,
      qos,
      route: { contract, levels },
      storedId,
      target,
      packet: batch.subarray(at, end),
      properties,
      publishedRetain: (flags & PUBLISHED_RETAIN) !== 0,
    });
    offset = end;
  }
  return offset === batch.length;
}
