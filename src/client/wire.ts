// Request shapes (the official emitter-io SDK's, plus the calls it lacks), reply shapes, and topic formatting.

/** A message body: text (sent as UTF-8) or bytes (a Buffer in Node). */
export type Payload = string | Uint8Array;

/** `publish`: `me: false` keeps the message from coming back to this connection; `ttl` stores it (key needs `s`). */
export interface PublishRequest {
  key: string;
  channel: string;
  message: Payload;
  /** Seconds to store the message; 0 or absent: not stored. */
  ttl?: number;
  /** Default true (the broker echoes the message to its sender). */
  me?: boolean;
  /** MQTT QoS of the PUBLISH. Callbacks: default 0; promises: default 1 (the promise waits for the broker's verdict). */
  qos?: 0 | 1;
  /** MQTT retain: the broker stores the message for its retention period (key needs `s`). */
  retain?: boolean;
}

/** `publishWithLink`: the 1-2 character name made with `link()` stands for key, channel and options. */
export interface PublishWithLinkRequest {
  link: string;
  message: Payload;
  qos?: 0 | 1;
}

/** Replay of stored messages on subscribe (key needs `l`): unix seconds or Dates. */
export interface ReplayOptions {
  /** How many stored messages to replay first (the newest `last`, oldest first). */
  last?: number;
  from?: number | Date;
  until?: number | Date;
}

/** `subscribe`. */
export interface SubscribeRequest extends ReplayOptions {
  key: string;
  channel: string;
  /** QoS requested for deliveries (1: at least once, with a broker that keeps sessions). Default 0. */
  qos?: 0 | 1;
}

/** `subscribeWithGroup`: each message on `channel` goes to one member of `group` (key made for `$share/group/channel`). */
export interface GroupSubscribeRequest extends SubscribeRequest {
  group: string;
}

/** `unsubscribe`. */
export interface UnsubscribeRequest {
  key: string;
  channel: string;
}

/** `keygen`: a channel key from the secret key (or a private-channel key from a key with `e`). */
export interface KeyGenRequest {
  key: string;
  channel: string;
  /** Permission letters: r, w, s (store), l (load), p (presence), e (extend), x (execute). */
  type: string;
  /** Seconds the key lives; 0 = forever. */
  ttl?: number;
}

/** `presence`: `status` (default true) asks who is there; `changes` starts (true) or stops (false) notifications. */
export interface PresenceRequest {
  key: string;
  channel: string;
  status?: boolean;
  changes?: boolean;
}

/** `link`: a 1-2 character alias of `KEY/channel/?options` on this connection. */
export interface LinkRequest {
  key: string;
  channel: string;
  name: string;
  /** A private channel (`channel/<connection id>/`), with a key that has `e`. */
  private: boolean;
  /** Also subscribe this connection to the channel. */
  subscribe: boolean;
  ttl?: number;
  me?: boolean;
}

/** `keyban`: ban (or unban) a channel key, with the secret key. */
export interface KeyBanRequest {
  secret: string;
  target: string;
  banned: boolean;
}

/** `history`: stored messages of a channel (key needs `l`), newest `last` (default 1) of the time window. */
export interface HistoryRequest extends ReplayOptions {
  key: string;
  channel: string;
  /** Only messages older than this id (the `id` of a message from an earlier page). */
  startFromID?: string;
}

/** A connection in presence replies. */
export interface PresenceInfo {
  id: string;
  /** The MQTT username, when the connection gave one. */
  username?: string;
}

/** `keygen` event: the broker's reply as it sent it (`status` 200 with `key`, or an error status and `message`). */
export interface KeyGenEvent {
  status: number;
  key?: string;
  channel?: string;
  message?: string;
}

/**
 * `presence` event: a status reply (`who` a list), a notification (`event` `subscribe` or `unsubscribe`,
 * `who` one connection), or an error reply (`status` and `message`).
 */
export interface PresenceEvent {
  event: 'status' | 'subscribe' | 'unsubscribe' | '';
  channel: string;
  time: number;
  occupancy?: number;
  who: PresenceInfo[] | PresenceInfo | null;
  status?: number;
  message?: string;
}

/** `me` event: this connection's id and links, as the broker sent them. */
export interface MeEvent {
  id: string;
  links?: Record<string, string>;
  status?: number;
  message?: string;
}

/** Result of `promises.keygen`. */
export interface KeyGenResult {
  key: string;
  channel: string;
}

/** Result of `promises.presence`: who is on the channel (empty when asked with `status: false`). */
export interface PresenceResult {
  event: 'status' | '';
  channel: string;
  time: number;
  occupancy?: number;
  who: PresenceInfo[];
}

/** Result of `promises.me`: `links` maps each link name to its channel (empty when there are none). */
export interface MeResult {
  id: string;
  links: Record<string, string>;
}

/** Result of `promises.link`. */
export interface LinkResult {
  name: string;
  channel: string;
}

/** Result of `promises.subscribe`: the QoS the broker granted. */
export interface SubscribeResult {
  qos: number;
}

/** Result of `promises.keyban`. */
export interface KeyBanResult {
  banned: boolean;
}

/** A topic option (`name=value` after `?`). */
export type TopicOption = readonly [name: string, value: string | number];

/**
 * `KEY/channel/?a=1&b=2` exactly as the emitter-io SDK writes it: the key and channel joined by one `/`
 * (none added when the key ends with one), a trailing `/` added, option values not encoded.
 */
export function formatChannel(key: string, channel: string, options: readonly TopicOption[] = []): string {
  let formatted = channel;
  if (key) formatted = key.endsWith('/') ? key + channel : `${key}/${channel}`;
  if (!formatted.endsWith('/')) formatted += '/';
  if (options.length > 0) formatted += `?${options.map(([name, value]) => `${name}=${value}`).join('&')}`;
  return formatted;
}

/** The options `me` (always written, as emitter-io does) and `ttl` (when set) of a publish or link. */
export function publishOptions(
  me: boolean | undefined,
  ttl: number | undefined,
  zeroTtl: boolean,
): TopicOption[] {
  const options: TopicOption[] = [['me', me === false ? 0 : 1]];
  if (ttl || (zeroTtl && ttl !== undefined && ttl !== null)) options.push(['ttl', ttl]);
  return options;
}

/** The replay options of a subscribe or history request, in the order the official SDKs write them. */
export function replayOptions(request: ReplayOptions): TopicOption[] {
  const options: TopicOption[] = [];
  if (request.last !== undefined && request.last !== null) options.push(['last', request.last]);
  if (request.from !== undefined && request.from !== null) options.push(['from', unixSeconds(request.from)]);
  if (request.until !== undefined && request.until !== null)
    options.push(['until', unixSeconds(request.until)]);
  return options;
}

/** A time option in unix seconds. */
export function unixSeconds(value: number | Date): number {
  return value instanceof Date ? Math.floor(value.getTime() / 1000) : Math.floor(value);
}

/** The channel of a share group subscription, `$share/group/channel`. */
export function groupChannel(request: GroupSubscribeRequest): string {
  return `$share/${request.group.replace(/^\/+|\/+$/g, '')}/${request.channel.replace(/^\/+/, '')}`;
}

/** The `emitter/link/` body as emitter-io writes it (options in the channel, fields in its order). */
export function linkBody(request: LinkRequest): Record<string, unknown> {
  return {
    key: request.key,
    channel: formatChannel('', request.channel, publishOptions(request.me, request.ttl, true)),
    name: request.name,
    private: request.private,
    subscribe: request.subscribe,
  };
}

/** The `emitter/history/` body: the key and options go in `channel`, as Emitter reads it. */
export function historyBody(request: HistoryRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    key: request.key,
    channel: formatChannel(request.key, request.channel, replayOptions(request)),
  };
  if (request.startFromID) body.startFromID = request.startFromID;
  return body;
}
