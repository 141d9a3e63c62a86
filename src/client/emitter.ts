import mqtt from 'mqtt';
import { mqttOptions, type ConnectRequest } from './connect-options.js';
import { ClientCore } from './core.js';
import type { EmitterMessage } from './message.js';
import { EmitterPromises } from './promises.js';
import { requireBoolean, requireMessage, requireString } from './validate.js';
import {
  formatChannel,
  groupChannel,
  historyBody,
  linkBody,
  publishOptions,
  type GroupSubscribeRequest,
  type HistoryRequest,
  type KeyBanRequest,
  type KeyGenEvent,
  type KeyGenRequest,
  type LinkRequest,
  type MeEvent,
  type PresenceEvent,
  type PresenceRequest,
  type PublishRequest,
  type PublishWithLinkRequest,
  type SubscribeRequest,
  type UnsubscribeRequest,
} from './wire.js';

/** Each event and what its callbacks receive (as in emitter-io). */
export interface EmitterEventMap {
  /** Connected (again, after each automatic reconnect). */
  connect: (client: Emitter) => void;
  /** The connection closed (`disconnect()` included). */
  disconnect: (client: Emitter) => void;
  /** Lost the connection; reconnecting. */
  offline: (client: Emitter) => void;
  /** A transport or MQTT error. Errors the broker answers with arrive as messages on `emitter/error/`. */
  error: (error: Error) => void;
  /** A message on a channel, or a broker message without an event of its own (`emitter/error/`, `emitter/link/`...). */
  message: (message: EmitterMessage) => void;
  keygen: (reply: KeyGenEvent) => void;
  presence: (event: PresenceEvent) => void;
  me: (reply: MeEvent) => void;
}

/** An event name: `'message'`, or `EmitterEvents.message`. */
export type EmitterEventName = keyof EmitterEventMap;

/**
 * A client of an Emitter broker with the API of the official `emitter-io` SDK: calls take one object,
 * return the client, and their answers arrive as events. `client.promises` has the same calls returning
 * promises.
 */
export class Emitter {
  private core: ClientCore | undefined;
  private promiseApi: EmitterPromises | undefined;

  /** Connects (see `connect()`); `handler` is added as a `connect` callback. */
  connect(request: ConnectRequest = {}, handler?: (client: Emitter) => void): this {
    const { url, options } = mqttOptions(request);
    this.core = new ClientCore(mqtt.connect(url, options), request.requestTimeout ?? 10000, this);
    this.promiseApi = undefined;
    if (handler) this.core.hub.add('connect', handler);
    return this;
  }

  /** The same calls, returning promises: `await client.promises.keygen({ key, channel, type })`. */
  get promises(): EmitterPromises {
    this.promiseApi ??= new EmitterPromises(this.connection('promises'));
    return this.promiseApi;
  }

  /** The MQTT.js client underneath. */
  get mqtt(): mqtt.MqttClient {
    return this.connection('mqtt').mqtt;
  }

  /** True while connected. */
  get connected(): boolean {
    return this.core?.mqtt.connected ?? false;
  }

  /** Disconnects; no reconnect after this. */
  disconnect(): this {
    void this.connection('disconnect').end().catch(ignore);
    return this;
  }

  /** Publishes a message (QoS 0 unless `qos`); a refusal arrives as a message on `emitter/error/`. */
  publish(request: PublishRequest): this {
    requireString('publish', request, 'key');
    requireString('publish', request, 'channel');
    requireMessage('publish', request);
    const topic = formatChannel(request.key, request.channel, publishOptions(request.me, request.ttl, false));
    void this.connection('publish')
      .publish(topic, request.message, request.qos ?? 0, request.retain ?? false, 'events')
      .catch(ignore);
    return this;
  }

  /** Publishes through a link made with `link()`. */
  publishWithLink(request: PublishWithLinkRequest): this {
    requireString('publishWithLink', request, 'link');
    requireMessage('publishWithLink', request);
    void this.connection('publishWithLink')
      .publish(request.link, request.message, request.qos ?? 0, false, 'events')
      .catch(ignore);
    return this;
  }

  /** Subscribes; `last` (and `from`, `until`) replay stored messages first. Restored after reconnects. */
  subscribe(request: SubscribeRequest): this {
    requireString('subscribe', request, 'key');
    requireString('subscribe', request, 'channel');
    void this.connection('subscribe').subscribeChannel(request, request.channel, 'events').catch(ignore);
    return this;
  }

  /** Subscribes to a share group: each message goes to one member of `group`. */
  subscribeWithGroup(request: GroupSubscribeRequest): this {
    requireString('subscribeWithGroup', request, 'key');
    requireString('subscribeWithGroup', request, 'channel');
    requireString('subscribeWithGroup', request, 'group');
    void this.connection('subscribeWithGroup')
      .subscribeChannel(request, groupChannel(request), 'events')
      .catch(ignore);
    return this;
  }

  /** Unsubscribes. */
  unsubscribe(request: UnsubscribeRequest): this {
    requireString('unsubscribe', request, 'key');
    requireString('unsubscribe', request, 'channel');
    const filter = formatChannel(request.key, request.channel);
    void this.connection('unsubscribe').unsubscribe(filter, 'events').catch(ignore);
    return this;
  }

  /** Asks for a channel key; the answer is a `keygen` event. */
  keygen(request: KeyGenRequest): this {
    requireString('keygen', request, 'key');
    requireString('keygen', request, 'channel');
    return this.send('keygen', JSON.stringify(request));
  }

  /** Asks who is on a channel (`presence` event) and, with `changes`, for join and leave events. */
  presence(request: PresenceRequest): this {
    requireString('presence', request, 'key');
    requireString('presence', request, 'channel');
    return this.send('presence', JSON.stringify(request));
  }

  /** Asks for this connection's id and links; the answer is a `me` event. */
  me(): this {
    return this.send('me', '');
  }

  /** Makes a link; the answer is a message on `emitter/link/`. */
  link(request: LinkRequest): this {
    requireString('link', request, 'key');
    requireString('link', request, 'channel');
    requireString('link', request, 'name');
    requireBoolean('link', request, 'private');
    requireBoolean('link', request, 'subscribe');
    return this.send('link', JSON.stringify(linkBody(request)));
  }

  /** Bans or unbans a key; the answer is a message on `emitter/keyban/`. */
  keyban(request: KeyBanRequest): this {
    requireString('keyban', request, 'secret');
    requireString('keyban', request, 'target');
    requireBoolean('keyban', request, 'banned');
    return this.send('keyban', JSON.stringify(request));
  }

  /**
   * Asks for one page of stored messages; the answer is a message on `emitter/history/` whose JSON has
   * `messages: [{ id, channel, payload (base64) }]`. `promises.history` pages and decodes for you.
   */
  history(request: HistoryRequest): this {
    requireString('history', request, 'key');
    requireString('history', request, 'channel');
    return this.send('history', JSON.stringify(historyBody(request)));
  }

  /** Adds a callback to an event; a name that is not an event throws. */
  on<E extends EmitterEventName>(event: E, callback: EmitterEventMap[E]): this {
    this.connection('on').hub.add(event, callback);
    return this;
  }

  /** Removes a callback. */
  off<E extends EmitterEventName>(event: E, callback: EmitterEventMap[E]): this {
    this.connection('off').hub.remove(event, callback);
    return this;
  }

  private send(name: string, body: string): this {
    void this.connection(name).request(name, body, 'events').catch(ignore);
    return this;
  }

  private connection(method: string): ClientCore {
    if (!this.core) throw new Error(`emitter.${method}: called before connecting`);
    return this.core;
  }
}

function ignore(): void {}

/** Connects to an Emitter broker and returns the client at once (as emitter-io's `connect`). */
export function connect(request?: ConnectRequest, handler?: (client: Emitter) => void): Emitter {
  return new Emitter().connect(request, handler);
}

/**
 * Connects and resolves with the client once connected; rejects if the first attempt fails (the client
 * is ended then). After that, the client reconnects by itself like one from `connect()`.
 */
export function connectAsync(request?: ConnectRequest): Promise<Emitter> {
  const client = connect(request);
  const underlying = client.mqtt;
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      underlying.off('connect', onConnect);
      underlying.off('error', onError);
      underlying.off('close', onClose);
      if (!error) {
        resolve(client);
        return;
      }
      underlying.end(true);
      reject(error);
    };
    const onConnect = (): void => settle();
    const onError = (error: Error): void => settle(error);
    const onClose = (): void => settle(new Error('the connection closed before the broker accepted it'));
    underlying.on('connect', onConnect);
    underlying.on('error', onError);
    underlying.on('close', onClose);
  });
}
