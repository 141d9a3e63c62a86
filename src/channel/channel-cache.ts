import { parseChannel, type ParsedChannel } from './parse.js';

const DEFAULT_LIMIT = 4096;

/**
 * Parsed topics by their text, shared by every publisher: a client cycling over many channels (a
 * gateway relaying for many devices) parses each one once, and hands the publish path the same
 * ParsedChannel object again, which is what its grant cache is keyed by. Parsing is a pure function of
 * the text, so an entry never goes stale; past `limit` entries the cache starts over (O(1), bounded memory).
 */
export class ParsedChannelCache {
  private entries = new Map<string, ParsedChannel>();

  constructor(private readonly limit: number = DEFAULT_LIMIT) {}

  /** `parseChannel(topic)`, from the cache when it was parsed before. */
  parse(topic: string): ParsedChannel {
    let channel = this.entries.get(topic);
    if (channel === undefined) {
      channel = parseChannel(topic);
      if (this.entries.size >= this.limit) this.entries = new Map();
      this.entries.set(topic, channel);
    }
    return channel;
  }

  /** Number of topics held. */
  get size(): number {
    return this.entries.size;
  }
}
