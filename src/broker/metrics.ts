import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Aggregator } from 'prom-client';
import type { ClusterCounters } from '../cluster/index.js';

/** Plain counters the hot path bumps; Prometheus reads them only when scraped. */
export class BrokerCounters {
  connectionsTotal = 0;
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  storedMessages = 0;
  storageQueries = 0;
  storageErrors = 0;
  droppedSlowConsumer = 0;
  refusedConnections = 0;
  slowConsumersClosed = 0;
  /** Connections closed because handling one of their packets threw. */
  connectionFailures = 0;
  /** QoS > 0 messages dropped from a session's queue to keep it within its bounds. */
  droppedQueued = 0;
  /** Messages not sent to an MQTT 5 client because they were above its Maximum Packet Size. */
  droppedTooLarge = 0;
  /** Persistent sessions ended because their client stayed away past the expiry. */
  sessionsExpired = 0;
  readonly errors = new Map<number, number>();

  /** Counts an error reply by status. */
  error(status: number): void {
    this.errors.set(status, (this.errors.get(status) ?? 0) + 1);
  }
}

/** What the metrics read from the broker at scrape time. */
export interface MetricsSource {
  readonly counters: BrokerCounters;
  connections(): number;
  subscriptions(): number;
  /** Bytes in/out of the connections still open (closed ones are already in the counters). */
  openBytes(): { in: number; out: number };
  /** Persistent sessions whose client is away. */
  offlineSessions(): number;
  /** The cluster's counters and how many peer nodes it knows. */
  readonly cluster: { readonly counters: ClusterCounters; readonly peers: number };
}

/** A Prometheus registry with the broker's metrics (prefix `emitter_`) and Node's defaults. */
export function createMetricsRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  // Across the workers of a host (`cluster.workers`) gauges are summed unless they say otherwise.
  const gauge = (name: string, help: string, read: () => number, aggregator: Aggregator = 'sum'): void => {
    new Gauge({
      name,
      help,
      aggregator,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  const c = source.counters;
  gauge('emitter_connections', 'Open client connections.', () => source.connections());
  gauge('emitter_subscriptions', 'Subscriptions held by clients.', () => source.subscriptions());
  counter('emitter_connections_total', 'Client connections accepted.', () => c.connectionsTotal);
  counter('emitter_messages_in_total', 'Messages published by clients.', () => c.messagesIn);
  counter(
    'emitter_messages_out_total',
    'Messages delivered to subscribers (live fan-out; replies and replays not included).',
    () => c.messagesOut,
  );
  counter('emitter_bytes_in_total', 'Bytes received from clients.', () => c.bytesIn + source.openBytes().in);
  counter('emitter_bytes_out_total', 'Bytes sent to clients.', () => c.bytesOut + source.openBytes().out);
  counter('emitter_stored_messages_total', 'Messages written to storage.', () => c.storedMessages);
  counter('emitter_storage_queries_total', 'Storage queries (replays and history).', () => c.storageQueries);
  counter(
    'emitter_storage_errors_total',
    'Storage operations that failed, each answered with a 500: stored messages not written (storage error, or Redis unreachable past the hold buffer) and failed replays or history reads.',
    () => c.storageErrors,
  );
  counter(
    'emitter_dropped_messages_total',
    'Deliveries dropped because the client did not read.',
    () => c.droppedSlowConsumer,
  );
  counter(
    'emitter_slow_consumers_closed_total',
    'Clients closed for not reading.',
    () => c.slowConsumersClosed,
  );
  counter(
    'emitter_connection_failures_total',
    'Connections closed because handling one of their packets failed (a broker bug, logged).',
    () => c.connectionFailures,
  );
  gauge(
    'emitter_sessions_offline',
    'Persistent sessions whose client is away (kept until they expire).',
    () => source.offlineSessions(),
  );
  counter(
    'emitter_session_queue_dropped_total',
    'QoS 1/2 messages dropped from a session queue past its bound (oldest first).',
    () => c.droppedQueued,
  );
  counter(
    'emitter_dropped_too_large_total',
    'Messages not sent to an MQTT 5 client because they were above its Maximum Packet Size.',
    () => c.droppedTooLarge,
  );
  counter(
    'emitter_sessions_expired_total',
    'Persistent sessions ended because their client stayed away past the expiry.',
    () => c.sessionsExpired,
  );
  const cluster = source.cluster;
  gauge(
    'emitter_cluster_peers',
    'Other cluster nodes this node knows alive (across the workers of a host: the most any one knows).',
    () => cluster.peers,
    'max',
  );
  counter(
    'emitter_cluster_forwarded_total',
    'Messages sent to peer nodes (one copy per node with a matching subscriber).',
    () => cluster.counters.forwarded,
  );
  counter(
    'emitter_cluster_received_total',
    'Messages received from peer nodes.',
    () => cluster.counters.received,
  );
  counter(
    'emitter_cluster_dropped_total',
    'Messages for peer nodes dropped because Redis was unreachable.',
    () => cluster.counters.dropped,
  );
  gauge(
    'emitter_event_loop_lag_seconds',
    'Mean event-loop delay since the last scrape (across the workers of a host: their average).',
    () => {
      const mean = lag.mean / 1e9;
      lag.reset();
      return Number.isFinite(mean) ? mean : 0;
    },
    'average',
  );
  new Counter({
    name: 'emitter_request_errors_total',
    help: 'Error replies sent to clients, by Emitter status.',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, count] of c.errors) this.inc({ status: String(status) }, count);
    },
  });
  return registry;
}
