/** The channel layer: topic parsing, options, SSIDs and the subscription trie. */

export { CompactMap } from './compact-map.js';
export { hashLevel, PlainMark, WellKnownHash } from './hash.js';
export {
  ChannelKind,
  channelWithOptions,
  normalizeSubscribeTopic,
  parseChannel,
  type ParsedChannel,
} from './parse.js';
export {
  EMPTY_OPTIONS,
  isMeDisabled,
  messageTtl,
  parseOptions,
  replayLimit,
  RETAINED_TTL,
  timeWindow,
  TimeRange,
  type ChannelOptions,
} from './options.js';
export {
  isShareSsid,
  presenceSsid,
  shareSsid,
  ssidContract,
  ssidEquals,
  ssidKey,
  ssidOf,
  type Ssid,
} from './ssid.js';
export {
  EMPTY_MATCH,
  forEachRecipient,
  MatchResult,
  pickShareMember,
  type Identified,
  type Match,
  type QoS,
  type RecipientVisitor,
  type Subscription,
  type SubscriptionOptions,
} from './match.js';
export { MatchStrategy, SubscriptionTrie, type SubscriptionTrieOptions, type TrieObserver } from './trie.js';
export {
  emitterChannelOf,
  parsePlainFilter,
  parsePlainTopic,
  plainTopicOf,
  startsWithDollar,
} from './plain.js';
