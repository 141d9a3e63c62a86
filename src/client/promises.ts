import type { ClientCore } from './core.js';
import { history, historyPages } from './history.js';
import type { HistoryMessage } from './message.js';
import { requireBoolean, requireMessage, requireString } from './validate.js';
import {
  formatChannel,
  groupChannel,
  linkBody,
  publishOptions,
  type GroupSubscribeRequest,
  type HistoryRequest,
  type KeyBanRequest,
  type KeyBanResult,
  type KeyGenRequest,
  type KeyGenResult,
  type LinkRequest,
  type LinkResult,
  type MeResult,
  type PresenceInfo,
  type PresenceRequest,
  type PresenceResult,
  type PublishRequest,
  type PublishWithLinkRequest,
  type SubscribeRequest,
  type SubscribeResult,
  type UnsubscribeRequest,
} from './wire.js';

/**
 * The client's calls with the same arguments, returning promises (`client.promises`). A promise rejects
 * with an `EmitterRequestError` (the broker's `status` and `message`) when the broker refuses, after
 * `requestTimeout` when a request gets no answer, or with status 0 on `disconnect()`. Answers that settle
 * a promise do not also fire events.
 */
export class EmitterPromises {
  constructor(private readonly core: ClientCore) {}

  /**
   * Publishes. QoS 1 by default: resolves once the broker took the message, rejects if it refused it
   * (bad key, missing permission, too large...). `qos: 0` resolves once written, and a refusal arrives
   * as a message on `emitter/error/`.
   */
  async publish(request: PublishRequest): Promise<void> {
    requireString('publish', request, 'key');
    requireString('publish', request, 'channel');
    requireMessage('publish', request);
    const topic = formatChannel(request.key, request.channel, publishOptions(request.me, request.ttl, false));
    await this.core.publish(topic, request.message, request.qos ?? 1, request.retain ?? false, 'claim');
  }

  /** Publishes through a link made with `link()` (QoS 1 by default, as `publish`). */
  async publishWithLink(request: PublishWithLinkRequest): Promise<void> {
    requireString('publishWithLink', request, 'link');
    requireMessage('publishWithLink', request);
    await this.core.publish(request.link, request.message, request.qos ?? 1, false, 'claim');
  }

  /**
   * Subscribes, resolving with the QoS the broker granted (0 when it does not deliver QoS 1); rejects with
   * the broker's reason when it refuses. Restored after reconnects.
   */
  async subscribe(request: SubscribeRequest): Promise<SubscribeResult> {
    requireString('subscribe', request, 'key');
    requireString('subscribe', request, 'channel');
    return { qos: await this.core.subscribeChannel(request, request.channel, 'claim') };
  }

  /** Subscribes to a share group: each message goes to one member of `group`. */
  async subscribeWithGroup(request: GroupSubscribeRequest): Promise<SubscribeResult> {
    requireString('subscribeWithGroup', request, 'key');
    requireString('subscribeWithGroup', request, 'channel');
    requireString('subscribeWithGroup', request, 'group');
    return { qos: await this.core.subscribeChannel(request, groupChannel(request), 'claim') };
  }

  /** Unsubscribes; rejects when the broker refuses (a key that does not cover the channel, say). */
  async unsubscribe(request: UnsubscribeRequest): Promise<void> {
    requireString('unsubscribe', request, 'key');
    requireString('unsubscribe', request, 'channel');
    await this.core.unsubscribe(formatChannel(request.key, request.channel), 'claim');
  }

  /** Makes a channel key from the secret key (or a private-channel key from a key with `e`). */
  async keygen(request: KeyGenRequest): Promise<KeyGenResult> {
    requireString('keygen', request, 'key');
    requireString('keygen', request, 'channel');
    const reply = await this.core.request('keygen', JSON.stringify(request), 'claim');
    return { key: String(reply.key), channel: String(reply.channel) };
  }

  /** Who is on a channel; `changes: true` also starts `presence` events for joins and leaves. */
  async presence(request: PresenceRequest): Promise<PresenceResult> {
    requireString('presence', request, 'key');
    requireString('presence', request, 'channel');
    const reply = await this.core.request('presence', JSON.stringify(request), 'claim');
    const result: PresenceResult = {
      event: reply.event === 'status' ? 'status' : '',
      channel: String(reply.channel ?? ''),
      time: Number(reply.time ?? 0),
      who: Array.isArray(reply.who) ? (reply.who as PresenceInfo[]) : [],
    };
    if (typeof reply.occupancy === 'number') result.occupancy = reply.occupancy;
    return result;
  }

  /** This connection's id and links (`links` is `{}` when there are none). */
  async me(): Promise<MeResult> {
    const reply = await this.core.request('me', '', 'claim');
    const links = reply.links !== null && typeof reply.links === 'object' ? reply.links : {};
    return { id: String(reply.id), links: { ...(links as Record<string, string>) } };
  }

  /** Makes a 1-2 character alias of `KEY/channel/?options` on this connection. */
  async link(request: LinkRequest): Promise<LinkResult> {
    requireString('link', request, 'key');
    requireString('link', request, 'channel');
    requireString('link', request, 'name');
    requireBoolean('link', request, 'private');
    requireBoolean('link', request, 'subscribe');
    const reply = await this.core.request('link', JSON.stringify(linkBody(request)), 'claim');
    return { name: String(reply.name), channel: String(reply.channel) };
  }

  /** Bans (or unbans) a channel key, with the secret key. */
  async keyban(request: KeyBanRequest): Promise<KeyBanResult> {
    requireString('keyban', request, 'secret');
    requireString('keyban', request, 'target');
    requireBoolean('keyban', request, 'banned');
    const reply = await this.core.request('keyban', JSON.stringify(request), 'claim');
    return { banned: reply.banned === true };
  }

  /**
   * The newest `last` (default 1) stored messages of a channel in the time window, oldest first, over
   * as many `emitter/history/` replies as they need. `startFromID` starts below a message already seen.
   */
  async history(request: HistoryRequest): Promise<HistoryMessage[]> {
    requireString('history', request, 'key');
    requireString('history', request, 'channel');
    return history(this.core, request);
  }

  /** The same messages one reply at a time, newest page first (each page oldest first): `for await`. */
  historyPages(request: HistoryRequest): AsyncGenerator<HistoryMessage[]> {
    requireString('history', request, 'key');
    requireString('history', request, 'channel');
    return historyPages(this.core, request);
  }

  /** Disconnects; requests still waiting reject with status 0. */
  async disconnect(): Promise<void> {
    await this.core.end();
  }
}
