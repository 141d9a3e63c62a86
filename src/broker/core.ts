import type { BrokerCounters } from './metrics.js';
import type { PubSub } from '../services/pubsub/pubsub.js';
import type { RefusalLog } from './refusal-log.js';
import type { RequestRouter } from './requests.js';
import type { ClientSession } from './session.js';

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
  /** Where refused requests are logged (rate-limited). */
  readonly refusals: RefusalLog;
  sessionConnected(session: ClientSession): void;
  sessionClosed(session: ClientSession): void;
  /** Handling a session's packet threw: log and count it (the session's connection is closing). */
  sessionFailed(session: ClientSession, error: unknown): void;
}
