/** Options a publish can carry in its topic. */
export interface PublishOptions {
  /** Seconds to store the message (key needs `s`). */
  readonly ttl?: number;
  /** false: do not send the message back to this connection (`me=0`). */
  readonly me?: boolean;
  readonly qos?: 0 | 1;
  /** MQTT retain: stored for the broker's retention period (key needs `s`). */
  readonly retain?: boolean;
}

/** Options of a subscription: replay of stored messages (key needs `l`). */
export interface SubscribeOptions {
  /** How many stored messages to replay first. */
  readonly last?: number;
  /** Unix seconds (or a Date): replay messages from this time. */
  readonly from?: number | Date;
  /** Unix seconds (or a Date): replay messages until this time. */
  readonly until?: number | Date;
}

/** Builds `KEY/channel/?a=1&b=2` the way the official SDKs do. */
export function formatTopic(
  key: string,
  channel: string,
  options: Array<[string, string | number]> = [],
): string {
  const trimmedKey = key.replace(/^\/+|\/+$/g, '');
  let topic = trimmedKey ? `${trimmedKey}/${channel.replace(/^\/+/, '')}` : channel;
  if (!topic.endsWith('/')) topic += '/';
  if (options.length > 0) topic += `?${options.map(([name, value]) => `${name}=${value}`).join('&')}`;
  return topic;
}

/** Converts a time option to unix seconds. */
export function unixSeconds(value: number | Date): number {
  return value instanceof Date ? Math.floor(value.getTime() / 1000) : Math.floor(value);
}

/** Presence status reply. */
export interface PresenceStatus {
  readonly time: number;
  readonly event: 'status';
  readonly channel: string;
  readonly occupancy?: number;
  readonly who: Array<{ id: string; username?: string }>;
}

/** Presence notification pushed when a client subscribes or unsubscribes. */
export interface PresenceEvent {
  readonly time: number;
  readonly event: 'status' | 'subscribe' | 'unsubscribe';
  readonly channel: string;
  readonly occupancy?: number;
  readonly who: { id: string; username?: string } | Array<{ id: string; username?: string }>;
}

/** Keygen reply. */
export interface KeygenResult {
  readonly key: string;
  readonly channel: string;
}

/** `me` reply. */
export interface MeResult {
  readonly id: string;
  readonly links?: Record<string, string>;
}

/** Link reply. */
export interface LinkResult {
  readonly name: string;
  readonly channel: string;
}
