import net from 'node:net';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';

/**
 * An MQTT 3.1.1 client at the packet level: it acknowledges nothing by itself, so tests can see packet ids,
 * QoS and DUP flags, leave deliveries unacknowledged, and drop the connection at a chosen moment.
 */
export class RawMqttClient {
  readonly packets: Packet[] = [];
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private readonly waiters: Array<() => void> = [];
  private consumed = 0;
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.parser.parse(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.parser.on('packet', (packet: Packet) => {
      this.packets.push(packet);
      this.wake();
    });
  }

  /** Connects and resolves with the client and its CONNACK's session-present flag (bounded). */
  static async connect(
    port: number,
    clientId: string,
    clean = true,
  ): Promise<{ client: RawMqttClient; sessionPresent: boolean; returnCode: number }> {
    const socket = net.connect(port, '127.0.0.1');
    const client = new RawMqttClient(socket);
    const connect = mqttPacket.generate({
      cmd: 'connect',
      clientId,
      protocolId: 'MQTT',
      protocolVersion: 4,
      // mqtt-packet refuses an empty client id without a clean session: the flag is cleared below.
      clean: clean || clientId === '',
      keepalive: 0,
    });
    // Connect flags follow the fixed header (2 bytes here), the protocol name (6) and level (1).
    if (!clean) connect[9] &= ~0x02;
    socket.write(connect);
    const connack = await client.expect('connack');
    return {
      client,
      sessionPresent: connack.cmd === 'connack' && connack.sessionPresent === true,
      returnCode: connack.cmd === 'connack' ? (connack.returnCode ?? 0) : -1,
    };
  }

  /** Subscribes and resolves with the granted QoS list. */
  async subscribe(topic: string, qos: 0 | 1 | 2, messageId = 1): Promise<number[]> {
    this.send({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] });
    const suback = await this.expect('suback');
    return suback.cmd === 'suback' ? suback.granted.map(Number) : [];
  }

  /** Writes a packet. */
  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet));
  }

  /** The next packet of `cmd` not yet taken (earlier arrivals count), within `timeoutMs`. */
  async expect(cmd: Packet['cmd'], timeoutMs = 3000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.consumed; i < this.packets.length; i++) {
        if (this.packets[i].cmd !== cmd) continue;
        const [packet] = this.packets.splice(i, 1);
        return packet;
      }
      if (this.closed) throw new Error(`connection closed while waiting for ${cmd}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${cmd} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next PUBLISH. */
  async publish(timeoutMs = 3000): Promise<IPublishPacket> {
    return (await this.expect('publish', timeoutMs)) as IPublishPacket;
  }

  /** Resolves once the broker has closed the connection (bounded). */
  async closedByBroker(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('the broker did not close the connection');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Drops the connection without DISCONNECT (as a network failure would). */
  drop(): void {
    this.socket.destroy();
  }

  /** A clean DISCONNECT. */
  disconnect(): void {
    if (this.closed) return;
    this.send({ cmd: 'disconnect' });
    this.socket.end();
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
