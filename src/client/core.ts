import type { IConnackPacket, MqttClient, Packet } from 'mqtt';
import { EventHub } from './events.js';
import { EmitterMessage, EmitterRequestError } from './message.js';
import { PingBarrier } from './ping-barrier.js';
import { ReplyDesk } from './reply-desk.js';
import { FilterStandIns, type FilterPacket } from './stand-ins.js';
import { formatChannel, replayOptions, type Payload, type SubscribeRequest } from './wire.js';

/** How a caller hears about a packet's outcome: a promise (`claim`), or emitter-io's events (`events`). */
export type Outcome = 'claim' | 'events';

const SUBACK_FAILURE = 0x80;

/**
 * One connection's machinery under both styles of the API: MQTT.js events to emitter-io's events, replies
 * to the promises waiting for them, subscriptions restored after a reconnect the broker kept nothing of.
 */
export class ClientCore {
  readonly hub = new EventHub();
  private readonly barrier: PingBarrier;
  private readonly desk = new ReplyDesk((reply) => this.toEvents(reply.topic, reply.payload, reply.body));
  private readonly standIns = new FilterStandIns();
  // Filters this client subscribed to (replay options left out) and their QoS, to subscribe again.
  private readonly subscriptions = new Map<string, 0 | 1>();
  // Promises in flight, failed at once by disconnect().
  private readonly pending = new Set<(error: Error) => void>();
  private connectedBefore = false;

  constructor(
    readonly mqtt: MqttClient,
    readonly requestTimeout: number,
    owner: object,
  ) {
    this.barrier = new PingBarrier(mqtt);
    mqtt.on('connect', (connack) => {
      this.restore(connack);
      this.hub.emit('connect', owner);
    });
    mqtt.on('close', () => {
      this.barrier.closed();
      this.hub.emit('disconnect', owner);
    });
    mqtt.on('offline', () => this.hub.emit('offline', owner));
    mqtt.on('error', (error) => this.hub.emit('error', error));
    mqtt.on('message', (topic, payload) => this.route(topic, payload));
    mqtt.on('packetsend', (packet: Packet) => this.sent(packet));
    mqtt.on('packetreceive', (packet: Packet) => this.barrier.packetReceived(packet.cmd));
  }

  /** PUBLISH. Resolves once written (QoS 0) or, for `claim`, once the broker took it without an error. */
  publish(topic: string, message: Payload, qos: 0 | 1, retain: boolean, outcome: Outcome): Promise<void> {
    return this.track((resolve, reject) => {
      this.mqtt.publish(topic, toBuffer(message), { qos, retain }, (error, packet) => {
        if (error) reject(error);
        else if (qos === 0 || !packet?.messageId) resolve();
        else this.settleAck(packet.messageId, outcome, resolve, reject);
      });
    });
  }

  /**
   * SUBSCRIBE to `topic`, resolving with the QoS the broker granted; `filter` (the topic without replay
   * options) is subscribed again after a reconnect.
   */
  subscribe(filter: string, topic: string, qos: 0 | 1, outcome: Outcome): Promise<number> {
    this.subscriptions.set(filter, qos);
    return this.track((resolve, reject) => {
      this.mqtt.subscribe(this.standIns.standIn(topic), { qos }, (error, _granted, packet) => {
        const suback = packet ?? (error as { packet?: typeof packet } | null)?.packet;
        if (!suback?.messageId) {
          // The connection closed first: the filter stays, to be subscribed on the next connection.
          if (error) reject(error);
          else resolve(0);
          return;
        }
        const granted = Number(suback.granted?.[0] ?? SUBACK_FAILURE);
        const refused = (granted & SUBACK_FAILURE) !== 0;
        if (refused) this.subscriptions.delete(filter);
        if (outcome === 'events') {
          this.desk.release(suback.messageId);
          resolve(granted);
        } else if (!refused) resolve(granted);
        else {
          // The broker explains a refusal on emitter/error/ with req = the SUBSCRIBE's id.
          const refusal = new EmitterRequestError(403, 'the broker refused the subscription');
          this.settleAck(suback.messageId, outcome, () => reject(refusal), reject);
        }
      });
    });
  }

  /** SUBSCRIBE to `channel` with the request's key, QoS and replay options. */
  subscribeChannel(request: SubscribeRequest, channel: string, outcome: Outcome): Promise<number> {
    const filter = formatChannel(request.key, channel);
    const topic = formatChannel(request.key, channel, replayOptions(request));
    return this.subscribe(filter, topic, request.qos ?? 0, outcome);
  }

  /** UNSUBSCRIBE; for `claim`, resolves once the broker sent no error for it. */
  unsubscribe(filter: string, outcome: Outcome): Promise<void> {
    this.subscriptions.delete(filter);
    return this.track((resolve, reject) => {
      this.mqtt.unsubscribe(this.standIns.standIn(filter), (error, packet) => {
        if (error || !packet?.messageId) {
          if (error) reject(error);
          else resolve();
          return;
        }
        this.settleAck(packet.messageId, outcome, resolve, reject);
      });
    });
  }

  /**
   * A request on `emitter/<name>/`. `events`: QoS 0 as emitter-io sends it, the reply goes to the events.
   * `claim`: QoS 1, resolves with the reply to its packet id (`req`), or rejects with the broker's error.
   */
  request(name: string, body: string, outcome: Outcome): Promise<Record<string, unknown>> {
    const topic = `emitter/${name}/`;
    if (outcome === 'events') return this.publish(topic, body, 0, false, outcome).then(() => ({}));
    return this.track((resolve, reject) => {
      let id: number | undefined;
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        if (id !== undefined) this.desk.unclaim(id);
        reject(new EmitterRequestError(408, `no answer to ${topic} within ${this.requestTimeout} ms`));
      }, this.requestTimeout);
      this.mqtt.publish(topic, body, { qos: 1 }, (error, packet) => {
        if (done) return;
        if (error || !packet?.messageId) {
          clearTimeout(timer);
          reject(error ?? new EmitterRequestError(0, `${topic} was not acknowledged`));
          return;
        }
        id = packet.messageId;
        this.desk.claim(id, (reply) => {
          clearTimeout(timer);
          const failure = replyError(reply.body);
          if (failure) reject(failure);
          else resolve(withoutReq(reply.body));
        });
      });
    });
  }

  /** Ends the connection; promises still waiting reject with status 0. */
  async end(): Promise<void> {
    const failure = new EmitterRequestError(0, 'the client disconnected');
    for (const reject of [...this.pending]) reject(failure);
    this.pending.clear();
    this.desk.clear();
    this.standIns.clear();
    this.subscriptions.clear();
    await this.mqtt.endAsync();
  }

  // After an ack: `events` hands later replies to the events; `claim` waits until the broker can have
  // sent nothing more about the packet, and rejects if it sent an error.
  private settleAck(id: number, outcome: Outcome, resolve: () => void, reject: (error: Error) => void): void {
    if (outcome === 'events') {
      this.desk.release(id);
      resolve();
      return;
    }
    this.desk.claim(id, (reply) => reject(replyError(reply.body) ?? new EmitterRequestError(500, 'error')));
    void this.barrier.wait().then(() => {
      this.desk.unclaim(id);
      resolve();
    });
  }

  private track<T>(run: (resolve: (value: T) => void, reject: (error: Error) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error): void => {
        this.pending.delete(fail);
        reject(error);
      };
      this.pending.add(fail);
      run((value) => {
        this.pending.delete(fail);
        resolve(value);
      }, fail);
    });
  }

  private sent(packet: Packet): void {
    this.barrier.packetSent(packet.cmd);
    if (packet.cmd === 'subscribe' || packet.cmd === 'unsubscribe')
      this.standIns.restore(packet as FilterPacket);
    if (packet.cmd === 'publish' || packet.cmd === 'subscribe' || packet.cmd === 'unsubscribe') {
      if (packet.messageId) this.desk.sent(packet.messageId);
    }
  }

  // A broker that kept the session (sessionPresent) kept the subscriptions; otherwise subscribe again,
  // without replay options: what was replayed on the first subscribe is not replayed twice.
  private restore(connack: IConnackPacket): void {
    const first = !this.connectedBefore;
    this.connectedBefore = true;
    if (first || connack.sessionPresent || this.subscriptions.size === 0) return;
    for (const [filter, qos] of this.subscriptions)
      void this.subscribe(filter, filter, qos, 'events').catch(() => {});
  }

  private route(topic: string, payload: Uint8Array): void {
    if (!topic.startsWith('emitter/')) {
      this.hub.emit('message', new EmitterMessage({ topic, payload }));
      return;
    }
    const body = parseObject(payload);
    const req = body?.req;
    if (body && typeof req === 'number' && req > 0 && this.desk.take(req, { topic, payload, body })) return;
    this.toEvents(topic, payload, body);
  }

  // emitter-io's routing, by topic prefix: keygen, presence and me replies have their own events (with
  // the parsed JSON); everything else, errors and link replies included, is a message.
  private toEvents(topic: string, payload: Uint8Array, body: Record<string, unknown> | undefined): void {
    const event = topic.startsWith('emitter/keygen')
      ? 'keygen'
      : topic.startsWith('emitter/presence')
        ? 'presence'
        : topic.startsWith('emitter/me')
          ? 'me'
          : undefined;
    if (event) this.hub.emit(event, withoutReq(body ?? {}));
    else this.hub.emit('message', new EmitterMessage({ topic, payload }));
  }
}

/** The broker's error in a reply (a status other than 200, or a non-empty `message`), if any. */
export function replyError(body: Record<string, unknown>): EmitterRequestError | undefined {
  const status = typeof body.status === 'number' ? body.status : 200;
  const message = typeof body.message === 'string' ? body.message : '';
  if (status === 200 && message === '') return undefined;
  return new EmitterRequestError(status, message || `request failed with status ${status}`);
}

function withoutReq(body: Record<string, unknown>): Record<string, unknown> {
  if (!('req' in body)) return body;
  const { req: _req, ...rest } = body;
  return rest;
}

function parseObject(payload: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(payload));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function toBuffer(message: Payload): string | Buffer {
  if (typeof message === 'string') return message;
  // MQTT.js wants a Buffer in Node; in a browser its bundled codec takes the bytes as they are.
  if (typeof Buffer === 'undefined') return message as Buffer;
  return Buffer.isBuffer(message)
    ? message
    : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
}
