/**
 * MQTT 5 settings of the broker and how Emitter's errors read in MQTT 5 terms: every refusal an Emitter
 * client sees on `emitter/error/` is also a reason code (and the Emitter text as reason string) on the
 * acknowledgement of the packet that caused it.
 */

import { Errors, type EmitterError } from '../errors.js';
import { ReasonCode } from '../mqtt/index.js';

/** What the broker tells MQTT 5 clients in CONNACK, and holds them to. */
export interface Mqtt5Settings {
  /** Most QoS 1/2 PUBLISHes a client may have unacknowledged to us (our Receive Maximum, 1..65535). */
  readonly receiveMaximum: number;
  /** Highest topic alias a client may use towards us (0: none). */
  readonly topicAliasMaximum: number;
  /** Keep alive (seconds) imposed on every MQTT 5 client (Server Keep Alive); 0: the client's own. */
  readonly serverKeepAlive: number;
}

/** Defaults: 1,024 unacknowledged publishes, 64 topic aliases, the client's keep alive. */
export const DEFAULT_MQTT5_SETTINGS: Mqtt5Settings = {
  receiveMaximum: 1024,
  topicAliasMaximum: 64,
  serverKeepAlive: 0,
};

/** Where an error happened: publishes and subscriptions name a bad topic differently. */
export type ReasonContext = 'publish' | 'subscribe';

/** The MQTT 5 reason code for an Emitter error. */
export function reasonCodeOf(error: EmitterError, context: ReasonContext): number {
  if (error === Errors.PayloadFormatInvalid) return ReasonCode.PayloadFormatInvalid;
  switch (error.status) {
    case 400:
      return context === 'publish' ? ReasonCode.TopicNameInvalid : ReasonCode.TopicFilterInvalid;
    case 401:
    case 402:
    case 403:
      return ReasonCode.NotAuthorized;
    case 413:
      return ReasonCode.PacketTooLarge;
    case 429:
      return ReasonCode.QuotaExceeded;
    case 501:
      return ReasonCode.ImplementationSpecificError;
    default:
      return ReasonCode.UnspecifiedError;
  }
}

/** One reason string for the errors of one packet (SUBACK, UNSUBACK): Emitter's texts, each once. */
export function reasonStringOf(errors: readonly EmitterError[]): string {
  return [...new Set(errors.map((error) => error.message))].join('; ');
}

/** Bytes of a whole packet whose remaining length is `remaining` (fixed header included). */
export function packetSizeFor(remaining: number): number {
  const lengthBytes = remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4;
  return 1 + lengthBytes + remaining;
}
