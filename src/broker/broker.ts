import http, { type IncomingMessage, type RequestListener } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createDashboardRoutes } from '../http/dashboard/page.js';
import { createHttpHandler, type HealthReport, type Route as HttpRoute } from '../http/handler.js';
import { createPresenceRoute } from '../http/presence-route.js';
import {
  parseChannel,
  ssidKey,
  startsWithDollar,
  SubscriptionTrie,
  type QoS,
  type Ssid,
  type SubscriptionOptions,
} from '../channel/index.js';
import { LocalCluster, type Cluster, type ClusterHost, type Route } from '../cluster/index.js';
import {
  listenSharedPort,
  MqttConnection,
  ReasonCode,
  selectSubprotocol,
  webSocketStream,
  type MqttConnectionOptions,
  type SharedPortServer,
} from '../mqtt/index.js';
import { KeyAuthority, type License } from '../security/index.js';
import { EmitterError, Errors } from '../errors.js';
import { createKeygenHandler } from '../services/keygen/handler.js';
import { createKeyBanHandler } from '../services/keyban/handler.js';
import { createLinkHandler } from '../services/link/handler.js';
import { meHandler } from '../services/me/handler.js';
import { PresenceService } from '../services/presence/presence.js';
import { createHistoryHandler } from '../services/history/handler.js';
import { PubSub } from '../services/pubsub/pubsub.js';
import {
  InMemoryRetainedStore,
  InMemorySessionStore,
  InMemoryStorage,
  type RetainedStore,
  type SessionStore,
  type Storage,
} from '../storage/index.js';
import type { Subscriber } from '../services/session.js';
import type { BrokerCore } from './core.js';
import { BrokerEvents, type BrokerEventMap, type BrokerEventName } from './events.js';
import { callHook, DEFAULT_HOOK_TIMEOUT_MS, HOOK_REFUSED, type BrokerHooks } from './hooks.js';
import { ListenError } from './listen-error.js';
import { BrokerCounters, createMetricsRegistry } from './metrics.js';
import { startMonitor, type Monitor, type MonitorOptions } from './monitor.js';
import { RefusalLog } from './refusal-log.js';
import { DEFAULT_MQTT5_SETTINGS, type Mqtt5Settings } from './mqtt5.js';
import { DEFAULT_SESSION_SETTINGS, SessionRegistry, type SessionSettings } from './registry.js';
import { keyedTopic } from './keyless.js';
import { anonymousKeyOf, isAnonymousPermissions, NO_PLAIN, type PlainSettings } from './plain.js';
import { RequestRouter, type RequestRouterOptions } from './requests.js';
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
  readonly limits?: {
    readonly messageSize?: number;
    readonly connectTimeoutMs?: number;
    /** Packets per second read from one connection (Emitter's `limit.readRate`). */
    readonly readRate?: number;
    /** Bytes queued to a client that does not read before deliveries to it are dropped (or it is closed). */
    readonly outgoingBuffer?: number;
    readonly slowConsumer?: 'drop' | 'disconnect';
    /** Most open connections; more are closed at once (0 = no limit). */
    readonly maxConnections?: number;
    /** Most new connections accepted per second (0 = no limit). */
    readonly connectRate?: number;
    /** Most subscriptions one connection may hold. */
    readonly maxSubscriptions?: number;
    readonly maxTopicLength?: number;
    readonly maxTopicLevels?: number;
  };
  readonly logger: Logger;
  /** Emitter's monitoring sink (`self`, `statsd`, `noop`); default none (tests), the CLI passes the config. */
  readonly monitor?: Omit<MonitorOptions, 'node'> & { readonly node?: string };
  /** Where messages with a ttl (or the retain flag) are kept; default in memory. */
  readonly storage?: Storage;
  /** Where MQTT retained messages (one per topic) are kept; default in memory. */
  readonly retained?: RetainedStore;
  /** Extra HTTP routes of the shared port (the broker serves `/health`, `/metrics`, `/presence` and the dashboard at `/`). */
  readonly httpRoutes?: Record<string, HttpRoute>;
  /** How this node joins others (default: alone). */
  readonly cluster?: Cluster;
  /** Where sessions are kept between connections (default in memory) and how they behave. */
  readonly sessions?: Partial<SessionSettings> & { readonly store?: SessionStore };
  /** What MQTT 5 clients are told in CONNACK and held to (Receive Maximum, Topic Alias Maximum, ...). */
  readonly mqtt5?: Partial<Mqtt5Settings>;
  /** The application's rules (README "Use it as a library"). */
  readonly hooks?: BrokerHooks;
  /** Milliseconds a hook may take before it counts as a refusal (default 5000). */
  readonly hookTimeoutMs?: number;
  /**
   * `false`: clients write channels without a key (`room/1`) and every client may use every channel, so
   * the hooks are the only rules. Default `true` (Emitter's channel keys, checked before the hooks).
   */
  readonly channelKeys?: boolean;
  /**
   * Permissions (letters of `rwslp`) anonymous plain MQTT clients get on every channel of the licence's
   * contract; '' (the default) is off. README "Plain MQTT clients".
   */
  readonly anonymous?: string;
  /** A channel key given as MQTT password authenticates a plain MQTT client (default false). */
  readonly keyPassword?: boolean;
}

/** Where the WebSocket endpoint of `attach(httpServer)` answers. */
export interface AttachOptions {
  /** The path of the WebSocket upgrade (default `/mqtt`); other paths are left to the application. */
  readonly path?: string;
}

const DEFAULT_MESSAGE_SIZE = 65536;
const DEFAULT_OUTGOING_BUFFER = 8 * 1024 * 1024;
// Room beyond `messageSize` (which bounds a PUBLISH's remaining length, as in Emitter), so a packet a
// little too large gets an Emitter error instead of a dropped connection; anything beyond this is a
// protocol violation.
const PACKET_OVERHEAD = 65536 + 16;

/** A single-node Emitter broker: shared-port listeners, sessions, pubsub and built-in requests. */
export class Broker implements BrokerCore {
  readonly authority: KeyAuthority;
  readonly trie: SubscriptionTrie<Subscriber>;
  readonly pubsub: PubSub;
  readonly storage: Storage;
  readonly retained: RetainedStore;
  readonly presence: PresenceService;
  readonly requests: RequestRouter;
  readonly limits: BrokerCore['limits'];
  readonly cluster: Cluster;
  /** Connected sessions by session id. */
  readonly sessions = new Map<string, ClientSession>();
  readonly registry: SessionRegistry;
  readonly sessionLimits: SessionSettings;
  readonly mqtt5: Mqtt5Settings;
  readonly counters = new BrokerCounters();
  readonly refusals: RefusalLog;
  readonly metrics: Registry;
  private readonly httpHandler: RequestListener;
  private closing = false;
  private readonly startedAt = Date.now();
  private readonly servers: SharedPortServer[] = [];
  private monitor: Monitor | undefined;
  private port = 0;
  private connectWindow = 0;
  private connectsInWindow = 0;
  private readonly logger: Logger;
  readonly hooks: BrokerHooks;
  readonly hookOptions: BrokerCore['hookOptions'];
  readonly events = new BrokerEvents();
  plainPublish = true;
  readonly keylessKey: string | undefined;
  readonly plain: PlainSettings;
  private started: Promise<void> | undefined;
  // What `attach` added to the application's servers, taken off again by `close`.
  private readonly detachers: Array<() => void> = [];
  private readonly connectionOptions: MqttConnectionOptions;

  constructor(private readonly options: BrokerOptions) {
    this.logger = options.logger;
    this.hooks = options.hooks ?? {};
    this.hookOptions = {
      logger: options.logger,
      timeoutMs: options.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
    };
    // One flag for the publish path to read instead of four.
    this.plainPublish = this.hooks.authorizePublish === undefined;
    this.events.onWatchChange = () => {
      this.plainPublish =
        this.hooks.authorizePublish === undefined && !this.events.watchPublished && !this.events.watchDropped;
    };
    this.events.onListenerError = (event, error) =>
      this.logger.error({ event, err: error }, 'a broker event listener threw');
    this.refusals = new RefusalLog(options.logger);
    this.limits = {
      messageSize: options.limits?.messageSize ?? DEFAULT_MESSAGE_SIZE,
      outgoingBuffer: options.limits?.outgoingBuffer ?? DEFAULT_OUTGOING_BUFFER,
      slowConsumer: options.limits?.slowConsumer ?? 'drop',
      maxTopicLength: options.limits?.maxTopicLength ?? 1024,
      maxTopicLevels: options.limits?.maxTopicLevels ?? 32,
    };
    this.authority = options.authority ?? new KeyAuthority(options.license);
    this.keylessKey = options.channelKeys === false ? keylessKey(options.license, this.authority) : undefined;
    this.plain = this.plainSettings(options);
    this.connectionOptions = {
      maxPacketSize: this.limits.messageSize + PACKET_OVERHEAD,
      connectTimeout: options.limits?.connectTimeoutMs,
      readRate: options.limits?.readRate ?? 100000,
    };
    this.trie = new SubscriptionTrie<Subscriber>(options.matcher ?? 'emitter');
    this.cluster = options.cluster ?? new LocalCluster('local');
    this.replicateSubscriptions();
    this.storage = options.storage ?? new InMemoryStorage();
    this.retained = options.retained ?? new InMemoryRetainedStore();
    this.pubsub = new PubSub({
      authority: this.authority,
      trie: this.trie,
      storage: this.storage,
      retained: this.retained,
      counters: this.counters,
      logger: this.logger,
      maxSubscriptions: options.limits?.maxSubscriptions ?? 1000,
    });
    this.presence = new PresenceService({ authority: this.authority, trie: this.trie, pubsub: this.pubsub });
    this.pubsub.addListener(this.presence);
    this.pubsub.addListener({
      subscribed: (session, subscription) => {
        if (this.events.watchClients && session instanceof ClientSession)
          this.events.emit('subscribed', session, { channel: subscription.channel, qos: subscription.qos });
      },
      unsubscribed: (session, subscription) => {
        if (this.events.watchClients && session instanceof ClientSession)
          this.events.emit('unsubscribed', session, { channel: subscription.channel });
      },
    });
    const { store: _store, ...sessionSettings } = options.sessions ?? {};
    this.sessionLimits = { ...DEFAULT_SESSION_SETTINGS, ...definedOnly(sessionSettings) };
    this.mqtt5 = { ...DEFAULT_MQTT5_SETTINGS, ...definedOnly(options.mqtt5 ?? {}) };
    this.registry = new SessionRegistry(
      options.sessions?.store ?? new InMemorySessionStore(this.sessionLimits),
      this.sessionLimits,
      this,
      (error) => this.logger.error({ err: error }, 'session store write failed'),
    );
    this.requests = new RequestRouter(
      [
        createKeygenHandler(this.authority),
        meHandler,
        this.presence,
        createLinkHandler({ authority: this.authority, pubsub: this.pubsub }),
        createKeyBanHandler(this.authority),
        createHistoryHandler(this.pubsub),
      ],
      {
        logger: this.logger,
        counters: this.counters,
        refusals: this.refusals,
        authorize: this.requestHook(),
      },
    );
    this.metrics = createMetricsRegistry({
      counters: this.counters,
      connections: () => this.sessions.size,
      subscriptions: () => this.localSubscriptions(),
      cluster: this.cluster,
      openBytes: () => this.openBytes(),
      offlineSessions: () => this.registry.offlineCount,
    });
    this.httpHandler = createHttpHandler(
      { health: () => this.health() },
      {
        '/metrics': (_request, response) => {
          this.metrics.metrics().then(
            (text) => {
              response.writeHead(200, { 'content-type': this.metrics.contentType });
              response.end(text);
            },
            () => {
              response.writeHead(500);
              response.end();
            },
          );
        },
        '/presence': createPresenceRoute((body) => this.presence.query(body)),
        ...createDashboardRoutes({
          provider: options.monitor?.provider ?? 'none',
          channel: options.monitor?.channel ?? 'stats',
          interval: options.monitor?.interval ?? 1000,
        }),
        ...options.httpRoutes,
      },
    );
  }

  // Keyless mode reads every topic with its own key: plain MQTT access does not apply there.
  private plainSettings(options: BrokerOptions): PlainSettings {
    const anonymous = options.anonymous ?? '';
    if (!isAnonymousPermissions(anonymous))
      throw new Error(`anonymous: "${anonymous}" is not a set of the permissions r, w, s, l, p`);
    if (this.keylessKey !== undefined) {
      if (anonymous !== '' || options.keyPassword === true)
        this.logger.warn('anonymous and keyPassword do not apply with channelKeys: false');
      return NO_PLAIN;
    }
    if (anonymous !== '')
      this.logger.warn(
        { anonymous },
        'ANONYMOUS ACCESS IS ON: any MQTT client without a password may use every channel of the contract with these permissions',
      );
    return {
      keyPassword: options.keyPassword === true,
      anonymousKey: anonymousKeyOf(anonymous, options.license, this.authority),
    };
  }

  /**
   * Starts the listeners; resolves with the bound addresses (useful with port 0). A listener that cannot
   * start rejects with a `ListenError`, after closing whatever had started (so the process can exit).
   */
  async listen(): Promise<{ port: number; tlsPort?: number }> {
    await this.start();
    const connection = this.connectionOptions;
    const onConnection = (conn: MqttConnection) => this.accept(conn);
    const plain = await this.bind('plain', this.options.listen, { connection, onConnection });
    const port = plain.address().port;
    this.port = port;
    if (this.options.monitor) {
      this.monitor = startMonitor(
        {
          counters: this.counters,
          contract: this.options.license.contract,
          connections: () => this.sessions.size,
          // This node's clients only: in a cluster the trie also holds the peers' subscribers.
          subscriptions: () => this.localSubscriptions(),
          openBytes: () => this.openBytes(),
          storage: () => ({ provider: this.storage.name, ok: this.storage.health().ok }),
          cluster: () => this.cluster.state(),
          deliver: (ssid, topic, payload) => this.pubsub.deliver(ssid, topic, payload),
        },
        { ...this.options.monitor, node: this.nodeName },
      );
    }
    this.logger.info(
      { address: `${this.options.listen.host}:${port}` },
      'listening for MQTT, WebSocket and HTTP',
    );
    const tls = this.options.tls;
    if (!tls) return { port };
    const secure = await this.bind('tls', tls, {
      connection,
      onConnection,
      tls: { key: tls.key, cert: tls.cert },
    });
    const tlsPort = secure.address().port;
    this.logger.info(
      { address: `${tls.host}:${tlsPort}` },
      'listening for MQTT, WebSocket and HTTP over TLS',
    );
    return { port, tlsPort };
  }

  /**
   * Joins the cluster and puts stored persistent sessions back; `listen` calls it, and so does
   * `createBroker`, before anything can connect. Idempotent.
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.cluster.start(this.clusterHost());
      const restored = await this.registry.restore();
      if (restored > 0) this.logger.info({ sessions: restored }, 'restored persistent sessions');
    })();
    return this.started;
  }

  /** Serves one client over a duplex byte stream the application accepted itself (Aedes' `handle`). */
  handle(stream: Duplex, remoteAddress?: string): void {
    if (stream instanceof net.Socket) stream.setNoDelay(true);
    this.accept(new MqttConnection(stream, this.connectionOptions, remoteAddress));
  }

  /**
   * Serves MQTT on a server the application already has: on an `http.Server` or `https.Server`, MQTT over
   * WebSocket at `options.path` (default `/mqtt`; its other routes and upgrades are left alone); on a
   * `tls.Server` or `net.Server`, MQTT on every connection. `close()` takes the broker off the server
   * again (the server itself is the application's to close). Returns a function that does it now.
   */
  attach(server: net.Server, options: AttachOptions = {}): () => void {
    let detach: () => void;
    if (server instanceof http.Server || server instanceof https.Server) {
      detach = this.attachWebSocket(server, options.path ?? '/mqtt');
    } else {
      const event = server instanceof tls.Server ? 'secureConnection' : 'connection';
      const onSocket = (socket: net.Socket): void => this.handle(socket);
      server.on(event, onSocket);
      detach = () => server.off(event, onSocket);
    }
    let attached = true;
    const once = (): void => {
      if (!attached) return;
      attached = false;
      detach();
      const index = this.detachers.indexOf(once);
      if (index >= 0) this.detachers.splice(index, 1);
    };
    this.detachers.push(once);
    return once;
  }

  private attachWebSocket(server: http.Server, path: string): () => void {
    const wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: (this.connectionOptions.maxPacketSize ?? 1 << 20) + 16,
      handleProtocols: (offered) => selectSubprotocol(offered),
    });
    const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (requestPath(request) !== path) {
        // Another path is the application's; nobody else listening means nobody will answer it.
        if (server.listenerCount('upgrade') === 1) socket.destroy();
        return;
      }
      if (this.closing || (request.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => {
        this.handle(webSocketStream(ws), request.socket.remoteAddress ?? '');
      });
    };
    server.on('upgrade', onUpgrade);
    return () => {
      server.off('upgrade', onUpgrade);
      wss.close();
    };
  }

  // The `authorizeRequest` hook as the request router calls it; undefined when the application set none.
  private requestHook(): RequestRouterOptions['authorize'] {
    const hook = this.hooks.authorizeRequest;
    if (hook === undefined) return undefined;
    return (session, name, payload) =>
      callHook(
        'authorizeRequest',
        session as ClientSession,
        () => hook(session as ClientSession, { name, payload }),
        HOOK_REFUSED,
        this.hookOptions,
      );
  }

  /**
   * Publishes from the application (Aedes' `publish`): `topic` as a client would write it (with its
   * channel key, or keyless under `channelKeys: false`; options such as `?ttl=60` included). Resolves once
   * delivered (and stored, with a ttl); rejects with the `EmitterError` a client would get.
   */
  async publish(
    topic: string,
    payload: Buffer | string,
    options: { readonly qos?: QoS; readonly retain?: boolean } = {},
  ): Promise<void> {
    const channel = parseChannel(keyedTopic(this.keylessKey, topic));
    if (channel.key === 'emitter') throw Errors.Forbidden;
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const error = await this.pubsub.publish(
      undefined,
      channel,
      bytes,
      options.retain ?? false,
      options.qos ?? 0,
    );
    if (error) throw error;
  }

  /** Adds a listener for one of the broker's events (README "Use it as a library"). */
  on<E extends BrokerEventName>(event: E, listener: (...args: BrokerEventMap[E]) => void): this {
    this.events.on(event, listener);
    return this;
  }

  /** Removes an event listener. */
  off<E extends BrokerEventName>(event: E, listener: (...args: BrokerEventMap[E]) => void): this {
    this.events.off(event, listener);
    return this;
  }

  private localSubscriptions(): number {
    let count = 0;
    for (const session of this.sessions.values()) count += session.subscriptions.size;
    return count;
  }

  /** Bytes in and out of the connections still open (closed ones are in the counters). */
  private openBytes(): { in: number; out: number } {
    const bytes = { in: 0, out: 0 };
    for (const session of this.sessions.values()) {
      bytes.in += session.connection.bytesReceived;
      bytes.out += session.connection.bytesSent;
    }
    return bytes;
  }

  /** This node's name: `monitor.node`, else the cluster's name, else `node<port>`. */
  get nodeName(): string {
    return this.options.monitor?.node ?? (this.options.cluster ? this.cluster.name : `node${this.port}`);
  }

  /**
   * What `/health` reports. `unavailable` (503) while shutting down or while the storage cannot work
   * (Redis unreachable, disk failing): a load balancer should send clients elsewhere. `degraded` (200)
   * while a cluster node is cut off from Redis: it still serves its own clients.
   */
  health(): HealthReport {
    const storage = this.storage.health();
    const cluster = this.cluster.state();
    let status: HealthReport['status'] = 'ok';
    if (this.closing || !storage.ok) status = 'unavailable';
    else if (!cluster.connected) status = 'degraded';
    return {
      status,
      ...(this.closing ? { reason: 'shutting down' } : {}),
      node: this.nodeName,
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      connections: this.sessions.size,
      storage: { provider: this.storage.name, ...storage },
      cluster,
    };
  }

  private async bind(
    listener: 'plain' | 'tls',
    address: ListenAddress,
    options: Omit<Parameters<typeof listenSharedPort>[0], 'host' | 'port' | 'onRequest'>,
  ): Promise<SharedPortServer> {
    try {
      const server = await listenSharedPort({
        host: address.host,
        port: address.port,
        onRequest: this.httpHandler,
        ...options,
      });
      this.servers.push(server);
      return server;
    } catch (error) {
      await this.close().catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      throw new ListenError(listener, address.host, address.port, code, error);
    }
  }

  /** True once `close` has begun (`/health` answers 503). */
  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Graceful stop: refuse new work, let stored messages in flight commit, close every client cleanly
   * (their sockets end after pending writes), stop the listeners and close the storage.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.monitor?.stop();
    for (const detach of [...this.detachers]) detach();
    await Promise.all([...this.sessions.values()].map((session) => session.drain()));
    for (const session of this.sessions.values())
      session.connection.disconnect(ReasonCode.ServerShuttingDown, 'the server is shutting down');
    await this.registry.close();
    await Promise.all(this.servers.map((server) => server.close()));
    this.servers.length = 0;
    // After the clients: their unsubscribes reach the peers before this node says goodbye.
    await this.cluster.close();
    // Pending stored messages are committed before the storage closes.
    await this.storage.close();
    await this.retained.close();
    await this.registry.store.close();
  }

  // Floods: cap the open connections and the rate of new ones (a fixed one-second window).
  private overConnectionLimits(): boolean {
    const max = this.options.limits?.maxConnections ?? 0;
    if (max > 0 && this.sessions.size >= max) return true;
    const rate = this.options.limits?.connectRate ?? 0;
    if (rate <= 0) return false;
    const now = Date.now();
    if (now - this.connectWindow >= 1000) {
      this.connectWindow = now;
      this.connectsInWindow = 0;
    }
    return ++this.connectsInWindow > rate;
  }

  sessionConnected(session: ClientSession): void {
    if (this.events.watchClients) this.events.emit('clientConnected', session);
    // Guarded: reading the address costs a system call. Read here, it stays known after the close.
    if (!this.logger.isLevelEnabled('debug')) return;
    const { id, clientId, connection } = session;
    this.logger.debug(
      { clientId, connection: id, remoteAddress: connection.remoteAddress },
      'client connected',
    );
  }

  sessionClosed(session: ClientSession): void {
    this.sessions.delete(session.id);
    this.counters.bytesIn += session.connection.bytesReceived;
    this.counters.bytesOut += session.connection.bytesSent;
    this.presence.dropSession(session);
    this.registry.disconnected(session);
    // Only sessions that were connected (CONNACK sent) are told as disconnected.
    if (this.events.watchClients && session.accepted) this.events.emit('clientDisconnected', session);
    if (!this.logger.isLevelEnabled('debug')) return;
    const { id, clientId, connection } = session;
    this.logger.debug(
      { clientId, connection: id, remoteAddress: connection.remoteAddress },
      'client disconnected',
    );
  }

  sessionReplaced(fresh: ClientSession, existing: ClientSession): void {
    this.sessions.delete(fresh.id);
    this.sessions.set(existing.id, existing);
  }

  sessionFailed(session: ClientSession, error: unknown): void {
    this.counters.connectionFailures++;
    this.logger.error(
      { err: error, id: session.id, clientId: session.clientId },
      'handling a client packet failed: closed that connection',
    );
  }

  private accept(connection: MqttConnection): void {
    if (this.closing || this.overConnectionLimits()) {
      this.counters.refusedConnections++;
      connection.destroy();
      return;
    }
    this.counters.connectionsTotal++;
    const session = new ClientSession(connection, this);
    this.sessions.set(session.id, session);
  }

  // Every trie change made for a client of this node is told to the cluster, whichever service made it
  // (subscriptions, share groups, presence watches), so peers route matching messages here.
  private replicateSubscriptions(): void {
    const describe = (ssid: Ssid, session: ClientSession) => ({
      id: session.id,
      username: session.username,
      clientId: session.clientId,
      channel: session.subscriptions.get(ssidKey(ssid))?.channel ?? '',
      ssid,
    });
    this.trie.observe({
      added: (ssid, subscriber) => {
        if (subscriber instanceof ClientSession) this.cluster.subscribed(describe(ssid, subscriber));
      },
      removed: (ssid, subscriber) => {
        if (subscriber instanceof ClientSession) this.cluster.unsubscribed(describe(ssid, subscriber));
      },
    });
  }

  // What the cluster calls back into: the trie for peers' subscribers, and local delivery of their messages.
  private clusterHost(): ClusterHost {
    return {
      // At QoS 2: the peer caps each delivery at its own client's grant, so the publish QoS travels.
      addRemote: (ssid, subscriber) => void this.trie.subscribe(ssid, subscriber, 2),
      removeRemote: (ssid, subscriber) => void this.trie.unsubscribe(ssid, subscriber),
      deliverLocal: (route: Route, delivery) => {
        const match = this.trie.matchChannel(route.contract, route.levels, startsWithDollar(delivery.topic));
        const cap = delivery.qos;
        // Direct subscribers only: share groups were picked on the publisher's node (a Targeted frame).
        const recipients = match.subscriptions;
        for (let i = 0; i < recipients.length; i++) {
          const { subscriber, qos, options } = recipients[i];
          if (subscriber.peer !== undefined) continue; // a peer's copy went from the publisher's node
          // With its MQTT 5 options (Retain As Published, Subscription Identifier), as on a local publish.
          subscriber.deliver(delivery, qos < cap ? qos : cap, undefined, options);
          this.counters.messagesOut++;
        }
      },
      deliverTo: (sessionId, route, delivery) => {
        const session = this.sessions.get(sessionId);
        if (!session) return;
        const member = memberIn(this.trie, route, sessionId, startsWithDollar(delivery.topic));
        session.deliver(delivery, Math.min(delivery.qos, member.qos) as QoS, undefined, member.options);
        this.counters.messagesOut++;
      },
      peerLeft: (subscriptions) => this.presence.peerLeft(subscriptions),
      release: (clientId) => this.registry.release(clientId),
    };
  }
}

// A session's share-group subscription with the highest QoS among those matching a route (QoS 0 when
// none), whose options (a plain subscription's topic form) its delivery takes.
function memberIn(
  trie: SubscriptionTrie<Subscriber>,
  route: Route,
  sessionId: string,
  dollar: boolean,
): { qos: QoS; options?: SubscriptionOptions } {
  let found: { qos: QoS; options?: SubscriptionOptions } = { qos: 0 };
  for (const group of trie.matchChannel(route.contract, route.levels, dollar).groups) {
    for (const member of group) {
      if (member.subscriber.id === sessionId && (member.qos > found.qos || found.options === undefined))
        found = member;
    }
  }
  return found;
}

// The path of a request, without its query.
function requestPath(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

// The key keyless topics are read with: all permissions on `#/`, made from the licence's master key.
function keylessKey(license: License, authority: KeyAuthority): string {
  const created = authority.createKey({
    secret: license.newMasterKey(),
    channel: '#/',
    type: 'rwslp',
    ttl: 0,
  });
  if (created instanceof EmitterError) throw new Error(`cannot make the keyless key: ${created.message}`);
  return created.key;
}

// Leaves out keys whose value is undefined, so they do not override defaults when spread.
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
