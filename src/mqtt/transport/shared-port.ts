import http, { type RequestListener } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import { MqttConnection, type MqttConnectionOptions } from '../connection.js';
import { silenceWatch, type Watched } from '../silence-watch.js';
import { selectSubprotocol, webSocketStream } from './websocket.js';

/** How a connection reached us. */
export type Transport = 'tcp' | 'ws' | 'tls' | 'wss';

/** Options of a listener serving MQTT, MQTT over WebSocket and HTTP on one port. */
export interface SharedPortOptions {
  readonly host: string;
  readonly port: number;
  /** Serve everything inside TLS with this certificate and key. */
  readonly tls?: tls.TlsOptions;
  readonly connection?: MqttConnectionOptions;
  readonly onConnection: (connection: MqttConnection, info: { transport: Transport }) => void;
  /** Plain HTTP requests (anything that is not a WebSocket upgrade); default 404. */
  readonly onRequest?: RequestListener;
  /** Milliseconds to wait for the first bytes that tell the protocol (default 30000). */
  readonly sniffTimeout?: number;
}

/** A running shared-port listener. */
export interface SharedPortServer {
  address(): AddressInfo;
  /** Number of open sockets. */
  readonly connections: number;
  /** Stops accepting and closes every socket. */
  close(): Promise<void>;
}

// An HTTP request starts with an upper-case method name; an MQTT stream starts with a packet type byte.
function looksLikeHttp(byte: number): boolean {
  return byte >= 0x41 && byte <= 0x5a;
}

function destroySocket(this: net.Socket): void {
  this.destroy();
}

// A socket waiting for its first byte, as the silence watch sees it.
class SilentSocket implements Watched {
  lastTick = 0;
  allowedTicks = 0;
  constructor(private readonly socket: net.Socket) {}
  silenceExceeded(): void {
    this.socket.destroy();
  }
}

const notFound: RequestListener = (_request, response) => {
  response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  response.end('not found\n');
};

/** Listens on one port for MQTT over TCP, MQTT over WebSocket (any path) and HTTP, optionally inside TLS. */
export async function listenSharedPort(options: SharedPortOptions): Promise<SharedPortServer> {
  const secure = options.tls !== undefined;
  // Open sockets, each with its first-byte deadline until it has sent one.
  const sockets = new Map<net.Socket, SilentSocket | undefined>();
  const sniffTimeout = options.sniffTimeout ?? 30000;
  const httpServer = http.createServer(options.onRequest ?? notFound);
  httpServer.keepAliveTimeout = 5000;
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: (options.connection?.maxPacketSize ?? 1 << 20) + 16,
    handleProtocols: (offered) => selectSubprotocol(offered),
  });
  httpServer.on('upgrade', (request, socket, head) => {
    if ((request.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const stream = webSocketStream(ws);
      const address = request.socket.remoteAddress ?? '';
      options.onConnection(new MqttConnection(stream, options.connection, address), {
        transport: secure ? 'wss' : 'ws',
      });
    });
  });

  // The socket listeners are shared by every socket (EventEmitter calls them with the socket as
  // `this`), not closures made per connection; none is removed later either, as deleting an event
  // turns the socket's listener table into a slower, bigger dictionary.
  function forget(this: net.Socket): void {
    const waiting = sockets.get(this);
    if (waiting) silenceWatch.unwatch(waiting);
    sockets.delete(this);
  }
  function sniff(socket: net.Socket, first: Buffer): void {
    socket.pause();
    socket.unshift(first);
    if (looksLikeHttp(first[0])) {
      httpServer.emit('connection', socket);
    } else {
      const connection = new MqttConnection(socket, options.connection);
      options.onConnection(connection, { transport: secure ? 'tls' : 'tcp' });
    }
    socket.resume();
  }
  const route = (socket: net.Socket): void => {
    socket.on('close', forget);
    socket.on('error', destroySocket);
    socket.setNoDelay(true);
    // A socket that never sends its first byte is closed by the shared silence watch: a socket timeout
    // would leave its Timeout on the socket for good (~200 bytes per idle connection).
    const waiting = new SilentSocket(socket);
    sockets.set(socket, waiting);
    silenceWatch.watch(waiting, sniffTimeout);
    socket.once('data', (first: Buffer) => {
      silenceWatch.unwatch(waiting);
      sockets.set(socket, undefined);
      sniff(socket, first);
    });
  };

  const server = secure ? tls.createServer(options.tls ?? {}, route) : net.createServer(route);
  if (secure) server.on('tlsClientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    address: () => server.address() as AddressInfo,
    get connections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        wss.close();
        httpServer.closeAllConnections();
        for (const socket of sockets.keys()) socket.destroy();
      }),
  };
}
