import { positiveInteger } from '../config.js';
import {
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_MESSAGES,
  type SessionStoreConfig,
} from './session-store.js';

/** A session store's settings with defaults applied. */
export interface SessionStoreSettings {
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly now: () => number;
}

/** Reads and checks the settings every provider shares; throws a `StorageError` (Config) on a bad value. */
export function sessionStoreSettings(config: SessionStoreConfig): SessionStoreSettings {
  return {
    maxQueuedMessages: positiveInteger(
      'maxQueuedMessages',
      config.maxQueuedMessages,
      DEFAULT_MAX_QUEUED_MESSAGES,
    ),
    maxQueuedBytes: positiveInteger('maxQueuedBytes', config.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES),
    now: config.now ?? Date.now,
  };
}
