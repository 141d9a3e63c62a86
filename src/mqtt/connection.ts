import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import mqttPacket, {
  type IAuthPacket,
  type IConnackPacket,
  type IConnectPacket,
  type IPacket,
  type IPubackPacket,
  type IPubcompPacket,
  type IPublishPacket,
  type IPubrecPacket,
  type IPubrelPacket,
  type ISubackPacket,
  type ISubscribePacket,
  type IUnsubackPacket,
  type IUnsubscribePacket,
  type Packet,
} from 'mqtt-packet';
import { MqttErrorCode, MqttProtocolError } from './errors.js';
import { ReasonCode } from './reason-codes.js';
import { decodePublish, decodePublishV5 } from './decode-publish.js';
import { encodeAck, type AckType } from './encode.js';
import { silenceWatch } from './silence-watch.js';
import { readFixedHeader } from './framing.js';

/** Limits and timers of one connection. */
export interface MqttConnectionOptions {
  /** Largest remaining length accepted; a bigger packet closes the connection before its body is read. */
  readonly maxPacketSize?: number;
  /** Milliseconds a new socket has to send CONNECT (default 30000; 0 disables). */
  readonly connectTimeout?: number;
  /** Packets read per second before reading pauses until the next second (Emitter's readRate); 0 = no limit. */
  readonly readRate?: number;
}

/** Events of a connection: one per packet type, plus `error` (protocol violation) and `close`. */
export interface MqttConnectionEvents {
  connect: [packet: IConnectPacket];
  publish: [packet: IPublishPacket];
  puback: [packet: IPubackPacket];
  pubrec: [packet: IPubrecPacket];
  pubrel: [packet: IPubrelPacket];
  pubcomp: [packet: IPubcompPacket];
  subscribe: [packet: ISubscribePacket];
  unsubscribe: [packet: IUnsubscribePacket];
  pingreq: [packet: IPacket];
  disconnect: [packet: IPacket];
  /** MQTT 5 AUTH (enhanced authentication): the server API user decides what to do with it. */
  auth: [packet: IAuthPacket];
  error: [error: MqttProtocolError];
  close: [];
}

/**
 * Takes a connection's packets as direct calls instead of events: what the broker's sessions use, as
 * a listener per packet type per connection costs memory that ten thousand idle clients notice.
 */
export interface MqttConnectionHandler {
  /** A packet from the client, CONNECT first; server-to-client packet types never reach here. */
  handlePacket(packet: Packet): void;
  /** The connection closed, whatever the reason; called once. */
  handleClose(): void;
  /** A protocol violation; the connection closes right after. */
  handleViolation?(error: MqttProtocolError): void;
}

const DEFAULT_MAX_PACKET_SIZE = 268435455;
// Milliseconds since this module loaded: a small integer for twelve days, where a Date.now() kept in
// every connection would be a boxed number (16 bytes each).
const STARTED = Date.now();
const sinceStart = (): number => Date.now() - STARTED;
// The stream's listeners are shared functions, not closures per connection: they find their
// connection through this property of the stream.
const OWNER = Symbol('MqttConnection');
type OwnedStream = Duplex & { [OWNER]: MqttConnection };
const DEFAULT_CONNECT_TIMEOUT = 30000;
const CONNECT_TYPE = 1;
// Packet types a client may send after CONNECT; the others (CONNACK, SUBACK, ...) are ignored, as
// Emitter does. AUTH (MQTT 5) goes to the handler, which decides (the broker: a protocol error).
const CLIENT_PACKETS: ReadonlySet<string> = new Set([
  'auth',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'unsubscribe',
  'pingreq',
  'disconnect',
]);
const PUBLISH_TYPE = 3;

/** An acknowledgement's fields: MQTT 5 adds a reason code and a reason string. */
export interface AckFields {
  readonly messageId: number;
  readonly reasonCode?: number;
  readonly reasonString?: string;
  /** MQTT 5 properties (user properties, a reason string) for server API users. */
  readonly properties?: { reasonString?: string; userProperties?: Record<string, string | string[]> };
}

// The DISCONNECT reason an MQTT 5 client gets for each violation that closes its connection.
const VIOLATION_REASONS: Record<MqttErrorCode, number> = {
  [MqttErrorCode.PacketTooLarge]: ReasonCode.PacketTooLarge,
  [MqttErrorCode.Malformed]: ReasonCode.MalformedPacket,
  [MqttErrorCode.FirstPacket]: ReasonCode.ProtocolError,
  [MqttErrorCode.SecondConnect]: ReasonCode.ProtocolError,
  [MqttErrorCode.KeepaliveTimeout]: ReasonCode.KeepAliveTimeout,
  [MqttErrorCode.ConnectTimeout]: ReasonCode.ProtocolError,
  [MqttErrorCode.HandlerFailed]: ReasonCode.ImplementationSpecificError,
  [MqttErrorCode.ReceiveMaximumExceeded]: ReasonCode.ReceiveMaximumExceeded,
  [MqttErrorCode.TopicAliasInvalid]: ReasonCode.TopicAliasInvalid,
  [MqttErrorCode.ProtocolError]: ReasonCode.ProtocolError,
};

type Listener<E extends keyof MqttConnectionEvents> = (...args: MqttConnectionEvents[E]) => void;
type AnyListener = (...args: unknown[]) => void;

/**
 * One MQTT connection over any duplex byte stream: packets in as events (or to one handler), one send
 * method per packet type.
 */
export class MqttConnection {
  /** The protocol level from CONNECT (3 for MQTT 3.1, 4 for 3.1.1, 5). */
  protocolVersion = 4;
  /**
   * MQTT 5: the largest packet the client takes (its CONNECT's Maximum Packet Size), 0 when it set none.
   * We never send it a bigger one [MQTT-3.1.2-24].
   */
  peerMaxPacketSize = 0;
  /** MQTT 5: false when the client asked for no reason strings (Request Problem Information 0) [MQTT-3.1.2-29]. */
  reasonStrings = true;
  bytesReceived = 0;
  bytesSent = 0;
  private readonly maxPacketSize: number;
  private pending: Buffer | undefined;
  private connected = false;
  private closed = false;
  // After end(): the peer's further packets are not handled (a refused CONNECT must not be half-served).
  private ending = false;
  // Packets written since the last flush; they leave as one buffer (see flushGathered).
  private gathered: Buffer[] | undefined;
  private gatheredLength = 0;
  // A WebSocket stream turns each write into a frame, and some clients still expect one packet per
  // frame (Emitter sends them so): those writes are not joined.
  private readonly joinWrites: boolean;
  /** @internal for the silence watch. */
  lastTick = 0;
  /** @internal for the silence watch. */
  allowedTicks = 0;
  private keepalive = 0;
  private readonly readRate: number;
  private windowStart = sinceStart();
  private windowPackets = 0;
  private handler: MqttConnectionHandler | undefined;
  // Made on the first listener: an EventEmitter's empty listener table alone is some 180 bytes, and
  // the broker's connections use a handler instead.
  private events: EventEmitter | undefined;

  constructor(
    readonly stream: Duplex,
    options: MqttConnectionOptions = {},
    /** The peer address, when the stream cannot tell it (WebSocket: the upgraded request's socket). */
    private readonly address?: string,
  ) {
    this.joinWrites = stream instanceof Socket;
    this.maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    this.readRate = options.readRate ?? 0;
    (stream as OwnedStream)[OWNER] = this;
    stream.on('data', MqttConnection.onStreamData);
    // A TCP socket is destroyed on error and 'close' follows, so when someone already handles its
    // errors, 'close' is all we need (a second listener costs an array per socket).
    if (!(stream instanceof Socket) || stream.listenerCount('error') === 0) {
      stream.on('error', MqttConnection.onStreamEnd);
    }
    // The peer ended: close at once rather than wait for a half-closed peer to read what is pending.
    stream.on('end', MqttConnection.onStreamEnd);
    stream.on('close', MqttConnection.onStreamClose);
    const connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
    if (connectTimeout > 0) {
      silenceWatch.watch(this, connectTimeout);
    }
  }

  private static onStreamData(this: OwnedStream, chunk: Buffer): void {
    this[OWNER].onData(chunk);
  }
  private static onStreamEnd(this: OwnedStream): void {
    this[OWNER].destroy();
  }
  private static onStreamClose(this: OwnedStream): void {
    this[OWNER].onClose();
  }

  /** @internal the silence watch's deadline passed: no CONNECT in time, or keep-alive exceeded. */
  silenceExceeded(): void {
    if (this.connected) {
      this.violation(MqttErrorCode.KeepaliveTimeout, `no packet within ${this.keepalive * 1.5} s`);
    } else {
      this.violation(MqttErrorCode.ConnectTimeout, 'no CONNECT received in time');
    }
  }

  /** Adds a listener for a packet type, `error` (protocol violation) or `close`. */
  on<E extends keyof MqttConnectionEvents>(event: E, listener: Listener<E>): this {
    (this.events ??= new EventEmitter()).on(event, listener as AnyListener);
    return this;
  }
  /** Adds a listener called at most once. */
  once<E extends keyof MqttConnectionEvents>(event: E, listener: Listener<E>): this {
    (this.events ??= new EventEmitter()).once(event, listener as AnyListener);
    return this;
  }
  /** Removes a listener added with `on` or `once`. */
  off<E extends keyof MqttConnectionEvents>(event: E, listener: Listener<E>): this {
    this.events?.off(event, listener as AnyListener);
    return this;
  }
  /** Number of listeners for an event. */
  listenerCount(event: keyof MqttConnectionEvents): number {
    return this.events?.listenerCount(event) ?? 0;
  }

  /**
   * Sends every packet, the close and any violation to `handler` from now on, instead of emitting
   * them as events.
   */
  attach(handler: MqttConnectionHandler): void {
    this.handler = handler;
  }

  /** Bytes written but not yet flushed to the peer: a slow consumer's backlog. */
  get writableLength(): number {
    return this.stream.writableLength + this.gatheredLength;
  }

  /** The peer address, for logs ('' when unknown); read from a socket only when asked for. */
  get remoteAddress(): string {
    return this.address ?? (this.stream as Partial<Socket>).remoteAddress ?? '';
  }

  /** True until the connection is closed. */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** Sends CONNACK. */
  connack(packet: Omit<IConnackPacket, 'cmd'>): void {
    this.send({ cmd: 'connack', ...packet });
  }
  /** The largest remaining length this connection accepts from its peer. */
  get maxRemainingLength(): number {
    return this.maxPacketSize;
  }

  /** False when `packet` is above the client's Maximum Packet Size: it must not be sent (MQTT 5). */
  fits(packet: Buffer): boolean {
    return this.peerMaxPacketSize === 0 || packet.length <= this.peerMaxPacketSize;
  }

  /** Sends a PUBLISH. */
  publish(packet: Omit<IPublishPacket, 'cmd'>): void {
    this.send({ cmd: 'publish', ...packet });
  }
  /** Sends PUBACK (MQTT 5: with a reason code and reason string when they say more than success). */
  puback(packet: AckFields): void {
    this.writeAck('puback', packet);
  }
  /** Sends PUBREC. */
  pubrec(packet: AckFields): void {
    this.writeAck('pubrec', packet);
  }
  /** Sends PUBREL. */
  pubrel(packet: AckFields): void {
    this.writeAck('pubrel', packet);
  }
  /** Sends PUBCOMP. */
  pubcomp(packet: AckFields): void {
    this.writeAck('pubcomp', packet);
  }
  /** Sends SUBACK. */
  suback(packet: Omit<ISubackPacket, 'cmd'>): void {
    const { properties, ...rest } = packet;
    this.send(
      this.protocolVersion === 5 && properties && this.reasonStrings
        ? { cmd: 'suback', ...rest, properties }
        : { cmd: 'suback', ...rest },
    );
  }
  /** Sends UNSUBACK (`granted`: MQTT 5 reason codes, one per filter; not sent to 3.1.1 clients). */
  unsuback(packet: {
    messageId?: number;
    granted?: number[];
    properties?: IUnsubackPacket['properties'];
  }): void {
    const v5 = this.protocolVersion === 5;
    const unsuback: IUnsubackPacket = {
      cmd: 'unsuback',
      messageId: packet.messageId,
      granted: v5 ? (packet.granted ?? []) : [],
      ...(v5 && packet.properties && this.reasonStrings ? { properties: packet.properties } : {}),
    };
    this.send(unsuback);
  }

  /**
   * Closes the connection with a reason: MQTT 5 clients get a DISCONNECT with `reasonCode` (and the
   * reason string) first [MQTT-4.13.2-1]; earlier protocol levels have no server DISCONNECT.
   */
  disconnect(reasonCode: number, reasonString?: string): void {
    if (this.closed) return;
    if (this.connected && this.protocolVersion === 5) {
      this.send({
        cmd: 'disconnect',
        reasonCode,
        ...(reasonString ? { properties: { reasonString } } : {}),
      });
    }
    this.end();
  }
  /** Sends PINGRESP. */
  pingresp(): void {
    this.send({ cmd: 'pingresp' });
  }

  /** Writes an already-encoded packet; the writes of one event-loop turn leave in one syscall. */
  writeEncoded(packet: Buffer): void {
    if (this.closed) return;
    if (this.gathered === undefined) {
      this.gathered = [packet];
      gatheringConnections.push(this);
      if (!turnEndPending) scheduleTurnEnd();
    } else {
      this.gathered.push(packet);
    }
    this.gatheredLength += packet.length;
    gatheredBytes += packet.length;
    this.bytesSent += packet.length;
  }

  /**
   * Stops handing packets to the handler after the one being handled, until the returned function is
   * called: for a CONNECT whose session must be fetched first (from another cluster node or a shared
   * store), so packets that follow it are not handled before it is served.
   */
  holdPackets(): () => void {
    heldConnections.add(this);
    this.stream.pause();
    return () => {
      if (!heldConnections.delete(this) || this.closed) return;
      if (this.pending) this.process(this.pending);
      if (!this.closed && !heldConnections.has(this)) this.stream.resume();
    };
  }

  /**
   * Writes what this connection gathered as soon as the read being handled is done, not at the end of the
   * event-loop turn: for output a peer's acknowledgement freed (an in-flight window refilled), whose round
   * trip paces the whole flow. Costs no field per connection: only the connection being read can ask.
   */
  flushAfterRead(): void {
    flushAfterReadOf.add(this);
  }

  /** Flushes and closes the stream. */
  end(): void {
    if (this.closed) return;
    this.ending = true;
    this.flush();
    this.stream.end();
    // A peer that never reads must not keep a half-closed socket forever.
    setTimeout(() => this.destroy(), 5000).unref();
  }

  /** Closes at once. */
  destroy(): void {
    this.stream.destroy();
    this.onClose();
  }

  /** @internal writes what was gathered, as one buffer: one small copy is cheaper than a writev entry per packet. */
  flush(): void {
    const gathered = this.gathered;
    if (gathered === undefined) return;
    this.gathered = undefined;
    const length = this.gatheredLength;
    this.gatheredLength = 0;
    if (this.closed) return;
    if (gathered.length === 1) this.stream.write(gathered[0]);
    else if (this.joinWrites) this.stream.write(Buffer.concat(gathered, length));
    else for (const packet of gathered) this.stream.write(packet);
  }

  // MQTT 5 acknowledgements may carry a reason code and properties: those go through mqtt-packet; a
  // plain success is the same four bytes in every version (reason code 0 may be left out [MQTT-3.4.2.1]).
  private writeAck(type: AckType, ack: AckFields): void {
    const { messageId, reasonCode = 0 } = ack;
    const properties =
      ack.properties === undefined && ack.reasonString === undefined
        ? undefined
        : {
            ...ack.properties,
            ...(ack.reasonString === undefined ? {} : { reasonString: ack.reasonString }),
          };
    if (properties !== undefined && !this.reasonStrings) delete properties.reasonString;
    if (this.protocolVersion !== 5 || (reasonCode === 0 && properties === undefined)) {
      this.writeEncoded(encodeAck(type, messageId));
      return;
    }
    this.send({ cmd: type, messageId, reasonCode, ...(properties ? { properties } : {}) } as Packet);
  }

  private send(packet: Packet): void {
    const options = { protocolVersion: this.protocolVersion };
    let encoded = mqttPacket.generate(packet, options);
    if (!this.fits(encoded) && 'properties' in packet && packet.properties) {
      // Too large for the client: the reason string and user properties go first [MQTT-3.4.2-3].
      encoded = mqttPacket.generate({ ...packet, properties: undefined } as Packet, options);
      if (!this.fits(encoded)) return;
    }
    this.writeEncoded(encoded);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesReceived += chunk.length;
    if (heldConnections.size > 0 && heldConnections.has(this)) {
      this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
      return;
    }
    if (this.connected) silenceWatch.touch(this);
    // The first read of a turn that follows a quiet one (one read or none): its output leaves now, not
    // after other reads of the turn that are unlikely to come (a message at a time, the usual case when
    // the broker is not busy, then costs no wait for the end of the turn).
    const firstOfTurn = !turnEndPending;
    if (firstOfTurn) scheduleTurnEnd();
    readsThisTurn++;
    this.process(this.pending ? Buffer.concat([this.pending, chunk]) : chunk);
    if (flushAfterReadOf.size > 0) {
      for (const connection of flushAfterReadOf) connection.flush();
      flushAfterReadOf.clear();
    }
    if (firstOfTurn && readsLastTurn <= 1) flushGathered();
    else flushIfWorthIt();
  }

  // Frames and parses whole packets; keeps a partial one (or, while rate-limited, the rest) for later.
  private process(input: Buffer): void {
    let buffer = input;
    this.pending = undefined;
    let offset = 0;
    while (offset < buffer.length && !this.closed) {
      const header = readFixedHeader(buffer, offset);
      if (header === -1)
        return this.violation(MqttErrorCode.Malformed, 'remaining length longer than 4 bytes');
      if (header === undefined) break;
      if (header.remainingLength > this.maxPacketSize) {
        return this.violation(
          MqttErrorCode.PacketTooLarge,
          `packet of ${header.remainingLength} bytes is too large`,
        );
      }
      if (!this.connected && header.type !== CONNECT_TYPE) {
        return this.violation(MqttErrorCode.FirstPacket, 'the first packet must be CONNECT');
      }
      const end = offset + header.headerLength + header.remainingLength;
      if (end > buffer.length) break;
      const frame = buffer.subarray(offset, end);
      if (
        header.type === CONNECT_TYPE &&
        !this.connected &&
        this.refuseUnknownLevel(frame, header.headerLength)
      )
        return;
      const packet =
        header.type !== PUBLISH_TYPE
          ? parseFrame(frame, this.protocolVersion)
          : this.protocolVersion !== 5
            ? decodePublish(frame, header.headerLength)
            : decodePublishV5(frame, header.headerLength);
      offset = end;
      if (packet instanceof Error) return this.violation(MqttErrorCode.Malformed, packet.message);
      this.dispatch(packet);
      if (heldConnections.size > 0 && heldConnections.has(this)) break;
      if (this.readRate > 0 && this.overReadRate()) break;
    }
    if (offset < buffer.length && !this.closed) {
      buffer = buffer.subarray(offset);
      this.pending = buffer;
    }
  }

  // Over `readRate` packets in this second: stop reading until the next one. What was already read
  // waits in `pending`; the rest stays in the socket, which pushes back on the sender.
  private overReadRate(): boolean {
    // The clock is read only when the count reaches the limit, not for every packet: a window that
    // started over a second ago simply starts again.
    if (++this.windowPackets < this.readRate) return false;
    const now = sinceStart();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowPackets = 0;
      return false;
    }
    this.stream.pause();
    setTimeout(
      () => {
        if (this.closed) return;
        this.windowStart = sinceStart();
        this.windowPackets = 0;
        if (this.pending) this.process(this.pending);
        if (!this.closed && !this.stream.readableFlowing && this.windowPackets < this.readRate)
          this.stream.resume();
      },
      1000 - (now - this.windowStart),
    ).unref();
    return true;
  }

  // A CONNECT of a protocol level we do not speak is refused in the terms its client can read, before
  // the parser (which knows levels 3-5 only) calls it malformed: CONNACK 0x01 for a level below 5
  // [MQTT-3.1.2-2], the MQTT 5 form with 0x84 above [MQTT-3.1.2-2 in 5.0], then the close.
  private refuseUnknownLevel(frame: Buffer, headerLength: number): boolean {
    const nameEnd =
      headerLength + 2 + (frame.length >= headerLength + 2 ? frame.readUInt16BE(headerLength) : 0);
    if (nameEnd >= frame.length) return false;
    const level = frame[nameEnd] & 0x7f; // the top bit is the bridge flag some brokers use
    if (level === 3 || level === 4 || level === 5) return false;
    this.connected = true;
    this.writeEncoded(
      level < 5 ? Buffer.from([0x20, 0x02, 0x00, 0x01]) : Buffer.from([0x20, 0x03, 0x00, 0x84, 0x00]),
    );
    this.end();
    return true;
  }

  private dispatch(packet: Packet): void {
    if (this.closed || this.ending) return;
    if (packet.cmd === 'connect') {
      if (this.connected) return this.violation(MqttErrorCode.SecondConnect, 'a second CONNECT');
      this.connected = true;
      this.protocolVersion = packet.protocolVersion ?? 4;
      this.keepAlive(packet.keepalive ?? 0);
    } else if (packet.cmd !== 'publish' && !CLIENT_PACKETS.has(packet.cmd)) {
      return;
    }
    // Whatever handling this packet throws ends this connection only, never the process.
    try {
      if (this.handler) this.handler.handlePacket(packet);
      else this.events?.emit(packet.cmd, packet);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Closes this connection for a protocol error its peer made (MQTT 5: DISCONNECT with the matching reason). */
  protocolError(code: MqttErrorCode, message: string): void {
    this.violation(code, message);
  }

  /**
   * Closes this connection because handling one of its packets failed (a bug, not the peer's fault):
   * the handler (or the `error` listeners) get a `HandlerFailed` error with the cause.
   */
  fail(cause: unknown): void {
    const message = cause instanceof Error ? cause.message : String(cause);
    this.violation(MqttErrorCode.HandlerFailed, `handling a packet failed: ${message}`, cause);
  }

  /** Keep-alive: close after 1.5 x `keepalive` seconds without any byte from the client (0 disables). */
  keepAlive(keepalive: number): void {
    this.keepalive = keepalive;
    if (keepalive <= 0) silenceWatch.unwatch(this);
    else silenceWatch.watch(this, keepalive * 1500);
  }

  private violation(code: MqttErrorCode, message: string, cause?: unknown): void {
    if (this.closed) return;
    const error = new MqttProtocolError(code, message, { cause });
    try {
      if (this.handler) this.handler.handleViolation?.(error);
      else if (this.listenerCount('error') > 0) this.events?.emit('error', error);
    } finally {
      if (this.connected && this.protocolVersion === 5 && !this.ending) {
        // MQTT 5 says why before closing [MQTT-4.13.1-1]; the peer is not read any more.
        this.ending = true;
        this.send({
          cmd: 'disconnect',
          reasonCode: VIOLATION_REASONS[code],
          properties: { reasonString: message },
        });
        this.flush();
        this.stream.end();
        this.onClose();
        setTimeout(() => this.stream.destroy(), 2000).unref();
      } else {
        this.destroy();
      }
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    heldConnections.delete(this);
    this.pending = undefined;
    this.gathered = undefined;
    this.gatheredLength = 0;
    silenceWatch.unwatch(this);
    if (this.handler) this.handler.handleClose();
    else this.events?.emit('close');
  }
}

// One mqtt-packet parser serves every connection: frames reach it whole, so it holds nothing between
// calls, and a connection does not carry a parser (and its buffer list stream) of its own. Its settings
// are reset per call because the parser keeps the last CONNECT packet there.
const parserSettings = new Map<number, { protocolVersion: number }>();
let sharedParser: ReturnType<typeof mqttPacket.parser> | undefined;
let parsedPacket: Packet | undefined;
let parseError: Error | undefined;

function parseFrame(frame: Buffer, protocolVersion: number): Packet | Error {
  if (sharedParser === undefined) {
    sharedParser = mqttPacket.parser();
    sharedParser.on('packet', (packet: Packet) => (parsedPacket = packet));
    sharedParser.on('error', (error: Error) => (parseError = error));
  }
  let settings = parserSettings.get(protocolVersion);
  if (settings === undefined) parserSettings.set(protocolVersion, (settings = { protocolVersion }));
  (sharedParser as unknown as { settings: object }).settings = settings;
  parsedPacket = undefined;
  parseError = undefined;
  sharedParser.parse(frame);
  const packet = parsedPacket;
  const error = parseError;
  parsedPacket = undefined;
  parseError = undefined;
  if (error !== undefined || packet === undefined) {
    sharedParser = undefined; // its state may be mid-packet: start clean next time
    return error ?? new Error('incomplete packet');
  }
  return packet;
}

// Output is gathered across reads, and how long depends on its shape. While the broker is not busy
// (the last event-loop turn had one read or none), what the first read of a turn makes leaves right
// after it: nothing else is likely to join it, and a single message must not wait. In busy turns, many
// connections each getting a little (wildcard routing, replies) would cost a syscall apiece, so that
// waits for the end of the turn (setImmediate runs right after the poll phase): a subscriber fed by
// several publishers then gets one write per turn instead of one per publisher read. Big batches (a
// busy channel, point-to-point) leave after the read that made them: holding them only delays a
// subscriber that may already be behind, while the broker reads on.
let gatheringConnections: MqttConnection[] = [];
// True from the turn's first read (or first gathered write) until the end of the turn.
let turnEndPending = false;
let readsThisTurn = 0;
let readsLastTurn = 0;
// Connections whose packets wait (see holdPackets): rare, so a set instead of a field on every connection.
const heldConnections = new Set<MqttConnection>();
// Connections whose output leaves right after the current read (see flushAfterRead).
const flushAfterReadOf = new Set<MqttConnection>();
let gatheredBytes = 0;
const BIG_BATCH = 8192; // average bytes per connection worth a syscall of its own
const GATHER_LIMIT = 8 << 20; // bytes held at most before a flush

/** Flushes gathered output now if it is made of big batches or is over the limit (after a read). */
function flushIfWorthIt(): void {
  const count = gatheringConnections.length;
  if (count > 0 && (gatheredBytes >= BIG_BATCH * count || gatheredBytes > GATHER_LIMIT)) flushGathered();
}

function scheduleTurnEnd(): void {
  turnEndPending = true;
  setImmediate(endTurn);
}

function endTurn(): void {
  turnEndPending = false;
  readsLastTurn = readsThisTurn;
  readsThisTurn = 0;
  flushGathered();
}

function flushGathered(): void {
  const connections = gatheringConnections;
  gatheringConnections = [];
  gatheredBytes = 0;
  for (let i = 0; i < connections.length; i++) connections[i].flush();
}
