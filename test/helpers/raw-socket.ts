import { once } from 'node:events';
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/**
 * An MQTT 3.1.1 client on a bare socket, for what MQTT.js refuses to send (filters such as `a/#/b/`) or
 * for a client that stops reading: it writes the packets given and queues the packets received.
 */
export interface RawClient {
  readonly socket: net.Socket;
  /** Encodes and writes one packet. */
  send(packet: Packet): void;
  /** Resolves with the next received packet passing `filter` (earlier unconsumed ones count), or rejects after `timeoutMs`. */
  next(filter: (packet: Packet) => boolean, timeoutMs?: number): Promise<Packet>;
  close(): void;
}

/** Connects to a broker on loopback and waits for its CONNACK (bounded). */
export async function connectRaw(port: number, clientId: string, timeoutMs = 5000): Promise<RawClient> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const received: Packet[] = [];
  const consumed = new Set<number>();
  const waiters: Array<() => void> = [];
  parser.on('packet', (packet: Packet) => {
    received.push(packet);
    for (const wake of waiters.splice(0)) wake();
  });
  socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  const next = (filter: (packet: Packet) => boolean, wait = 3000): Promise<Packet> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = 0; i < received.length; i++) {
          if (consumed.has(i) || !filter(received[i])) continue;
          consumed.add(i);
          resolve(received[i]);
          return true;
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        const index = waiters.indexOf(wake);
        if (index >= 0) waiters.splice(index, 1);
        reject(new Error(`no matching packet within ${wait} ms`));
      }, wait);
      const wake = (): void => {
        if (check()) clearTimeout(timer);
        else waiters.push(wake);
      };
      waiters.push(wake);
    });
  const send = (packet: Packet): void => void socket.write(mqttPacket.generate(packet));
  await once(socket, 'connect');
  send({ cmd: 'connect', clientId, protocolVersion: 4, protocolId: 'MQTT', keepalive: 0, clean: true });
  const connack = await next((packet) => packet.cmd === 'connack', timeoutMs);
  if (connack.cmd !== 'connack' || connack.returnCode !== 0)
    throw new Error(`connect refused: ${JSON.stringify(connack)}`);
  return { socket, send, next, close: () => socket.destroy() };
}
