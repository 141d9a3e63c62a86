// emitter-ts/client: a drop-in for the official emitter-io SDK (same calls, events and messages), with
// promises on top (`client.promises`), history paging and sessions.
import { connect, connectAsync, Emitter } from './emitter.js';
import { EmitterEvents } from './events.js';
import { EmitterMessage, EmitterRequestError, HistoryMessage } from './message.js';

export { connect, connectAsync, Emitter, type EmitterEventMap, type EmitterEventName } from './emitter.js';
export type { ConnectRequest } from './connect-options.js';
export { EmitterEvents, type EmitterEvent } from './events.js';
export { EmitterMessage, EmitterRequestError, HistoryMessage, type MqttMessage } from './message.js';
export type { EmitterPromises } from './promises.js';
export type {
  GroupSubscribeRequest,
  HistoryRequest,
  KeyBanRequest,
  KeyBanResult,
  KeyGenEvent,
  KeyGenRequest,
  KeyGenResult,
  LinkRequest,
  LinkResult,
  MeEvent,
  MeResult,
  Payload,
  PresenceEvent,
  PresenceInfo,
  PresenceRequest,
  PresenceResult,
  PublishRequest,
  PublishWithLinkRequest,
  ReplayOptions,
  SubscribeRequest,
  SubscribeResult,
  UnsubscribeRequest,
} from './wire.js';

/** `import emitter from 'emitter-ts/client'` then `emitter.connect(...)`, as with `require('emitter-io')`. */
export default {
  connect,
  connectAsync,
  Emitter,
  EmitterEvents,
  EmitterMessage,
  EmitterRequestError,
  HistoryMessage,
};
