// ignoreBOM keeps a leading BOM, as Buffer#toString (what emitter-io calls) does.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** A message as MQTT.js hands it over: topic and payload bytes. */
export interface MqttMessage {
  topic: string;
  payload: Uint8Array;
}

/**
 * A message received on a channel, as the emitter-io SDK shows it: `channel` is the topic the broker sent
 * (the channel, without key or options), `binary` the payload (a Buffer in Node).
 */
export class EmitterMessage {
  readonly channel: string;
  readonly binary: Uint8Array;

  constructor(message: MqttMessage) {
    this.channel = message.topic;
    this.binary = message.payload;
  }

  /** The payload as UTF-8 text. */
  asString(): string {
    return decoder.decode(this.binary);
  }

  /** The payload bytes. */
  asBinary(): Uint8Array {
    return this.binary;
  }

  /** The payload parsed as JSON; `{}` when it is not JSON (as in emitter-io). */
  asObject<T = unknown>(): T {
    try {
      return JSON.parse(this.asString()) as T;
    } catch {
      return {} as T;
    }
  }
}

/** A stored message from `history`: `id` orders messages and pages (`startFromID`). */
export class HistoryMessage extends EmitterMessage {
  constructor(
    /** The stored message's id (base64), as `startFromID` takes it. */
    readonly id: string,
    message: MqttMessage,
  ) {
    super(message);
  }
}

/** A request the broker refused (its Emitter `status` and `message`), or one that got no answer in time. */
export class EmitterRequestError extends Error {
  override readonly name = 'EmitterRequestError';

  constructor(
    /** The Emitter status: 400, 401, 403, 404, 413, 429, 500...; 408 when no answer came in time, 0 when disconnected. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
