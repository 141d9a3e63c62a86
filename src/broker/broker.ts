import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { SubscriptionTrie } from '../channel/index.js';
import { listenSharedPort, type MqttConnection, type SharedPortServer } from '../mqtt/index.js';
import { KeyAuthority, type License } from '../security/index.js';
import { createKeygenHandler } from '../services/keygen/handler.js';
import { createKeyBanHandler } from '../services/keyban/handler.js';
import { createLinkHandler } from '../services/link/handler.js';
import { meHandler } from '../services/me/handler.js';
import { PresenceService } from '../services/presence/presence.js';
import { createHistoryHandler } from '../services/history/handler.js';
import { PubSub } from '../services/pubsub/pubsub.js';
import { InMemoryStorage, type Storage } from '../storage/index.js';
import type { Subscriber } from '../services/session.js';
import type { BrokerCore } from './core.js';
import { RequestRouter } from './requests.js';
import { ClientSession } from './session.js';

/** A host and port to listen on. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Everything a broker needs to run; the CLI builds it from the configuration. */
export interface BrokerOptions {
  readonly license: License;
  /** The key authority to use (shared with the HTTP side); one is made from the licence otherwise. */
  readonly authority?: KeyAuthority;
  readonly listen: ListenAddress;
  /** TLS listener serving the same MQTT, WebSocket and HTTP; absent when no certificate is configured. */
  readonly tls?: ListenAddress & { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** `emitter` (prefix matching, the default) or `mqtt`. */
  readonly matcher?: 'emitter' | 'mqtt';
  readonly limits?: { readonly messageSize?: number; readonly connectTimeoutMs?: number };
  readonly logger: Logger;
  /** Where messages with a ttl (or the retain flag) are kept; default in memory. */
  readonly storage?: Storage;
  /** Serves the HTTP side of the shared port (health, keygen page, metrics). */
  readonly httpHandler?: RequestListener;
}

const DEFAULT_MESSAGE_SIZE = 65536;
// Room for the topic and headers around a payload of `messageSize`, so an oversize message gets an
// Emitter error instead of a dropped connection; anything beyond this is a protocol violation.
const PACKET_OVERHEAD = 65536 + 16;

/** A single-node Emitter broker: shared-port listeners, sessions, pubsub and built-in requests. */
export class Broker implements BrokerCore {
  readonly authority: KeyAuthority;
  readonly trie: SubscriptionTrie<Subscriber>;
  readonly pubsub: PubSub;
  readonly storage: Storage;
  readonly presence: PresenceService;
  readonly requests: RequestRouter;
  readonly limits: { readonly messageSize: number };
  readonly sessions = new Set<ClientSession>();
  private readonly servers: SharedPortServer[] = [];
  private readonly logger: Logger;

  constructor(private readonly options: BrokerOptions) {
    this.logger = options.logger;
    this.limits = { messageSize: options.limits?.messageSize ?? DEFAULT_MESSAGE_SIZE };
    this.authority = options.authority ?? new KeyAuthority(options.license);
    this.trie = new SubscriptionTrie<Subscriber>(options.matcher ?? 'emitter');
    this.storage = options.storage ?? new InMemoryStorage();
    this.pubsub = new PubSub({ authority: this.authority, trie: this.trie, storage: this.storage });
    this.presence = new PresenceService({ authority: this.authority, trie: this.trie, pubsub: this.pubsub });
    this.pubsub.addListener(this.presence);
    this.requests = new RequestRouter([
      createKeygenHandler(this.authority),
      meHandler,
      this.presence,
      createLinkHandler({ authority: this.authority, pubsub: this.pubsub }),
      createKeyBanHandler(this.authority),
      createHistoryHandler(this.pubsub),
    ]);
  }

  /** Starts the listeners; resolves with the bound addresses (useful with port 0). */
  async listen(): Promise<{ port: number; tlsPort?: number }> {
    const connection = {
      maxPacketSize: this.limits.messageSize + PACKET_OVERHEAD,
      connectTimeout: this.options.limits?.connectTimeoutMs,
    };
    const onConnection = (conn: MqttConnection) => this.accept(conn);
    const plain = await listenSharedPort({
      host: this.options.listen.host,
      port: this.options.listen.port,
      connection,
      onConnection,
      onRequest: this.options.httpHandler,
    });
    this.servers.push(plain);
    const port = plain.address().port;
    this.logger.info(
      { address: `${this.options.listen.host}:${port}` },
      'listening for MQTT, WebSocket and HTTP',
    );
    const tls = this.options.tls;
    if (!tls) return { port };
    const secure = await listenSharedPort({
      host: tls.host,
      port: tls.port,
      tls: { key: tls.key, cert: tls.cert },
      connection,
      onConnection,
      onRequest: this.options.httpHandler,
    });
    this.servers.push(secure);
    const tlsPort = secure.address().port;
    this.logger.info(
      { address: `${tls.host}:${tlsPort}` },
      'listening for MQTT, WebSocket and HTTP over TLS',
    );
    return { port, tlsPort };
  }

  /** Stops accepting, closes every client and the listeners. */
  async close(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.close()));
    this.servers.length = 0;
    for (const session of this.sessions) session.connection.destroy();
    // Pending stored messages are committed before the storage closes.
    await this.storage.close();
  }

  sessionConnected(session: ClientSession): void {
    this.logger.debug({ id: session.id, clientId: session.clientId }, 'client connected');
  }

  sessionClosed(session: ClientSession): void {
    this.sessions.delete(session);
    this.presence.dropSession(session);
    this.logger.debug({ id: session.id }, 'client disconnected');
  }

  private accept(connection: MqttConnection): void {
    this.sessions.add(new ClientSession(connection, this));
  }
}
