import type { Duplex } from 'node:stream';
import { createWebSocketStream, type WebSocket } from 'ws';

/** WebSocket subprotocols we speak, in order of preference (Emitter's order). */
const SUBPROTOCOLS = ['mqttv3.1', 'mqttv3', 'mqtt'];

/**
 * Picks the subprotocol to echo: the official JS SDK offers `mqttv3.1` and aborts without the echo,
 * browsers refuse a missing echo too. No header when the client offered none of ours.
 */
export function selectSubprotocol(offered: Set<string>): string | false {
  for (const protocol of SUBPROTOCOLS) if (offered.has(protocol)) return protocol;
  return false;
}

/** A byte stream over a WebSocket: inbound frames (binary or text) concatenated, each write one binary frame. */
export function webSocketStream(socket: WebSocket): Duplex {
  const stream = createWebSocketStream(socket);
  // ws reports protocol errors on the stream as 'error'; the connection layer closes on them.
  return stream;
}
