export { connect, EmitterClient, type ConnectOptions, type EmitterClientEvents } from './client.js';
export { TypedEmitter } from './events.js';
export { EmitterMessage, EmitterRequestError } from './message.js';
export type {
  KeygenResult,
  LinkResult,
  MeResult,
  PresenceEvent,
  PresenceStatus,
  PublishOptions,
  SubscribeOptions,
} from './wire.js';
