import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** A message as a test client received it. */
export interface Received {
  readonly topic: string;
  readonly payload: Buffer;
}

/** An MQTT.js client with a queue of received messages that tests can await. */
export interface TestClient {
  readonly mqtt: MqttClient;
  readonly received: Received[];
  /** Resolves with the next message whose topic passes `filter` (already-received ones count), or rejects after `timeoutMs`. */
  next(filter?: (message: Received) => boolean, timeoutMs?: number): Promise<Received>;
  /** Resolves with the next JSON reply on a topic starting with `prefix`. */
  nextJson(prefix: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  end(): Promise<void>;
}

/** Connects an MQTT.js client to a broker on loopback (tcp or ws) and waits for CONNACK. */
export async function connectClient(
  port: number,
  options: IClientOptions & { transport?: 'tcp' | 'ws' } = {},
): Promise<TestClient> {
  const { transport = 'tcp', ...rest } = options;
  const scheme = rest.protocol ?? (transport === 'ws' ? 'ws' : 'mqtt');
  const url = `${scheme}://127.0.0.1:${port}${transport === 'ws' ? '/' : ''}`;
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...rest });
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  client.on('message', (topic, payload) => {
    received.push({ topic, payload: Buffer.from(payload) });
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timed out')), 5000);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    client.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });

  // A message is handed to one waiter only; others keep searching the unconsumed ones in order.
  const consumed = new Set<number>();
  const next = (filter: (message: Received) => boolean = () => true, timeoutMs = 3000): Promise<Received> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = 0; i < received.length; i++) {
          if (consumed.has(i) || !filter(received[i])) continue;
          consumed.add(i);
          resolve(received[i]);
          return true;
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        const index = waiters.indexOf(wake);
        if (index >= 0) waiters.splice(index, 1);
        reject(new Error(`no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const wake = (): void => {
        if (check()) clearTimeout(timer);
        else waiters.push(wake);
      };
      waiters.push(wake);
    });

  return {
    mqtt: client,
    received,
    next,
    async nextJson(prefix, timeoutMs) {
      const message = await next((m) => m.topic.startsWith(prefix), timeoutMs);
      return JSON.parse(message.payload.toString('utf8')) as Record<string, unknown>;
    },
    end: () =>
      new Promise<void>((resolve) => {
        // A clean DISCONNECT (force would drop the socket and fire the last will).
        if (client.connected) client.end(false, {}, () => resolve());
        else client.end(true, {}, () => resolve());
      }),
  };
}

/** Asks the broker for a channel key through `emitter/keygen/` and returns it. */
export async function keygen(
  client: TestClient,
  secret: string,
  channel: string,
  type: string,
  ttl = 0,
): Promise<string> {
  await client.mqtt.publishAsync('emitter/keygen/', JSON.stringify({ key: secret, channel, type, ttl }));
  const reply = await client.nextJson('emitter/keygen/');
  if (reply.status !== 200 || typeof reply.key !== 'string')
    throw new Error(`keygen failed: ${JSON.stringify(reply)}`);
  return reply.key;
}
