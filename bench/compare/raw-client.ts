import net from 'node:net';
import mqttPacket from 'mqtt-packet';

const PUBLISH = 3;
const PUBACK = 4;

/**
 * A minimal MQTT 3.1.1 client on a raw socket, the load generator's unit: incoming frames are walked by
 * their fixed header only (type and remaining length), so counting a delivery costs a few byte reads.
 */
export class RawClient {
  received = 0;
  onPublish: ((payload: Buffer) => void) | undefined;
  onPuback: (() => void) | undefined;
  /** Called after each read chunk was scanned (deliveries counted): the closed loop's feedback. */
  onRead: (() => void) | undefined;
  /** For a generator: true while a write waits for 'drain'. */
  blocked = false;
  /** Acknowledge QoS 1 deliveries (PUBACK), as a QoS 1 subscriber must. */
  ackQos1 = false;
  private rest: Buffer | undefined;
  private waiting: { type: number; resolve: () => void } | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.read(chunk));
  }

  /**
   * Connects and waits for CONNACK (bounded); `clean: false` asks for a persistent session, whose
   * messages may follow CONNACK in the same read: `ackQos1` applies to them too.
   */
  static async connect(
    port: number,
    clientId: string,
    options: { clean?: boolean; ackQos1?: boolean } = {},
  ): Promise<RawClient> {
    const { clean = true, ackQos1 = false } = options;
    const socket = net.connect(port, '127.0.0.1');
    const client = new RawClient(socket);
    client.ackQos1 = ackQos1;
    const connack = client.expect(2);
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        clientId,
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean,
        keepalive: 0,
      }),
    );
    await connack;
    return client;
  }

  /** Subscribes (QoS 0 unless asked) and waits for SUBACK (bounded). */
  async subscribe(topic: string, qos: 0 | 1 = 0): Promise<void> {
    const suback = this.expect(9);
    this.socket.write(
      mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] }),
    );
    await suback;
  }

  /** Unsubscribes and waits for UNSUBACK (bounded). */
  async unsubscribe(topic: string): Promise<void> {
    const unsuback = this.expect(11);
    this.socket.write(mqttPacket.generate({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: [topic] }));
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

  private expect(type: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no packet of type ${type} within 10 s`)), 10000);
      this.waiting = {
        type,
        resolve: () => {
          clearTimeout(timer);
          this.waiting = undefined;
          resolve();
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
        if (this.ackQos1 && ((data[offset] >> 1) & 3) === 1) {
          const idAt = at + 2 + data.readUInt16BE(at);
          this.socket.write(Buffer.from([0x40, 2, data[idAt], data[idAt + 1]]));
        }
        if (this.onPublish) {
          const qos = (data[offset] >> 1) & 3;
          const start = at + 2 + data.readUInt16BE(at) + (qos > 0 ? 2 : 0);
          this.onPublish(data.subarray(start, at + length));
        }
      } else if (type === PUBACK) {
        this.onPuback?.();
      } else if (this.waiting?.type === type) {
        this.waiting.resolve();
      }
      offset = at + length;
    }
    this.rest = offset < data.length ? Buffer.from(data.subarray(offset)) : undefined;
  }
}

/** `count` PUBLISH packets (QoS 0) concatenated: one write sends them all. */
export function publishBatch(topic: string, payload: Buffer, count: number): Buffer {
  const one = mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false });
  return Buffer.concat(Array.from({ length: count }, () => one));
}
