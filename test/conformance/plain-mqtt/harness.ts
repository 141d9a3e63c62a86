/**
 * The plain-MQTT conformance set's harness: a broker in plain mode (`anonymous: 'rwslp'`, no channel keys in
 * topics) on a loopback port, MQTT.js clients with an inbox, and unique topics per test so the tests of a
 * file can share one broker. Absence is checked with a barrier (a later message that must come first),
 * never with a sleep.
 */

import assert from 'node:assert/strict';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { IPublishPacket } from 'mqtt-packet';
import type { BrokerOptions } from '../../../src/broker/broker.js';
import { startTestBroker, type TestBroker } from '../../helpers/broker.js';

/** Starts a broker serving plain MQTT clients anonymously with every permission. */
export function startPlainBroker(options: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  return startTestBroker({ anonymous: 'rwslp', sessions: { expiryMs: 60_000 }, ...options });
}

let counter = 0;
/** A topic root no other test uses: `c<pid>-<n>`. */
export function uniqueTopic(name: string): string {
  return `${name}-${process.pid}-${++counter}`;
}

/** A message as a subscriber received it. */
export interface Received {
  readonly topic: string;
  readonly text: string;
  readonly packet: IPublishPacket;
}

/** An MQTT.js client and what it received, in order. */
export interface PlainClient {
  readonly client: MqttClient;
  /** The next message not yet taken (earlier arrivals count), within `timeoutMs`. */
  next(timeoutMs?: number): Promise<Received>;
  /** Messages received and not yet taken. */
  readonly pending: Received[];
  end(): Promise<void>;
}

/** Connects an MQTT.js client (3.1.1 unless `protocolVersion` says otherwise), bounded. */
export async function connectPlain(port: number, options: IClientOptions = {}): Promise<PlainClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clientId: uniqueTopic('client'),
    ...options,
  });
  const pending: Received[] = [];
  const waiters: Array<() => void> = [];
  client.on('message', (topic, payload, packet) => {
    pending.push({ topic, text: payload.toString(), packet });
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
  return {
    client,
    pending,
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (pending.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no message within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return pending.shift() as Received;
    },
    end: () => client.endAsync(),
  };
}

/** Subscribes and returns the granted QoS (or failure code) of each filter. */
export async function subscribe(
  client: PlainClient,
  filter: string | string[],
  options: mqtt.IClientSubscribeOptions = { qos: 0 },
): Promise<number[]> {
  const grants = await client.client.subscribeAsync(filter, options);
  return grants.map((grant) => grant.qos);
}

/** Publishes and resolves once acknowledged (QoS > 0) or written (QoS 0). */
export async function publish(
  client: PlainClient,
  topic: string,
  payload: string | Buffer,
  options: mqtt.IClientPublishOptions = {},
): Promise<void> {
  await client.client.publishAsync(topic, payload, options);
}

/**
 * Asserts nothing reached `client` before a barrier message: publishes `barrier` to `topic` (which the
 * client is subscribed to) and expects it to be the next message.
 */
export async function expectNothingBefore(
  client: PlainClient,
  publisher: PlainClient,
  topic: string,
  why: string,
): Promise<void> {
  await publish(publisher, topic, 'barrier', { qos: 1 });
  const next = await client.next();
  assert.equal(`${next.topic} ${next.text}`, `${topic} barrier`, why);
}
