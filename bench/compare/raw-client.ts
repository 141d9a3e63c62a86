import net from 'node:net';
import mqttPacket from 'mqtt-packet';

const CONNACK = 2;
const PUBLISH = 3;
const PUBACK = 4;
const PUBREC = 5;
const PUBREL = 6;
const PUBCOMP = 7;

/** The MQTT protocol levels the generator speaks: 4 (3.1.1) and 5. */
export type ProtocolLevel = 4 | 5;

/** A broker refused the connection (CONNACK with a non-zero code, or a close before CONNACK). */
export class ConnectRefused extends Error {}

/**
 * A minimal MQTT 3.1.1 / 5 client on a raw socket, the load generator's unit: incoming frames are walked by
 * their fixed header only (type and remaining length), so counting a delivery costs a few byte reads. At
 * level 5 it sends a CONNECT without properties and PUBLISHes with an empty property list (one 0 byte
 * after the topic and packet id), as a v5 client with nothing to add does.
 */
export class RawClient {
  received = 0;
  onPublish: ((payload: Buffer) => void) | undefined;
  /** QoS 1 publisher: PUBACK for `packetId` came. */
  onPuback: ((packetId: number) => void) | undefined;
  /** QoS 2 publisher: PUBREC for `packetId` came (the PUBREL answering it is already written). */
  onPubrec: ((packetId: number) => void) | undefined;
  /** QoS 2 publisher: PUBCOMP for `packetId` came, the end of the exchange. */
  onPubcomp: ((packetId: number) => void) | undefined;
  /** Called after each read chunk was scanned (deliveries counted): the closed loop's feedback. */
  onRead: (() => void) | undefined;
  /** For a generator: true while a write waits for 'drain'. */
  blocked = false;
  /** Acknowledge QoS 1 deliveries (PUBACK), as a QoS 1 subscriber must. */
  ackQos1 = false;
  /** Answer QoS 2 deliveries with PUBREC and the broker's PUBRELs with PUBCOMP, as a QoS 2 subscriber must. */
  ackQos2 = false;
  private rest: Buffer | undefined;
  private waiting:
    { type: number; resolve: (frame: Buffer) => void; reject: (error: Error) => void } | undefined;

  private constructor(
    readonly socket: net.Socket,
    readonly protocolVersion: ProtocolLevel,
  ) {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('close', () => this.waiting?.reject(new ConnectRefused('connection closed before the answer')));
  }

  /**
   * Connects and waits for CONNACK (bounded); `clean: false` asks for a persistent session, whose
   * messages may follow CONNACK in the same read: `ackQos1` applies to them too. Rejects with
   * `ConnectRefused` when the broker refuses (a broker without MQTT 5 answers a level 5 CONNECT so).
   */
  static async connect(
    port: number,
    clientId: string,
    options: { clean?: boolean; ackQos1?: boolean; protocolVersion?: ProtocolLevel } = {},
  ): Promise<RawClient> {
    const { clean = true, ackQos1 = false, protocolVersion = 4 } = options;
    const socket = net.connect(port, '127.0.0.1');
    const client = new RawClient(socket, protocolVersion);
    client.ackQos1 = ackQos1;
    const connack = client.expect(CONNACK);
    socket.write(
      mqttPacket.generate(
        { cmd: 'connect', clientId, protocolId: 'MQTT', protocolVersion, clean, keepalive: 0 },
        { protocolVersion },
      ),
    );
    let frame: Buffer;
    try {
      frame = await connack;
    } catch (error) {
      socket.destroy();
      throw error;
    }
    // CONNACK: flags, then the return code (3.1.1) or reason code (5).
    const code = frame[frame.length > 3 ? 3 : 2] ?? 0;
    if (code !== 0) {
      socket.destroy();
      throw new ConnectRefused(`CONNACK code 0x${code.toString(16).padStart(2, '0')}`);
    }
    return client;
  }

  /** Subscribes (QoS 0 unless asked) and waits for SUBACK (bounded). */
  async subscribe(topic: string, qos: 0 | 1 | 2 = 0): Promise<void> {
    const suback = this.expect(9);
    this.socket.write(
      mqttPacket.generate(
        { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] },
        { protocolVersion: this.protocolVersion },
      ),
    );
    await suback;
  }

  /** Unsubscribes and waits for UNSUBACK (bounded). */
  async unsubscribe(topic: string): Promise<void> {
    const unsuback = this.expect(11);
    this.socket.write(
      mqttPacket.generate(
        { cmd: 'unsubscribe', messageId: 2, unsubscriptions: [topic] },
        { protocolVersion: this.protocolVersion },
      ),
    );
    await unsuback;
  }

  /** Writes bytes; resolves at once, or on 'drain' (or close) when the socket pushes back. */
  write(bytes: Buffer): Promise<void> | undefined {
    if (this.socket.write(bytes)) return undefined;
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  // The next packet of `type`, whole (fixed header included); bounded.
  private expect(type: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no packet of type ${type} within 10 s`)), 10000);
      this.waiting = {
        type,
        resolve: (frame) => {
          clearTimeout(timer);
          this.waiting = undefined;
          resolve(frame);
        },
        reject: (error) => {
          clearTimeout(timer);
          this.waiting = undefined;
          reject(error);
        },
      };
    });
  }

  // Writes made while a read is handled (QoS 1 publishes sent back for the PUBACKs in it) leave in one
  // syscall: the generator batches, as a load generator should, instead of a write per message.
  private read(chunk: Buffer): void {
    this.socket.cork();
    try {
      this.scan(chunk);
    } finally {
      this.socket.uncork();
    }
    this.onRead?.();
  }

  private scan(chunk: Buffer): void {
    const data = this.rest === undefined ? chunk : Buffer.concat([this.rest, chunk]);
    let offset = 0;
    while (offset + 2 <= data.length) {
      let length = 0;
      let multiplier = 1;
      let at = offset + 1;
      let complete = false;
      while (at < data.length && at <= offset + 4) {
        const byte = data[at++];
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || at + length > data.length) break;
      const type = data[offset] >> 4;
      if (type === PUBLISH) {
        this.received++;
        const qos = (data[offset] >> 1) & 3;
        // The packet id sits right after the topic at every level.
        const idAt = at + 2 + data.readUInt16BE(at);
        if (qos === 1 && this.ackQos1) this.socket.write(Buffer.from([0x40, 2, data[idAt], data[idAt + 1]]));
        else if (qos === 2 && this.ackQos2)
          this.socket.write(Buffer.from([0x50, 2, data[idAt], data[idAt + 1]]));
        if (this.onPublish) {
          let start = idAt + (qos > 0 ? 2 : 0);
          if (this.protocolVersion === 5) {
            // Skip the properties: their length is a variable byte integer.
            let propertiesLength = 0;
            let factor = 1;
            let byte: number;
            do {
              byte = data[start++];
              propertiesLength += (byte & 0x7f) * factor;
              factor *= 128;
            } while (byte & 0x80);
            start += propertiesLength;
          }
          this.onPublish(data.subarray(start, at + length));
        }
      } else if (type >= PUBACK && type <= PUBCOMP) {
        // Acknowledgements: the packet id first (a v5 reason code and properties may follow).
        const id = data.readUInt16BE(at);
        if (type === PUBACK) this.onPuback?.(id);
        else if (type === PUBREC) {
          this.socket.write(Buffer.from([0x62, 2, id >> 8, id & 0xff]));
          this.onPubrec?.(id);
        } else if (type === PUBREL) {
          if (this.ackQos2) this.socket.write(Buffer.from([0x70, 2, id >> 8, id & 0xff]));
        } else this.onPubcomp?.(id);
      } else if (this.waiting?.type === type) {
        this.waiting.resolve(data.subarray(offset, at + length));
      }
      offset = at + length;
    }
    this.rest = offset < data.length ? Buffer.from(data.subarray(offset)) : undefined;
  }
}

/** `count` PUBLISH packets (QoS 0) concatenated: one write sends them all. */
export function publishBatch(
  topic: string,
  payload: Buffer,
  count: number,
  protocolVersion: ProtocolLevel = 4,
): Buffer {
  const one = publishFrame(topic, payload, 0, protocolVersion);
  return Buffer.concat(Array.from({ length: count }, () => one));
}

/**
 * One PUBLISH frame (no properties at level 5); QoS > 0 carries packet id 0: write a copy through
 * `withPacketId`.
 */
export function publishFrame(
  topic: string,
  payload: Buffer,
  qos: 0 | 1 | 2,
  protocolVersion: ProtocolLevel = 4,
): Buffer {
  const frame = mqttPacket.generate(
    { cmd: 'publish', topic, payload, qos, messageId: qos > 0 ? 1 : undefined, retain: false, dup: false },
    { protocolVersion },
  );
  return qos > 0 ? withPacketId(frame, 0) : frame;
}

/** A copy of a QoS > 0 PUBLISH frame with `packetId` in it (the id follows the topic at every level). */
export function withPacketId(frame: Buffer, packetId: number): Buffer {
  const copy = Buffer.from(frame);
  let at = 1;
  while (copy[at] & 0x80) at++;
  at++;
  copy.writeUInt16BE(packetId, at + 2 + copy.readUInt16BE(at));
  return copy;
}
