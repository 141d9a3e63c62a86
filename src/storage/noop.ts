/** The `noop` provider (Emitter's default when `storage` is missing): stores nothing, finds nothing. */

import type { Ssid } from '../channel/ssid.js';
import { commonSettings, type StorageConfig } from './config.js';
import type { StoredMessage } from './message.js';
import type { StorageQuery } from './query.js';
import type { Storage, StorageHealth } from './storage.js';

/** A storage that drops every message; queries return `[]`. */
export class NoopStorage implements Storage {
  readonly name = 'noop';
  readonly retain: number;

  constructor(config: StorageConfig = {}) {
    this.retain = commonSettings(config).retain;
  }

  /** Drops the message. */
  async store(_message: StoredMessage): Promise<void> {}

  /** Always `[]`. */
  async query(_ssid: Ssid, _query: StorageQuery): Promise<StoredMessage[]> {
    return [];
  }

  /** Nothing to purge: 0. */
  async purgeExpired(): Promise<number> {
    return 0;
  }

  /** Nothing to release. */
  async close(): Promise<void> {}

  /** Always ok: nothing can fail. */
  health(): StorageHealth {
    return { ok: true };
  }
}
