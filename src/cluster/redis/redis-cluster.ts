import { randomBytes } from 'node:crypto';
import { Redis, Cluster as RedisClusterClient } from 'ioredis';
import type { Logger } from 'pino';
import {
  decodePublish,
  decodePublishProperties,
  Delivery,
  type PublishProperties,
  type QoS,
} from '../../mqtt/index.js';
import type {
  Cluster,
  ClusterCounters,
  ClusterHost,
  ClusterState,
  MemberSubscription,
  Route,
} from '../cluster.js';
import { decodeFrames, FrameBatch, FrameKind } from './frames.js';
import {
  fromWire,
  isShareMember,
  memberField,
  RemoteShareMember,
  RemoteSubscriber,
  toWire,
  type PeerLink,
} from './members.js';

/** Settings of a Redis-backed cluster node. */
export interface RedisClusterOptions {
  /** This node's unique name in the cluster. */
  readonly name: string;
  /** One URL for a standalone Redis; several seed URLs for a Redis Cluster. */
  readonly urls: readonly string[];
  /** A node not heard from for this long is dead: its clients' subscriptions are dropped (default 10 s). */
  readonly deadAfterMs?: number;
  /** Key and channel prefix, so several clusters can share one Redis (default `emitter:`). */
  readonly prefix?: string;
  readonly logger: Logger;
}

/** A control event on the shared events channel (JSON). */
type ClusterEvent =
  | {
      readonly op: 'sub' | 'unsub';
      readonly n: string;
      readonly e: string;
      readonly q: number;
      readonly m: unknown;
    }
  | { readonly op: 'reset'; readonly n: string; readonly e: string; readonly q: number }
  | { readonly op: 'bye'; readonly n: string; readonly e: string }
  /** Node `n` serves client id `c` now: the others let it go and answer `released` (request `r`). */
  | { readonly op: 'claim'; readonly n: string; readonly c: string; readonly r: string; readonly w: boolean }
  | { readonly op: 'released'; readonly n: string; readonly to: string; readonly r: string };

const META_FIELD = '~meta';
/** The consumer group that reads a node's inbox stream (one consumer: the node). */
const INBOX_GROUP = 'node';
/** Bound on a node's inbox stream (approximate, in batches): a node that stops reading cannot fill Redis. */
const INBOX_MAX_ENTRIES = 100_000;
const INBOX_READ_COUNT = 64;
/** A batch for a peer leaves once this big, without waiting for the end of the turn (see `send`). */
const MAX_BATCH_BYTES = 256 * 1024;
/** A blocking inbox read returns after this long with nothing, so a close is noticed. */
const INBOX_BLOCK_MS = 1000;
/** Longest a CONNECT waits for the other nodes to let its client id go (a peer that does not answer is dying). */
const CLAIM_TIMEOUT_MS = 2000;
const DEFAULT_DEAD_AFTER_MS = 10_000;

type RedisClient = Redis | RedisClusterClient;

/** What this node knows about one peer: its replicated subscriptions and the link to send it messages. */
class Peer implements PeerLink {
  epoch = '';
  seq = 0;
  /** A snapshot load is running: events wait in `buffered`, applied after it. */
  loading = false;
  /** Events were missed (or a load failed): reload the snapshot at the next chance. */
  stale = true;
  buffered: ClusterEvent[] = [];
  readonly members = new Map<string, MemberSubscription>();
  readonly direct = new Map<string, RemoteSubscriber>();
  readonly shared = new Map<string, RemoteShareMember>();
  /** The last message forwarded directly: one publish reaching many of its clients is sent once. */
  last: Delivery | undefined;
  /** QoS 0 frames for the peer's pub/sub channel (at most once). */
  readonly pending = new FrameBatch();
  /** QoS 1 and 2 frames for the peer's inbox stream (at least once). */
  readonly reliable = new FrameBatch();

  constructor(
    readonly name: string,
    private readonly owner: RedisCluster,
  ) {}

  forward(kind: FrameKind, delivery: Delivery, qos: QoS, route: Route, target: string): void {
    const packet = delivery.packet(0, 4, false);
    // MQTT 5 properties and the published RETAIN flag travel too; a 3.1.1 message's frame has neither.
    const properties = delivery.properties === undefined ? undefined : delivery.propertyBlock();
    const batch = qos === 0 ? this.pending : this.reliable;
    batch.add(kind, route, delivery.storedId, target, packet, qos, properties, delivery.publishedRetain);
    // Not `flush`: `last` must survive until the end of the turn (one publish may still be reaching more
    // of this peer's clients), so only the frames leave early.
    if (batch.bytes >= MAX_BATCH_BYTES) this.owner.send(this);
    this.owner.scheduleFlush(this);
  }
}

/**
 * A cluster node on Redis. Each node keeps its clients' subscriptions in a Redis hash (a snapshot with a
 * sequence number) and announces every change on a shared events channel; peers mirror them into their
 * tries as remote subscribers, so a publish is forwarded only to nodes with a matching client (interest
 * routing), once per node, batched per event-loop turn on that node's own channel. Liveness is a key
 * each node refreshes; when it lapses, the survivors drop the node's subscribers and tell their
 * presence watchers.
 */
export class RedisCluster implements Cluster {
  readonly counters: ClusterCounters = { forwarded: 0, received: 0, dropped: 0 };
  private readonly epoch = `${Date.now().toString(36)}.${randomBytes(4).toString('hex')}`;
  private readonly prefix: string;
  private readonly deadAfterMs: number;
  /** Our liveness key's lifetime: one heartbeat short of the timeout, so a death is seen within it. */
  private readonly aliveMs: number;
  private readonly heartbeatMs: number;
  private readonly logger: Logger;
  private readonly command: RedisClient;
  private readonly subscriber: RedisClient;
  /** Blocking reads of this node's inbox stream (a connection of their own). */
  private readonly inbox: RedisClient;
  private host: ClusterHost | undefined;
  private readonly own = new Map<string, MemberSubscription>();
  private seq = 0;
  private readonly peersByName = new Map<string, Peer>();
  private readonly flushQueue = new Set<Peer>();
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  /** True while our snapshot in Redis is known complete; a failed write clears it until the next sync. */
  private registered = false;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  /** When this node last finished a sync: deaths are judged only after a full timeout of being in touch. */
  private syncedAt = 0;
  private redisUp = false;
  private lostRedis = false;
  /** The inbox connection dropped: read the pending entries again before new ones. */
  private inboxReread = false;
  /** Claims of client ids waiting for the peers' answers, by request id. */
  private readonly claims = new Map<string, { waiting: Set<string>; done: () => void }>();
  private closed = false;

  constructor(private readonly options: RedisClusterOptions) {
    this.prefix = options.prefix ?? 'emitter:';
    this.deadAfterMs = options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
    this.heartbeatMs = Math.max(100, Math.min(2500, Math.floor(this.deadAfterMs / 4)));
    this.aliveMs = Math.max(this.heartbeatMs * 2, this.deadAfterMs - this.heartbeatMs);
    this.logger = options.logger.child({ cluster: options.name });
    // Commands fail fast while Redis is away (no offline queue): a message to a peer is dropped, not
    // queued without bound and delivered late. Subscriptions are re-sent by ioredis on reconnect.
    this.command = connect(options.urls, false);
    this.subscriber = connect(options.urls, true);
    this.inbox = connect(options.urls, true, `emitter-inbox:${options.name}`);
    this.inbox.on('error', (error: Error) => this.onRedisError(error));
    // ioredis re-sends a read cut by a dropped connection: a reply lost with it left entries pending.
    this.inbox.on('close', () => (this.inboxReread = true));
    for (const client of [this.command, this.subscriber]) {
      client.on('error', (error: Error) => this.onRedisError(error));
      client.on('ready', () => this.onRedisReady());
      client.on('end', () => this.onRedisDown());
      client.on('close', () => this.onRedisDown());
    }
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) =>
      this.onMessage(channel.toString(), message),
    );
  }

  get name(): string {
    return this.options.name;
  }

  get peers(): number {
    return this.peersByName.size;
  }

  async start(host: ClusterHost): Promise<void> {
    this.host = host;
    this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
    this.timer.unref();
    void this.readInbox();
    // Redis may be down at start: the node serves its own clients and joins when Redis answers.
    await Promise.race([this.sync(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
  }

  subscribed(subscription: MemberSubscription): void {
    const field = memberField(subscription.id, subscription.ssid);
    this.own.set(field, subscription);
    this.announce('sub', field, subscription);
  }

  unsubscribed(subscription: MemberSubscription): void {
    const field = memberField(subscription.id, subscription.ssid);
    if (!this.own.delete(field)) return;
    this.announce('unsub', field, subscription);
  }

  claim(clientId: string, wait: boolean): Promise<void> {
    if (this.closed || !this.registered || this.peersByName.size === 0) return Promise.resolve();
    const r = wait ? randomBytes(6).toString('hex') : '';
    const event: ClusterEvent = { op: 'claim', n: this.name, c: clientId, r, w: wait };
    if (!wait) {
      this.command.publish(this.eventsChannel(), JSON.stringify(event)).catch(() => {});
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), CLAIM_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        this.claims.delete(r);
        resolve();
      };
      this.claims.set(r, { waiting: new Set(this.peersByName.keys()), done });
      this.command.publish(this.eventsChannel(), JSON.stringify(event)).catch(done);
    });
  }

  // Another node serves `clientId` now: let ours go, then answer.
  private async onClaim(event: { n: string; c: string; r: string; w: boolean }): Promise<void> {
    try {
      await this.host?.release(event.c);
    } finally {
      if (event.w)
        void this.command
          .publish(
            this.eventsChannel(),
            JSON.stringify({ op: 'released', n: this.name, to: event.n, r: event.r } satisfies ClusterEvent),
          )
          .catch(() => {});
    }
  }

  private onReleased(event: { n: string; to: string; r: string }): void {
    if (event.to !== this.name) return;
    const claim = this.claims.get(event.r);
    if (!claim) return;
    claim.waiting.delete(event.n);
    if (claim.waiting.size === 0) claim.done();
  }

  /** Connected once Redis answers and this node's snapshot is written (joined); peers by name. */
  state(): ClusterState {
    return {
      provider: 'redis',
      connected: this.redisUp && this.registered && !this.closed,
      peers: [...this.peersByName.keys()].sort(),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.flush();
    try {
      const bye: ClusterEvent = { op: 'bye', n: this.name, e: this.epoch };
      await this.command
        .multi()
        .del(this.key('subs'))
        .del(this.key('alive'))
        .publish(this.eventsChannel(), JSON.stringify(bye))
        .exec();
      await this.command.srem(this.nodesKey(), this.name);
    } catch {
      // Redis is away: the peers find out when our liveness key lapses.
    }
    this.subscriber.disconnect();
    this.inbox.disconnect();
    this.command.disconnect();
  }

  /** Queues a peer's pending frames to be sent at the end of this event-loop turn. */
  scheduleFlush(peer: Peer): void {
    this.flushQueue.add(peer);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const peer of this.flushQueue) {
      peer.last = undefined;
      this.send(peer);
    }
    this.flushQueue.clear();
  }

  /**
   * Sends a peer's waiting frames now: at the end of the turn, or as soon as a batch reaches
   * `MAX_BATCH_BYTES`, so a burst read in one turn (a node catching up can read megabytes at once) crosses
   * as several bounded commands, and the receiving node is not held by one huge batch.
   */
  send(peer: Peer): void {
    if (peer.pending.size > 0) {
      const frames = peer.pending.size;
      this.counters.forwarded += frames;
      this.command
        .publish(this.nodeChannel(peer.name), peer.pending.take())
        .catch(() => this.dropped(frames));
    }
    if (peer.reliable.size > 0) {
      const frames = peer.reliable.size;
      this.counters.forwarded += frames;
      this.command
        .xadd(
          this.peerKey(peer.name, 'inbox'),
          'MAXLEN',
          '~',
          INBOX_MAX_ENTRIES,
          '*',
          'f',
          peer.reliable.take(),
        )
        .catch(() => this.dropped(frames));
    }
  }

  private dropped(frames: number): void {
    this.counters.forwarded -= frames;
    this.counters.dropped += frames;
  }

  /**
   * Reads this node's inbox stream (QoS > 0 frames) through its consumer group, one blocking read at a
   * time on a connection of its own, and acknowledges (XACK) each batch once it is handed to the local
   * sessions, trimming what is acknowledged. After any failure (a dropped connection, Redis restarted) it
   * first re-reads the entries delivered to it and not acknowledged (cursor `0`), then new ones (`>`):
   * at least once between nodes while both nodes and Redis are up.
   */
  private async readInbox(): Promise<void> {
    const key = this.key('inbox');
    let cursor = '0';
    while (!this.closed) {
      if (this.inboxReread) {
        this.inboxReread = false;
        cursor = '0';
      }
      let reply: unknown;
      try {
        reply = await this.inbox.callBuffer(
          'XREADGROUP',
          'GROUP',
          INBOX_GROUP,
          this.name,
          'COUNT',
          INBOX_READ_COUNT,
          'BLOCK',
          INBOX_BLOCK_MS,
          'STREAMS',
          key,
          cursor,
        );
      } catch (error) {
        if (this.closed) return;
        cursor = '0';
        if (String((error as Error).message).includes('NOGROUP')) await this.createInboxGroup();
        else await new Promise((resolve) => setTimeout(resolve, 200).unref());
        continue;
      }
      const entries = inboxEntries(reply);
      if (entries.length === 0) {
        // Nothing (left) pending: from now on only new entries.
        cursor = '>';
        continue;
      }
      const ids: string[] = [];
      for (const [id, body] of entries) {
        ids.push(id);
        if (body !== undefined) this.onFrames(body);
      }
      if (cursor !== '>') cursor = ids[ids.length - 1];
      const last = ids[ids.length - 1];
      // Acknowledged entries are of no further use: trim everything before the last one.
      this.command
        .multi()
        .xack(key, INBOX_GROUP, ...ids)
        .xtrim(key, 'MINID', last)
        .exec()
        .catch(() => {
          // Not acknowledged: they are read again from the pending list after the next failure.
        });
    }
  }

  private async createInboxGroup(): Promise<void> {
    try {
      // From the start of the stream: whatever peers wrote before the group existed is for us too.
      await this.command.xgroup('CREATE', this.key('inbox'), INBOX_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP'))
        await new Promise((resolve) => setTimeout(resolve, 200).unref());
    }
  }

  // One subscription change: the snapshot and the event are written in one transaction, so a peer
  // reading the snapshot knows exactly which events it already contains (by sequence number).
  private announce(op: 'sub' | 'unsub', field: string, subscription: MemberSubscription): void {
    if (!this.registered) {
      // Not registered: the next sync writes the whole snapshot instead. A sync already under way may
      // have taken its copy of `own` before this change, so it must run once more (without this, a
      // subscription made while the snapshot was being written was known to no peer until the node
      // happened to re-register again).
      if (this.syncing) this.syncAgain = true;
      return;
    }
    const seq = ++this.seq;
    const event: ClusterEvent = { op, n: this.name, e: this.epoch, q: seq, m: toWire(subscription) };
    const multi = this.command.multi();
    if (op === 'sub') multi.hset(this.key('subs'), field, JSON.stringify(toWire(subscription)));
    else multi.hdel(this.key('subs'), field);
    multi
      .hset(this.key('subs'), META_FIELD, this.meta(seq))
      .publish(this.eventsChannel(), JSON.stringify(event))
      .exec()
      .catch(() => this.lostTouch());
  }

  private meta(seq: number): string {
    return JSON.stringify({ e: this.epoch, q: seq });
  }

  // (Re)joins: subscribe to our channels, write our whole snapshot, load every live peer's. Runs at start
  // and whenever a Redis connection becomes ready again; concurrent triggers coalesce into one rerun.
  private sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        try {
          await this.syncOnce();
        } catch (error) {
          this.registered = false;
          this.logger.debug({ err: (error as Error).message }, 'cluster sync failed, will retry');
        }
      } while (this.syncAgain && !this.closed);
    })().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    if (this.closed) return;
    await this.subscriber.subscribe(this.eventsChannel(), this.nodeChannel(this.name));
    const seq = ++this.seq;
    const fields: string[] = [META_FIELD, this.meta(seq)];
    for (const [field, subscription] of this.own) fields.push(field, JSON.stringify(toWire(subscription)));
    const reset: ClusterEvent = { op: 'reset', n: this.name, e: this.epoch, q: seq };
    await this.command
      .multi()
      .del(this.key('subs'))
      .hset(this.key('subs'), ...fields)
      .set(this.key('alive'), this.epoch, 'PX', this.aliveMs)
      .publish(this.eventsChannel(), JSON.stringify(reset))
      .exec();
    // The registry is another key (another slot in a Redis Cluster), so it is written on its own.
    await this.command.sadd(this.nodesKey(), this.name);
    this.registered = true;
    const names = await this.command.smembers(this.nodesKey());
    for (const name of names) {
      if (name === this.name) continue;
      const peer = this.peerNamed(name);
      peer.stale = true;
      await this.loadSnapshot(peer);
    }
    const first = this.syncedAt === 0;
    this.syncedAt = Date.now();
    if (first)
      this.logger.info(
        { peers: this.peersByName.size, subscriptions: this.own.size },
        this.lostRedis ? 'Redis is back: rejoined the cluster' : 'joined the cluster',
      );
    this.lostRedis = false;
  }

  private peerNamed(name: string): Peer {
    let peer = this.peersByName.get(name);
    if (!peer) this.peersByName.set(name, (peer = new Peer(name, this)));
    return peer;
  }

  // Reads a peer's snapshot and makes our mirror equal to it, then applies the events that came meanwhile.
  private async loadSnapshot(peer: Peer): Promise<void> {
    if (peer.loading) return;
    peer.loading = true;
    peer.buffered = [];
    try {
      const [alive, entries] = await Promise.all([
        this.command.get(this.peerKey(peer.name, 'alive')),
        this.command.hgetall(this.peerKey(peer.name, 'subs')),
      ]);
      const meta = parseMeta(entries[META_FIELD]);
      if (alive === null || meta === undefined) {
        // Not registered (yet): right after we (re)joined, e.g. after Redis restarted empty, peers may not
        // have re-registered; only a lapse that outlasts the timeout means the node is gone.
        if (this.inGracePeriod()) {
          peer.stale = true;
          return;
        }
        this.peerGone(peer, 'its liveness key has lapsed');
        this.forget(peer.name);
        return;
      }
      const next = new Map<string, MemberSubscription>();
      for (const [field, json] of Object.entries(entries)) {
        if (field === META_FIELD) continue;
        const member = parseMember(json);
        if (member) next.set(field, member);
      }
      const removed: MemberSubscription[] = [];
      for (const [field, member] of peer.members) {
        if (next.has(field)) continue;
        this.removeMember(peer, field);
        removed.push(member);
      }
      for (const [field, member] of next) if (!peer.members.has(field)) this.addMember(peer, field, member);
      const isNew = peer.epoch === '';
      peer.epoch = meta.e;
      peer.seq = meta.q;
      peer.stale = false;
      if (removed.length > 0) this.host?.peerLeft(removed);
      if (isNew) this.logger.info({ peer: peer.name, subscriptions: next.size }, 'cluster peer joined');
    } catch {
      peer.stale = true;
    } finally {
      peer.loading = false;
    }
    const buffered = peer.buffered;
    peer.buffered = [];
    for (const event of buffered) this.onEvent(event);
  }

  private addMember(peer: Peer, field: string, member: MemberSubscription): void {
    if (!this.host) return;
    peer.members.set(field, member);
    const remote = isShareMember(member)
      ? remoteFor(
          peer.shared,
          member,
          () => new RemoteShareMember(member.id, peer.name, member.username, member.clientId, peer),
        )
      : remoteFor(
          peer.direct,
          member,
          () => new RemoteSubscriber(member.id, peer.name, member.username, member.clientId, peer),
        );
    remote.count++;
    this.host.addRemote(member.ssid, remote);
  }

  private removeMember(peer: Peer, field: string): MemberSubscription | undefined {
    const member = peer.members.get(field);
    if (!member || !this.host) return undefined;
    peer.members.delete(field);
    const index = isShareMember(member) ? peer.shared : peer.direct;
    const remote = index.get(member.id);
    if (remote) {
      this.host.removeRemote(member.ssid, remote);
      if (--remote.count <= 0) index.delete(member.id);
    }
    return member;
  }

  // A peer is gone: drop its subscribers and tell local presence watchers it left.
  private peerGone(peer: Peer, reason: string): void {
    const removed: MemberSubscription[] = [];
    for (const field of [...peer.members.keys()]) {
      const member = this.removeMember(peer, field);
      if (member) removed.push(member);
    }
    this.peersByName.delete(peer.name);
    this.flushQueue.delete(peer);
    if (removed.length > 0) this.host?.peerLeft(removed);
    if (peer.epoch !== '')
      this.logger.warn({ peer: peer.name, subscriptions: removed.length, reason }, 'cluster peer left');
  }

  private onMessage(channel: string, message: Buffer): void {
    if (channel === this.eventsChannel()) {
      let event: ClusterEvent;
      try {
        event = JSON.parse(message.toString()) as ClusterEvent;
      } catch {
        return;
      }
      if (typeof event?.n === 'string' && event.n !== this.name) this.onEvent(event);
      return;
    }
    this.onFrames(message);
  }

  // A batch of frames from a peer (pub/sub or inbox): deliver each to this node's clients.
  private onFrames(message: Buffer): void {
    const host = this.host;
    if (!host) return;
    decodeFrames(message, (frame) => {
      const publish = decodePublish(frame.packet, headerLength(frame.packet));
      if (publish instanceof Error) return;
      this.counters.received++;
      const delivery = new Delivery(
        publish.topic,
        publish.payload as Buffer,
        frame.qos,
        false,
        frame.storedId,
        frame.properties === undefined ? undefined : peerProperties(frame.properties),
      );
      // This node's QoS 0 clients get the very bytes the publishing node encoded.
      delivery.seedPlainForm(frame.packet);
      if (frame.publishedRetain) delivery.publishedRetain = true;
      if (frame.kind === FrameKind.Targeted) host.deliverTo(frame.target, frame.route, delivery);
      else host.deliverLocal(frame.route, delivery);
    });
  }

  private onEvent(event: ClusterEvent): void {
    // Claims are not subscription changes: no sequence number, handled at once.
    if (event.op === 'claim') {
      void this.onClaim(event);
      return;
    }
    if (event.op === 'released') {
      this.onReleased(event);
      return;
    }
    if (event.op === 'bye') {
      const peer = this.peersByName.get(event.n);
      if (peer && !peer.loading) this.peerGone(peer, 'it shut down');
      return;
    }
    const peer = this.peerNamed(event.n);
    if (peer.loading) {
      peer.buffered.push(event);
      return;
    }
    if (peer.epoch === event.e && event.q <= peer.seq) return; // already in the snapshot we read
    if (event.op === 'reset' || peer.stale || peer.epoch !== event.e || event.q !== peer.seq + 1) {
      // A restart, a rejoin, or a gap in the sequence: the snapshot is the truth.
      peer.stale = true;
      void this.loadSnapshot(peer);
      return;
    }
    const member = fromWire(event.m);
    peer.seq = event.q;
    if (!member) return;
    const field = memberField(member.id, member.ssid);
    if (event.op === 'sub') {
      if (!peer.members.has(field)) this.addMember(peer, field, member);
    } else {
      this.removeMember(peer, field);
    }
  }

  // Heartbeat: refresh our liveness, notice a lapse of a peer's, retry a failed sync or snapshot.
  private async tick(): Promise<void> {
    if (this.closed || !this.redisUp) return;
    try {
      const [added] = await Promise.all([
        this.command.sadd(this.nodesKey(), this.name),
        this.command.set(this.key('alive'), this.epoch, 'PX', this.aliveMs),
      ]);
      // Someone declared us dead (we were cut off longer than the timeout): join again in full.
      if (added === 1 || !this.registered) {
        this.registered = false;
        await this.sync();
        return;
      }
    } catch {
      return;
    }
    for (const peer of [...this.peersByName.values()]) {
      if (peer.stale && !peer.loading) void this.loadSnapshot(peer);
    }
    if (this.inGracePeriod()) return;
    const peers = [...this.peersByName.values()].filter((peer) => !peer.loading);
    if (peers.length === 0) return;
    try {
      // One GET per peer (their keys live in different Redis Cluster slots); sent together, not in turn.
      const alive = await Promise.all(
        peers.map((peer) => this.command.get(this.peerKey(peer.name, 'alive'))),
      );
      peers.forEach((peer, i) => {
        if (alive[i] !== null || peer.loading) return;
        this.peerGone(peer, `not heard from for ${this.deadAfterMs} ms`);
        this.forget(peer.name);
      });
    } catch {
      // Redis went away mid-check: judge again when it is back.
    }
  }

  private inGracePeriod(): boolean {
    return this.syncedAt === 0 || Date.now() - this.syncedAt < this.deadAfterMs;
  }

  // Removes a dead node's leftovers from Redis; every survivor may do it, it is idempotent.
  private forget(name: string): void {
    void this.command.del(this.peerKey(name, 'subs')).catch(() => {});
    void this.command.del(this.peerKey(name, 'inbox')).catch(() => {});
    void this.command.srem(this.nodesKey(), name).catch(() => {});
  }

  private lostTouch(): void {
    this.registered = false;
  }

  private onRedisReady(): void {
    if (this.closed) return;
    this.redisUp = true;
    this.registered = false;
    void this.sync();
  }

  private onRedisDown(): void {
    if (this.closed || !this.redisUp) return;
    this.redisUp = false;
    this.registered = false;
    this.syncedAt = 0;
    this.lostRedis = true;
    this.logger.warn('lost Redis: serving local clients only until it is back');
  }

  private onRedisError(error: Error): void {
    if (this.closed) return;
    this.logger.debug({ err: error.message }, 'Redis connection error');
  }

  private key(suffix: string): string {
    return this.peerKey(this.name, suffix);
  }

  // The node name in braces is a Redis Cluster hash tag: a node's keys share a slot, so one MULTI works.
  private peerKey(name: string, suffix: string): string {
    return `${this.prefix}{${name}}:${suffix}`;
  }

  private nodesKey(): string {
    return `${this.prefix}nodes`;
  }

  private eventsChannel(): string {
    return `${this.prefix}events`;
  }

  private nodeChannel(name: string): string {
    return `${this.prefix}node:${name}`;
  }
}

function connect(urls: readonly string[], offlineQueue: boolean, connectionName?: string): RedisClient {
  const retryStrategy = (times: number): number => Math.min(100 * times, 2000);
  if (urls.length === 1) {
    return new Redis(urls[0], {
      connectionName,
      enableOfflineQueue: offlineQueue,
      maxRetriesPerRequest: offlineQueue ? null : 1,
      retryStrategy,
      connectTimeout: 5000,
    });
  }
  return new RedisClusterClient(
    urls.map((url) => {
      const parsed = new URL(url);
      return { host: parsed.hostname, port: Number(parsed.port || 6379) };
    }),
    {
      enableOfflineQueue: offlineQueue,
      clusterRetryStrategy: retryStrategy,
      redisOptions: { connectionName, maxRetriesPerRequest: offlineQueue ? null : 1, connectTimeout: 5000 },
    },
  );
}

// The entries of an XREADGROUP reply for one stream: [id, the batch in field `f`].
function inboxEntries(reply: unknown): Array<[string, Buffer | undefined]> {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const stream = reply[0] as [Buffer, Array<[Buffer, Buffer[] | null]>];
  const entries: Array<[string, Buffer | undefined]> = [];
  for (const [id, fields] of stream[1] ?? []) {
    // A pending entry trimmed meanwhile comes back with no fields: acknowledge it, deliver nothing.
    entries.push([id.toString(), fields && fields.length >= 2 ? fields[1] : undefined]);
  }
  return entries;
}

// One remote object per client and kind, shared by all its subscriptions.
function remoteFor<R extends RemoteSubscriber | RemoteShareMember>(
  index: Map<string, R>,
  member: MemberSubscription,
  make: () => R,
): R {
  let remote = index.get(member.id);
  if (!remote) index.set(member.id, (remote = make()));
  return remote;
}

function parseMeta(json: string | undefined): { e: string; q: number } | undefined {
  if (json === undefined) return undefined;
  try {
    const meta = JSON.parse(json) as { e?: unknown; q?: unknown };
    if (typeof meta.e === 'string' && typeof meta.q === 'number') return { e: meta.e, q: meta.q };
  } catch {
    // fall through
  }
  return undefined;
}

function parseMember(json: string): MemberSubscription | undefined {
  try {
    return fromWire(JSON.parse(json));
  } catch {
    return undefined;
  }
}

// Bytes of a PUBLISH's fixed header: the type byte and the remaining length (1 to 4 bytes).
function headerLength(packet: Buffer): number {
  let at = 1;
  while (at < packet.length && at < 5 && packet[at] & 0x80) at++;
  return at + 1;
}

// A peer's properties block, decoded; a damaged one is left out rather than losing the message.
function peerProperties(block: Buffer): PublishProperties | undefined {
  const properties = decodePublishProperties(block);
  return properties instanceof Error ? undefined : properties;
}
