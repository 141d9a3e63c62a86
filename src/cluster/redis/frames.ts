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

/** Bytes of a frame's header (everything before the packet). */
function headerLength(
  levels: number,
  storedId: Buffer | undefined,
  target: string,
  properties: Buffer | undefined,
): number {
  const propertiesLength = properties === undefined ? 0 : 4 + properties.length;
  return 4 + 1 + 1 + 4 + 4 * levels + 1 + (storedId?.length ?? 0) + 1 + target.length + propertiesLength;
}

// Writes a frame's header at `at` of `out` (sized for it); returns where the packet goes. `target` is a
// connection id (ASCII), written as latin1, one byte a character.
function writeHeader(
  out: Buffer,
  at: number,
  flags: number,
  route: Route,
  storedId: Buffer | undefined,
  target: string,
  packetLength: number,
  properties: Buffer | undefined,
): number {
  const levels = Math.min(route.levels.length, MAX_LEVELS);
  const length = headerLength(levels, storedId, target, properties);
  at = out.writeUInt32BE(length - 4 + packetLength, at);
  out[at++] = flags;
  out[at++] = levels;
  at = out.writeUInt32BE(route.contract >>> 0, at);
  for (let i = 0; i < levels; i++) at = out.writeUInt32BE(route.levels[i] >>> 0, at);
  out[at++] = storedId?.length ?? 0;
  if (storedId !== undefined) at += storedId.copy(out, at);
  out[at++] = target.length;
  if (target.length > 0) at += out.write(target, at, 'latin1');
  if (properties !== undefined) {
    at = out.writeUInt32BE(properties.length, at);
    at += properties.copy(out, at);
  }
  return at;
}

// The kind byte: kind, the publish QoS and the flags.
function flagsOf(
  kind: FrameKind,
  qos: QoS,
  properties: Buffer | undefined,
  publishedRetain: boolean,
): number {
  let flags = kind | (qos << 4);
  if (properties !== undefined) flags |= HAS_PROPERTIES;
  if (publishedRetain) flags |= PUBLISHED_RETAIN;
  return flags;
}

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
  const header = Buffer.allocUnsafe(
    headerLength(Math.min(route.levels.length, MAX_LEVELS), storedId, target, properties),
  );
  writeHeader(
    header,
    0,
    flagsOf(kind, qos, properties, publishedRetain),
    route,
    storedId,
    target,
    packetLength,
    properties,
  );
  return header;
}

export class FrameBatch {
  private kinds: number[] = [];
  private routes: Route[] = [];
  private storedIds: Array<Buffer | undefined> = [];
  private targets: string[] = [];
  private packets: Buffer[] = [];
  private properties: Array<Buffer | undefined> = [];
  private encodedBytes = 0;

  /** Frames waiting. */
  get size(): number {
    return this.packets.length;
  }

  /** Bytes the waiting frames take encoded. */
  get bytes(): number {
    return this.encodedBytes;
  }

  /** Queues one frame (its parts are referenced until `take`, not copied). */
  add(
    kind: FrameKind,
    route: Route,
    storedId: Buffer | undefined,
    target: string,
    packet: Buffer,
    qos: QoS,
    properties?: Buffer,
    publishedRetain = false,
  ): void {
    this.kinds.push(flagsOf(kind, qos, properties, publishedRetain));
    this.routes.push(route);
    this.storedIds.push(storedId);
    this.targets.push(target);
    this.packets.push(packet);
    this.properties.push(properties);
    this.encodedBytes +=
      headerLength(Math.min(route.levels.length, MAX_LEVELS), storedId, target, properties) + packet.length;
  }

  /** The waiting frames encoded as one batch; the batch is empty afterwards. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.encodedBytes);
    let at = 0;
    for (let i = 0; i < this.packets.length; i++) {
      const packet = this.packets[i];
      at = writeHeader(
        out,
        at,
        this.kinds[i],
        this.routes[i],
        this.storedIds[i],
        this.targets[i],
        packet.length,
        this.properties[i],
      );
      at += packet.copy(out, at);
    }
    this.kinds = [];
    this.routes = [];
    this.storedIds = [];
    this.targets = [];
    this.packets = [];
    this.properties = [];
    this.encodedBytes = 0;
    return out;
  }
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
