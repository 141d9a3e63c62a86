const decoder = new TextDecoder();

/** A message received on a channel: `channel` as the broker sent it, `binary` the payload bytes. */
export class EmitterMessage {
  constructor(
    readonly channel: string,
    readonly binary: Uint8Array,
  ) {}

  /** The payload as UTF-8 text. */
  asString(): string {
    return decoder.decode(this.binary);
  }

  /** The payload parsed as JSON (throws on invalid JSON, unlike the official SDK which returns {}). */
  asObject<T = unknown>(): T {
    return JSON.parse(this.asString()) as T;
  }

  /** The payload bytes. */
  asBinary(): Uint8Array {
    return this.binary;
  }
}

/** An error the broker answered with (Emitter status and message), or a request that timed out. */
export class EmitterRequestError extends Error {
  override readonly name = 'EmitterRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
