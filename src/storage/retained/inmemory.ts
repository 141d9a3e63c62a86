import { StorageError, StorageErrorCode } from '../storage-error.js';
import {
  isRetainedExpired,
  filterMatcher,
  isWildcardFilter,
  literalPrefix,
  sortByTopic,
  type RetainedMessage,
  type RetainedStore,
} from './retained-store.js';

/**
 * Retained messages in a map per contract (topic -> message). A filter without wildcards is one lookup;
 * a wildcard filter reads every retained topic of the contract that starts with its literal prefix,
 * O(retained topics of the contract) per wildcard SUBSCRIBE. Gone at restart.
 */
export class InMemoryRetainedStore implements RetainedStore {
  readonly name = 'inmemory';
  private readonly contracts = new Map<number, Map<string, RetainedMessage>>();
  private closed = false;

  constructor(private readonly now: () => number = Date.now) {}

  set(contract: number, message: RetainedMessage): Promise<void> {
    if (this.closed) return closedError();
    let topics = this.contracts.get(contract);
    if (topics === undefined) this.contracts.set(contract, (topics = new Map()));
    // The payload is the publisher's buffer, shared with live deliveries: never modified, safe to keep.
    topics.set(message.topic, message);
    return Promise.resolve();
  }

  clear(contract: number, topic: string): Promise<void> {
    if (this.closed) return closedError();
    const topics = this.contracts.get(contract);
    if (topics?.delete(topic) === true && topics.size === 0) this.contracts.delete(contract);
    return Promise.resolve();
  }

  match(contract: number, filter: string): Promise<RetainedMessage[]> {
    if (this.closed) return closedError();
    const topics = this.contracts.get(contract);
    if (topics === undefined) return Promise.resolve([]);
    const now = this.now();
    if (!isWildcardFilter(filter)) {
      const message = topics.get(filter);
      if (message === undefined) return Promise.resolve([]);
      if (!isRetainedExpired(message, now)) return Promise.resolve([message]);
      topics.delete(filter);
      return Promise.resolve([]);
    }
    const prefix = literalPrefix(filter);
    const matches = filterMatcher(filter);
    const found: RetainedMessage[] = [];
    for (const [topic, message] of topics) {
      if (!topic.startsWith(prefix) || !matches(topic)) continue;
      if (isRetainedExpired(message, now)) topics.delete(topic);
      else found.push(message);
    }
    return Promise.resolve(sortByTopic(found));
  }

  close(): Promise<void> {
    this.closed = true;
    this.contracts.clear();
    return Promise.resolve();
  }
}

function closedError(): Promise<never> {
  return Promise.reject(new StorageError(StorageErrorCode.Closed, 'retained store is closed'));
}
