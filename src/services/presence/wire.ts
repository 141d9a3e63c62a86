import { Errors, type EmitterError } from '../../errors.js';
import { parseJsonObject } from '../request.js';

/** `emitter/presence/` request: `status` defaults to true; `changes` absent leaves notifications as they are. */
export interface PresenceRequest {
  readonly key: string;
  readonly channel: string;
  readonly status: boolean;
  readonly changes: boolean | undefined;
}

/** One present connection: its id, and its MQTT username when it set one. */
export interface PresenceMember {
  readonly id: string;
  readonly username?: string;
}

/** The status reply: who is subscribed now (at most 1000, chosen at random), and how many in all. */
export interface PresenceStatus {
  readonly status: 200;
  readonly time: number;
  readonly event: 'status';
  readonly channel: string;
  readonly occupancy: number;
  readonly who: PresenceMember[];
}

/** A notification pushed to watchers when a connection subscribes or unsubscribes. */
export interface PresenceNotification {
  readonly time: number;
  readonly event: 'subscribe' | 'unsubscribe';
  readonly channel: string;
  readonly occupancy: number;
  readonly who: PresenceMember;
}

/** Reads a presence request; wrong field types are a bad request. */
export function parsePresenceRequest(payload: Buffer): PresenceRequest | EmitterError {
  const body = parseJsonObject(payload);
  if (!body) return Errors.BadRequest;
  const { key = '', channel = '', status = true, changes = null } = body;
  if (typeof key !== 'string' || typeof channel !== 'string') return Errors.BadRequest;
  if (typeof status !== 'boolean' || (changes !== null && typeof changes !== 'boolean'))
    return Errors.BadRequest;
  return {
    key,
    channel: channel.endsWith('/') ? channel : `${channel}/`,
    status,
    changes: changes ?? undefined,
  };
}

/** The channel a reply echoes, read leniently from a request that may not have parsed. */
export function requestedChannel(payload: Buffer): string {
  const channel = parseJsonObject(payload)?.channel;
  if (typeof channel !== 'string') return '';
  return channel.endsWith('/') ? channel : `${channel}/`;
}
