/**
 * The storage conformance suite (the Aedes pattern: one abstract suite, every provider runs it). It mirrors
 * Emitter's storage tests (spec 7.5 and 12) and adds what a re-implementation must also get right: prefix
 * and wildcard patterns, contracts, expiry with an injected clock, binary payloads, many channels, and a
 * brute-force reference on random data.
 *
 * A provider passes when `runStorageConformance(name, factory)` passes; `factory` opens a fresh, empty
 * storage with the given config (plus whatever the provider needs, such as a directory).
 */

import { afterEach, beforeEach, describe } from 'node:test';
import type { StorageConfig } from '../../storage/config.js';
import type { Storage } from '../../storage/storage.js';
import { registerLifecycleTests } from './conformance/lifecycle.js';
import { registerOrderTests } from './conformance/order.js';
import { registerPatternTests } from './conformance/patterns.js';
import { MessageMaker, T0, TestClock } from './fixtures/messages.js';

/** Opens a fresh, empty storage of the provider under test. */
export type StorageFactory = (config: StorageConfig) => Storage | Promise<Storage>;

/** What each conformance test works with; `clock` and `maker` are new for every test. */
export interface ConformanceContext {
  /** The provider name the storage must report. */
  readonly name: string;
  /** The clock every storage opened by `open` judges expiry by (starts at T0). */
  readonly clock: TestClock;
  /** Makes messages with ids in creation order. */
  readonly maker: MessageMaker;
  /** Opens a storage (closed after the test) with the test clock and `config`. */
  open(config?: StorageConfig): Promise<Storage>;
  /** Stores `count` messages on `channel`, message i at T0 + i seconds with payload `${i}`. */
  storeSeries(storage: Storage, channel: string, count: number): Promise<void>;
}

/** Registers the conformance tests for one provider. */
export function runStorageConformance(name: string, factory: StorageFactory): void {
  describe(`storage conformance: ${name}`, () => {
    let opened: Storage[] = [];
    const ctx = {
      name,
      clock: new TestClock(),
      maker: new MessageMaker(new TestClock()),
      async open(config: StorageConfig = {}): Promise<Storage> {
        const storage = await factory({ now: ctx.clock.now, ...config });
        opened.push(storage);
        return storage;
      },
      async storeSeries(storage: Storage, channel: string, count: number): Promise<void> {
        for (let i = 0; i < count; i++) {
          await storage.store(ctx.maker.message(channel, `${i}`, { time: T0 + i * 1000 }));
        }
      },
    };

    beforeEach(() => {
      ctx.clock = new TestClock();
      ctx.maker = new MessageMaker(ctx.clock);
    });
    afterEach(async () => {
      for (const storage of opened) await storage.close();
      opened = [];
    });

    registerOrderTests(ctx);
    registerPatternTests(ctx);
    registerLifecycleTests(ctx);
  });
}
