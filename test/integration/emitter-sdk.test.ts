import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startTestBroker } from '../helpers/broker.js';

// The official JavaScript SDK (npm emitter-io 1.39.0), unchanged: MQTT over WebSocket with
// subprotocol mqttv3.1, its bundled mqtt.js 1.x, replies routed by topic prefix.
interface SdkMessage {
  channel: string;
  asString(): string;
}
interface SdkClient {
  on(event: 'connect', handler: () => void): void;
  on(event: 'keygen', handler: (reply: { key: string; channel: string; status: number }) => void): void;
  on(event: 'me', handler: (reply: { id: string }) => void): void;
  on(event: 'message', handler: (message: SdkMessage) => void): void;
  keygen(request: { key: string; channel: string; type: string; ttl?: number }): void;
  subscribe(request: { key: string; channel: string }): void;
  publish(request: { key: string; channel: string; message: string; me?: boolean }): void;
  me(): void;
  disconnect(): void;
}
const require = createRequire(import.meta.url);
const sdk = require('emitter-io') as { connect(options: object): SdkClient };

test('the official emitter-io SDK connects, generates a key, subscribes and receives', async () => {
  const server = await startTestBroker();
  const client = sdk.connect({ host: '127.0.0.1', port: server.port, secure: false, reconnectPeriod: 0 });
  try {
    const outcome = await new Promise<{ key: string; message: SdkMessage; id: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('SDK round trip timed out')), 10000);
      let key = '';
      let id = '';
      client.on('connect', () => {
        client.keygen({ key: server.secret, channel: 'sdk/demo/', type: 'rw', ttl: 0 });
      });
      client.on('keygen', (reply) => {
        assert.equal(reply.status, 200);
        key = reply.key;
        client.me();
      });
      client.on('me', (reply) => {
        id = reply.id;
        client.subscribe({ key, channel: 'sdk/demo/' });
        // The subscription and the publish travel on one socket in order, so no wait is needed.
        client.publish({ key, channel: 'sdk/demo/', message: 'hello from the SDK' });
      });
      client.on('message', (message) => {
        clearTimeout(timer);
        resolve({ key, message, id });
      });
    });
    assert.match(outcome.key, /^[A-Za-z0-9_-]{32}$/);
    assert.match(outcome.id, /^[A-Z2-7]{26}$/);
    assert.equal(outcome.message.channel, 'sdk/demo/');
    assert.equal(outcome.message.asString(), 'hello from the SDK');
  } finally {
    client.disconnect();
    await server.close();
  }
});

interface SdkFullClient extends Omit<SdkClient, 'on'> {
  on(event: 'connect', handler: () => void): void;
  on(event: 'keygen', handler: (reply: { key: string; channel: string; status: number }) => void): void;
  on(event: 'message', handler: (message: SdkMessage) => void): void;
  on(
    event: 'presence',
    handler: (event: { event: string; channel: string; who: unknown; occupancy?: number }) => void,
  ): void;
  presence(request: { key: string; channel: string; status?: boolean; changes?: boolean }): void;
  link(request: { key: string; channel: string; name: string; private: boolean; subscribe: boolean }): void;
  publishWithLink(request: { link: string; message: string }): void;
}

test('the official SDK: presence, link, publishWithLink, and receiving through a $share group', async () => {
  const server = await startTestBroker();
  const watcher = sdk.connect({
    host: '127.0.0.1',
    port: server.port,
    secure: false,
    reconnectPeriod: 0,
  }) as unknown as SdkFullClient;
  const originalLog = console.log;
  console.log = () => {}; // the SDK logs every link request
  try {
    const events: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`SDK flow timed out: ${events.join(', ')}`)), 10000);
      let key = '';
      watcher.on('connect', () => watcher.keygen({ key: server.secret, channel: 'room/#/', type: 'rwp' }));
      watcher.on('keygen', (reply) => {
        if (reply.channel === 'room/#/') {
          key = reply.key;
          watcher.presence({ key, channel: 'room/', status: true, changes: true });
        } else {
          // A key for the share group path, then subscribe to the group and link to the room.
          watcher.subscribe({ key: reply.key, channel: '$share/g1/room/' });
          watcher.link({ key, channel: 'room/', name: 'r1', private: false, subscribe: false });
        }
      });
      watcher.on('presence', (event) => {
        events.push(`presence:${event.event}:${event.channel}`);
        if (event.event === 'status') {
          assert.deepEqual(event.who, []);
          assert.equal(event.occupancy, 0);
          watcher.keygen({ key: server.secret, channel: '$share/g1/room/', type: 'r' });
        }
      });
      watcher.on('message', (message) => {
        events.push(`message:${message.channel}`);
        if (message.channel === 'emitter/link/') watcher.publishWithLink({ link: 'r1', message: 'via link' });
        if (message.channel === 'room/') {
          assert.equal(message.asString(), 'via link');
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await done;
    assert.ok(events.includes('presence:status:room/'));
    assert.ok(events.includes('message:emitter/link/'));
  } finally {
    console.log = originalLog;
    watcher.disconnect();
    await server.close();
  }
});
