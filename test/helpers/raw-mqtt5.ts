import net from 'node:net';
import mqttPacket, { type IConnackPacket, type IConnectPacket, type Packet } from 'mqtt-packet';

/**
 * An MQTT 5 client at the packet level: it acknowledges nothing by itself and sends what MQTT.js would
 * refuse to (packets above the broker's maximum, too many unacknowledged publishes, bad topic aliases).
 */
export class RawMqtt5Client {
  readonly packets: Packet[] = [];
  private readonly parser = mqttPacket.parser({ protocolVersion: 5 });
  private readonly waiters: Array<() => void> = [];
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

  /** Connects with MQTT 5 and resolves with the client and its CONNACK (bounded). */
  static async connect(
    port: number,
    connect: Partial<Omit<IConnectPacket, 'cmd'>> = {},
  ): Promise<{ client: RawMqtt5Client; connack: IConnackPacket }> {
    const socket = net.connect(port, '127.0.0.1');
    const client = new RawMqtt5Client(socket);
    client.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clientId: 'raw5',
      clean: true,
      keepalive: 0,
      ...connect,
    });
    const connack = (await client.expect('connack')) as IConnackPacket;
    return { client, connack };
  }

  /** Writes a packet (MQTT 5 encoding). */
  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: 5 }));
  }

  /** The next packet of `cmd` not yet taken (earlier arrivals count), within `timeoutMs`. */
  async expect(cmd: Packet['cmd'], timeoutMs = 3000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.packets.findIndex((packet) => packet.cmd === cmd);
      if (index >= 0) return this.packets.splice(index, 1)[0];
      if (this.closed) throw new Error(`connection closed while waiting for ${cmd}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${cmd} within ${timeoutMs} ms`);
      await this.wait(left);
    }
  }

  /** Resolves once the broker has closed the connection (bounded). */
  async closedByBroker(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('the broker did not close the connection');
      await this.wait(left);
    }
  }

  /** Closes the socket. */
  close(): void {
    this.socket.destroy();
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
