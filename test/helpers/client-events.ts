// Helpers for client SDK tests: awaiting a client's events, bounded in time.
import type { Emitter, EmitterEventMap, EmitterMessage } from '../../src/client/index.js';

/** Resolves with the first argument of the next `event` that passes `filter`; rejects after `timeoutMs`. */
export function nextEvent<E extends keyof EmitterEventMap>(
  client: Emitter,
  event: E,
  filter: (value: Parameters<EmitterEventMap[E]>[0]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<Parameters<EmitterEventMap[E]>[0]> {
  return new Promise((resolve, reject) => {
    const callback = ((value: Parameters<EmitterEventMap[E]>[0]) => {
      if (!filter(value)) return;
      clearTimeout(timer);
      client.off(event, callback);
      resolve(value);
    }) as EmitterEventMap[E];
    const timer = setTimeout(() => {
      client.off(event, callback);
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on(event, callback);
  });
}

/** Resolves with the next message on `channel`. */
export function nextMessage(client: Emitter, channel: string, timeoutMs?: number): Promise<EmitterMessage> {
  return nextEvent(client, 'message', (message) => message.channel === channel, timeoutMs);
}

/** Collects the text of every message on `channel` until `stop` resolves. */
export function collect(client: Emitter, channel: string): { texts: string[]; stop(): void } {
  const texts: string[] = [];
  const callback = (message: EmitterMessage): void => {
    if (message.channel === channel) texts.push(message.asString());
  };
  client.on('message', callback);
  return { texts, stop: () => client.off('message', callback) };
}
