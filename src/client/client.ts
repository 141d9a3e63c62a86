import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { TypedEmitter } from './events.js';
import { EmitterMessage, EmitterRequestError } from './message.js';
import {
  formatTopic,
  unixSeconds,
  type KeygenResult,
  type LinkResult,
  type MeResult,
  type PresenceEvent,
  type PresenceStatus,
  type PublishOptions,
  type SubscribeOptions,
} from './wire.js';

/** How to reach the broker. */
export interface ConnectOptions {
  /** Default `localhost`. A `scheme://` prefix is ignored. */
  readonly host?: string;
  /** Default 8080, or 443 when `secure`. */
  readonly port?: number;
  /** TLS (`mqtts://` or `wss://`). */
  readonly secure?: boolean;
  /** `tcp` (Node's default) or `ws` (the browser's only choice). */
  readonly transport?: 'tcp' | 'ws';
  /** Shown in presence. */
  readonly username?: string;
  readonly password?: string;
  readonly clientId?: string;
  /** Seconds; default 30. */
  readonly keepalive?: number;
  /** Milliseconds between reconnect attempts; 0 disables reconnecting. Default 1000. */
  readonly reconnectPeriod?: number;
  /** Milliseconds a request (keygen, presence, me, link, ...) may take; default 10000. */
  readonly requestTimeout?: number;
  /** Extra MQTT.js options (TLS `ca`, `rejectUnauthorized`, ...). */
  readonly mqtt?: IClientOptions;
}

/** Events of a client. Broker errors on `emitter/error/` arrive as `error` with an `EmitterRequestError`. */
export interface EmitterClientEvents extends Record<string, unknown[]> {
  connect: [];
  disconnect: [];
  offline: [];
  message: [message: EmitterMessage];
  presence: [event: PresenceEvent];
  keygen: [reply: Record<string, unknown>];
  me: [reply: Record<string, unknown>];
  error: [error: Error];
}

interface Waiter {
  resolve(body: Record<string, unknown>): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

const MAX_UNCLAIMED = 256;

/** A connection to an Emitter broker with Emitter's API; requests also return promises. */
export class EmitterClient extends TypedEmitter<EmitterClientEvents> {
  private readonly waiters = new Map<number, Waiter>();
  // Replies that came before we knew their packet id (a broker may answer before the PUBACK).
  private readonly unclaimed = new Map<number, Record<string, unknown>>();

  constructor(
    /** The underlying MQTT.js client. */
    readonly mqtt: MqttClient,
    private readonly requestTimeout: number,
  ) {
    super();
    mqtt.on('connect', () => this.emit('connect'));
    mqtt.on('close', () => this.emit('disconnect'));
    mqtt.on('offline', () => this.emit('offline'));
    mqtt.on('error', (error) => this.emit('error', error));
    mqtt.on('message', (topic, payload) => this.route(topic, new Uint8Array(payload)));
  }

  /** True while connected. */
  get connected(): boolean {
    return this.mqtt.connected;
  }

  /** Publishes a message; resolves when written (QoS 0) or acknowledged (QoS 1). */
  async publish(
    key: string,
    channel: string,
    message: string | Uint8Array,
    options: PublishOptions = {},
  ): Promise<void> {
    const topicOptions: Array<[string, string | number]> = [];
    if (options.me === false) topicOptions.push(['me', 0]);
    if (options.ttl) topicOptions.push(['ttl', options.ttl]);
    await this.mqtt.publishAsync(formatTopic(key, channel, topicOptions), toPayload(message), {
      qos: options.qos ?? 0,
      retain: options.retain ?? false,
    });
  }

  /** Publishes through a link made with `link()` (the 1-2 character name is the whole topic). */
  async publishWithLink(name: string, message: string | Uint8Array): Promise<void> {
    await this.mqtt.publishAsync(name, toPayload(message));
  }

  /** Subscribes; rejects with the broker's error (status and message) when refused. */
  subscribe(key: string, channel: string, options: SubscribeOptions = {}): Promise<void> {
    const topicOptions: Array<[string, string | number]> = [];
    if (options.last !== undefined) topicOptions.push(['last', options.last]);
    if (options.from !== undefined) topicOptions.push(['from', unixSeconds(options.from)]);
    if (options.until !== undefined) topicOptions.push(['until', unixSeconds(options.until)]);
    return this.subscribeTopic(formatTopic(key, channel, topicOptions));
  }

  /** Subscribes to a share group: each message on `channel` goes to one member of `group`. */
  subscribeWithGroup(
    key: string,
    channel: string,
    group: string,
    options: SubscribeOptions = {},
  ): Promise<void> {
    return this.subscribe(key, `$share/${group}/${channel.replace(/^\/+/, '')}`, options);
  }

  /** Unsubscribes. */
  async unsubscribe(key: string, channel: string): Promise<void> {
    await this.mqtt.unsubscribeAsync(formatTopic(key, channel));
  }

  /** Makes a channel key from the secret key (or a private-channel key from an extend key). */
  async keygen(key: string, channel: string, type: string, ttl = 0): Promise<KeygenResult> {
    const reply = await this.request('keygen', { key, channel, type, ttl });
    this.emit('keygen', reply);
    return { key: String(reply.key), channel: String(reply.channel) };
  }

  /** Asks who is on a channel; `changes: true` also subscribes to join/leave `presence` events. */
  async presence(key: string, channel: string, options: { changes?: boolean } = {}): Promise<PresenceStatus> {
    const body: Record<string, unknown> = { key, channel, status: true };
    if (options.changes !== undefined) body.changes = options.changes;
    const reply = await this.request('presence', body);
    this.emit('presence', reply as unknown as PresenceEvent);
    return reply as unknown as PresenceStatus;
  }

  /** Tells this connection's id and links. */
  async me(): Promise<MeResult> {
    const reply = await this.request('me', {});
    this.emit('me', reply);
    return reply as unknown as MeResult;
  }

  /** Makes a 1-2 character alias for `KEY/channel/?options` on this connection. */
  async link(
    key: string,
    channel: string,
    name: string,
    options: { private?: boolean; subscribe?: boolean } & Pick<PublishOptions, 'ttl' | 'me'> = {},
  ): Promise<LinkResult> {
    const topicOptions: Array<[string, string | number]> = [];
    if (options.me === false) topicOptions.push(['me', 0]);
    if (options.ttl) topicOptions.push(['ttl', options.ttl]);
    const reply = await this.request('link', {
      name,
      key,
      channel: formatTopic('', channel, topicOptions),
      subscribe: options.subscribe ?? false,
      private: options.private ?? false,
    });
    return { name: String(reply.name), channel: String(reply.channel) };
  }

  /** Bans (or unbans) a channel key, with the secret key. */
  async keyban(secret: string, target: string, banned: boolean): Promise<boolean> {
    const reply = await this.request('keyban', { secret, target, banned });
    return reply.banned === true;
  }

  /** Disconnects cleanly (no automatic reconnect after). */
  async disconnect(): Promise<void> {
    for (const [, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new EmitterRequestError(0, 'disconnected'));
    }
    this.waiters.clear();
    await this.mqtt.endAsync();
  }

  private async subscribeTopic(topic: string): Promise<void> {
    try {
      await this.mqtt.subscribeAsync(topic, { qos: 0 });
    } catch (error) {
      const packetId = (error as { packet?: { messageId?: number } }).packet?.messageId;
      // The broker explains a refused topic on emitter/error/ with req = the SUBSCRIBE packet id.
      if (packetId !== undefined) await this.reply(packetId);
      throw error;
    }
  }

  // A request: QoS 1 PUBLISH to emitter/<name>/, answered on the same topic with req = its packet id.
  private async request(name: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const packet = await this.mqtt.publishAsync(`emitter/${name}/`, JSON.stringify(body), { qos: 1 });
    const id = packet?.messageId;
    if (id === undefined) throw new EmitterRequestError(0, 'the request was not acknowledged');
    return this.reply(id);
  }

  private reply(id: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const settle = (body: Record<string, unknown>): void => {
        const status = typeof body.status === 'number' ? body.status : 200;
        if (status !== 200 || (typeof body.message === 'string' && body.message !== '')) {
          reject(new EmitterRequestError(status, String(body.message ?? 'request failed')));
        } else resolve(body);
      };
      const early = this.unclaimed.get(id);
      if (early) {
        this.unclaimed.delete(id);
        settle(early);
        return;
      }
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new EmitterRequestError(408, `no reply within ${this.requestTimeout} ms`));
      }, this.requestTimeout);
      this.waiters.set(id, { resolve: settle, reject, timer });
    });
  }

  private route(topic: string, payload: Uint8Array): void {
    if (!topic.startsWith('emitter/')) {
      this.emit('message', new EmitterMessage(topic, payload));
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    } catch {
      return;
    }
    const event = body.event;
    if (topic.startsWith('emitter/presence/') && (event === 'subscribe' || event === 'unsubscribe')) {
      this.emit('presence', body as unknown as PresenceEvent);
      return;
    }
    const req = typeof body.req === 'number' ? body.req : undefined;
    const waiter = req === undefined ? undefined : this.waiters.get(req);
    if (waiter && req !== undefined) {
      this.waiters.delete(req);
      clearTimeout(waiter.timer);
      waiter.resolve(body);
      return;
    }
    if (req !== undefined) {
      if (this.unclaimed.size >= MAX_UNCLAIMED)
        this.unclaimed.delete(this.unclaimed.keys().next().value as number);
      this.unclaimed.set(req, body);
    }
    if (topic.startsWith('emitter/error/')) {
      this.emit(
        'error',
        new EmitterRequestError(Number(body.status ?? 500), String(body.message ?? 'error')),
      );
    } else if (topic.startsWith('emitter/presence/')) this.emit('presence', body as unknown as PresenceEvent);
    else if (topic.startsWith('emitter/keygen/')) this.emit('keygen', body);
    else if (topic.startsWith('emitter/me/')) this.emit('me', body);
  }
}

function toPayload(message: string | Uint8Array): string | Buffer {
  if (typeof message === 'string') return message;
  // MQTT.js wants a Buffer in Node; in a browser its bundled codec takes the bytes as they are.
  if (typeof Buffer === 'undefined') return message as unknown as Buffer;
  return Buffer.from(message.buffer, message.byteOffset, message.byteLength);
}

/** Connects to an Emitter broker; resolves once connected (or rejects on the first error). */
export function connect(options: ConnectOptions = {}): Promise<EmitterClient> {
  const inBrowser = typeof (globalThis as { window?: unknown }).window !== 'undefined';
  const transport = options.transport ?? (inBrowser ? 'ws' : 'tcp');
  const secure = options.secure ?? false;
  const host = (options.host ?? 'localhost').replace(/^[a-z]+:\/\//i, '');
  const port = options.port ?? (secure ? 443 : 8080);
  const scheme = transport === 'ws' ? (secure ? 'wss' : 'ws') : secure ? 'mqtts' : 'mqtt';
  const url = `${scheme}://${host}:${port}${transport === 'ws' ? '/' : ''}`;
  const client = mqtt.connect(url, {
    keepalive: options.keepalive ?? 30,
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    reconnectPeriod: options.reconnectPeriod ?? 1000,
    connectTimeout: 10000,
    protocolVersion: 4,
    ...options.mqtt,
  });
  const emitter = new EmitterClient(client, options.requestTimeout ?? 10000);
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('close', onClose);
    };
    const onError = (error: Error): void => {
      settle();
      if (options.reconnectPeriod === 0 || !client.connected) client.end(true);
      reject(error);
    };
    // A browser's WebSocket that cannot connect only closes (no error event): without reconnecting,
    // that is the end of it.
    const onClose = (): void => {
      if (options.reconnectPeriod !== 0) return;
      settle();
      client.end(true);
      reject(new Error(`cannot connect to ${url}: the connection closed before CONNACK`));
    };
    const onConnect = (): void => {
      settle();
      resolve(emitter);
    };
    client.once('connect', onConnect);
    client.once('error', onError);
    client.on('close', onClose);
  });
}
