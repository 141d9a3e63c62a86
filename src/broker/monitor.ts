import { createSocket, type Socket } from 'node:dgram';
import { hashLevel } from '../channel/index.js';
import type { ClusterState } from '../cluster/index.js';
import type { BrokerCounters } from './metrics.js';

/** One sample of the broker's state, as the monitoring sinks report it. */
export interface StatsSnapshot {
  readonly node: string;
  /** Unix seconds. */
  readonly time: number;
  /** Milliseconds since the epoch (rates are counter deltas over `timestamp` deltas). */
  readonly timestamp: number;
  readonly connections: number;
  readonly subscriptions: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly storedMessages: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly uptime: number;
  readonly storage: { readonly provider: string; readonly ok: boolean };
  readonly cluster: ClusterState;
}

/** Where snapshots come from and where `self` publishes them. */
export interface MonitorSource {
  readonly counters: BrokerCounters;
  readonly contract: number;
  connections(): number;
  subscriptions(): number;
  /** Bytes in/out of the connections still open (closed ones are already in the counters). */
  openBytes(): { in: number; out: number };
  storage(): { readonly provider: string; readonly ok: boolean };
  cluster(): ClusterState;
  /** Delivers a message on an SSID to its subscribers (no key check: it is the broker's own). */
  deliver(ssid: number[], topic: string, payload: Buffer): void;
}

/** Monitoring sink settings (`monitor.provider` and `monitor.config`, as in Emitter). */
export interface MonitorOptions {
  readonly provider: string;
  readonly node: string;
  readonly interval?: number;
  /** `self`: channel prefix (default `stats`). */
  readonly channel?: string;
  /** `statsd`: `host:port` (default 127.0.0.1:8125). */
  readonly url?: string;
}

/** A running sink; `stop` ends its timer. */
export interface Monitor {
  stop(): void;
}

/**
 * Starts Emitter's monitoring sink: `self` publishes a JSON snapshot every interval on
 * `<channel>/<node>/` under the licence's contract (subscribe with a key for `stats/`); `statsd` sends
 * gauges with prefix `emitter.` and a `broker:<node>` tag; `noop`/`prometheus` send nothing (see /metrics).
 */
export function startMonitor(source: MonitorSource, options: MonitorOptions): Monitor {
  const snapshot = (): StatsSnapshot => {
    const memory = process.memoryUsage();
    const c = source.counters;
    const open = source.openBytes();
    const now = Date.now();
    return {
      node: options.node,
      time: Math.floor(now / 1000),
      timestamp: now,
      connections: source.connections(),
      subscriptions: source.subscriptions(),
      messagesIn: c.messagesIn,
      messagesOut: c.messagesOut,
      bytesIn: c.bytesIn + open.in,
      bytesOut: c.bytesOut + open.out,
      storedMessages: c.storedMessages,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      uptime: Math.round(process.uptime()),
      storage: source.storage(),
      cluster: source.cluster(),
    };
  };
  let tick: (() => void) | undefined;
  let socket: Socket | undefined;
  switch (options.provider) {
    case 'self': {
      const channel = options.channel ?? 'stats';
      const ssid = [source.contract, hashLevel(channel), hashLevel(options.node)];
      const topic = `${channel}/${options.node}/`;
      tick = () => source.deliver(ssid, topic, Buffer.from(JSON.stringify(snapshot())));
      break;
    }
    case 'statsd': {
      const [host, port] = parseHostPort(options.url ?? '127.0.0.1:8125');
      socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      socket.unref();
      const udp = socket;
      tick = () => {
        const s = snapshot();
        const tag = `|#broker:${options.node}`;
        const lines = [
          `emitter.node.conns:${s.connections}|g${tag}`,
          `emitter.node.subs:${s.subscriptions}|g${tag}`,
          `emitter.rcv.msgs:${s.messagesIn}|g${tag}`,
          `emitter.send.msgs:${s.messagesOut}|g${tag}`,
          `emitter.proc.rss:${s.rss}|g${tag}`,
          `emitter.heap.used:${s.heapUsed}|g${tag}`,
        ];
        udp.send(lines.join('\n'), port, host);
      };
      break;
    }
    default:
      return { stop() {} };
  }
  const timer = setInterval(tick, options.interval ?? (options.provider === 'self' ? 1000 : 5000));
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      socket?.close();
    },
  };
}

function parseHostPort(url: string): [string, number] {
  const text = url.replace(/^udp:\/\//, '');
  const colon = text.lastIndexOf(':');
  const host = colon > 0 ? text.slice(0, colon).replace(/^\[|\]$/g, '') : '127.0.0.1';
  return [host || '127.0.0.1', Number(colon >= 0 ? text.slice(colon + 1) : 8125) || 8125];
}
