import type { Cluster } from '../cluster/index.js';
import type { Logger } from 'pino';
import type { BrokerEvents } from './events.js';
import type { BrokerHooks } from './hooks.js';
import type { BrokerCounters } from './metrics.js';
import type { PubSub } from '../services/pubsub/pubsub.js';
import type { RefusalLog } from './refusal-log.js';
import type { RequestRouter } from './requests.js';
import type { Mqtt5Settings } from './mqtt5.js';
import type { SessionRegistry, SessionSettings } from './registry.js';
import type { ClientSession } from './session.js';
import type { PlainSettings } from './plain.js';
import type { KeyAuthority } from '../security/index.js';

/** The parts of the broker a client session calls into. */
export interface BrokerCore {
  readonly pubsub: PubSub;
  readonly requests: RequestRouter;
  readonly limits: {
    readonly messageSize: number;
    readonly outgoingBuffer: number;
    readonly slowConsumer: 'drop' | 'disconnect';
    readonly maxTopicLength: number;
    readonly maxTopicLevels: number;
  };
  readonly counters: BrokerCounters;
  /** What MQTT 5 clients are told in CONNACK and held to. */
  readonly mqtt5: Mqtt5Settings;
  /** Where refused requests are logged (rate-limited). */
  readonly refusals: RefusalLog;
  /** The cluster this node is part of (a `LocalCluster` when alone). */
  readonly cluster: Cluster;
  /** Sessions by client id. */
  readonly registry: SessionRegistry;
  /** In-flight window and queue bounds of every session. */
  readonly sessionLimits: SessionSettings;
  /** The application's hooks (each optional; unset costs nothing). */
  readonly hooks: BrokerHooks;
  /** How hooks are called: where their failures are logged, how long they may take. */
  readonly hookOptions: { readonly logger: Logger; readonly timeoutMs: number };
  /** True while no `authorizePublish` hook is set and nobody listens to `published` or `dropped`. */
  readonly plainPublish: boolean;
  /** The broker's events (flags say whether anyone listens). */
  readonly events: BrokerEvents;
  /** The key keyless topics are read with (`channelKeys: false`); undefined when clients send keys. */
  readonly keylessKey: string | undefined;
  /** The licence's key authority (plain MQTT connections are checked against it). */
  readonly authority: KeyAuthority;
  /** Who may use plain MQTT topics (`keyPassword`, `anonymous`). */
  readonly plain: PlainSettings;
  sessionConnected(session: ClientSession): void;
  /** A session's connection closed (the session itself may live on, persistent and offline). */
  sessionClosed(session: ClientSession): void;
  /** `existing` (a persistent session) now serves the connection `fresh` was made for. */
  sessionReplaced(fresh: ClientSession, existing: ClientSession): void;
  /** Handling a session's packet threw: log and count it (the session's connection is closing). */
  sessionFailed(session: ClientSession, error: unknown): void;
}
