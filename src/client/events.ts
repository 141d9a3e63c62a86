/** The events of a client, as emitter-io names them (`EmitterEvents.message === 'message'`). */
export const EmitterEvents = {
  connect: 'connect',
  disconnect: 'disconnect',
  message: 'message',
  offline: 'offline',
  error: 'error',
  keygen: 'keygen',
  presence: 'presence',
  me: 'me',
} as const;

/** An event name. */
export type EmitterEvent = (typeof EmitterEvents)[keyof typeof EmitterEvents];

type Callback = (argument: never) => void;

/**
 * Callbacks per event with emitter-io's rules: an unknown event name throws, a callback added twice is
 * called once. A callback that throws does not stop the others or the connection: its error is rethrown
 * on a later tick, where it is as uncaught as it would have been.
 */
export class EventHub {
  private readonly callbacks = new Map<EmitterEvent, Callback[]>();

  /** Adds a callback. */
  add(event: string, callback: Callback): void {
    const name = checkEvent('on', event);
    const list = this.callbacks.get(name);
    if (!list) this.callbacks.set(name, [callback]);
    else if (!list.includes(callback)) list.push(callback);
  }

  /** Removes a callback. */
  remove(event: string, callback: Callback): void {
    const list = this.callbacks.get(checkEvent('off', event));
    const index = list ? list.indexOf(callback) : -1;
    if (list && index >= 0) list.splice(index, 1);
  }

  /** Calls every callback of an event with one argument. */
  emit(event: EmitterEvent, argument: unknown): void {
    const list = this.callbacks.get(event);
    if (!list) return;
    for (const callback of [...list]) {
      try {
        (callback as (argument: unknown) => void)(argument);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
}

const NAMES = Object.values(EmitterEvents) as string[];

function checkEvent(method: 'on' | 'off', event: string): EmitterEvent {
  if (NAMES.includes(event)) return event as EmitterEvent;
  const list = NAMES.map((name, i) => `${i === NAMES.length - 1 ? 'or ' : ''}'${name}'`).join(', ');
  throw new Error(`emitter.${method}: unknown event type, supported values are ${list}.`);
}
