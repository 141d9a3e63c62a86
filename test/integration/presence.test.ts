import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { parseChannel, ssidOf } from '../../src/channel/index.js';
import { InMemoryStorage, type StoredMessage } from '../../src/storage/index.js';

const isEvent = (event: string) => (m: { topic: string; payload: Buffer }) =>
  m.topic === 'emitter/presence/' && (JSON.parse(m.payload.toString()) as { event: string }).event === event;

describe('presence, as in the presence article: one watcher, two devices toggling', () => {
  let server: TestBroker;
  let watcher: TestClient;
  let key: string;
  const channel = 'presence-demo/8758f6d3/';

  before(async () => {
    server = await startTestBroker();
    watcher = await connectClient(server.port, { clientId: 'watcher' });
    key = await keygen(watcher, server.secret, channel, 'rp');
  });
  after(async () => {
    await watcher.end();
    await server.close();
  });

  test('status is empty at first, then joins and leaves arrive with occupancy', async () => {
    await watcher.mqtt.publishAsync('emitter/presence/', JSON.stringify({ key, channel, changes: true }));
    const status = await watcher.nextJson('emitter/presence/');
    assert.equal(status.event, 'status');
    assert.equal(status.channel, channel);
    assert.equal(status.occupancy, 0);
    assert.deepEqual(status.who, []);

    const alan = await connectClient(server.port, { clientId: 'Alan', username: 'alan' });
    await alan.mqtt.subscribeAsync(`${key}/${channel}`);
    const join = JSON.parse((await watcher.next(isEvent('subscribe'))).payload.toString());
    assert.equal(join.channel, channel);
    assert.equal(join.occupancy, 1);
    assert.equal(join.who.username, 'alan');
    assert.match(join.who.id, /^[A-Z2-7]{26}$/);
    assert.equal(typeof join.time, 'number');

    const margaret = await connectClient(server.port, { clientId: 'Margaret' });
    await margaret.mqtt.subscribeAsync(`${key}/${channel}`);
    const second = JSON.parse((await watcher.next(isEvent('subscribe'))).payload.toString());
    assert.equal(second.occupancy, 2);
    assert.equal(second.who.username, undefined, 'no username when the client set none');

    await watcher.mqtt.publishAsync('emitter/presence/', JSON.stringify({ key, channel }));
    const both = await watcher.nextJson('emitter/presence/');
    assert.equal(both.occupancy, 2);
    assert.deepEqual(
      (both.who as Array<{ id: string }>).map((w) => w.id).sort(),
      [join.who.id, second.who.id].sort(),
    );

    await alan.end();
    const leave = JSON.parse((await watcher.next(isEvent('unsubscribe'))).payload.toString());
    assert.equal(leave.who.id, join.who.id);
    assert.equal(leave.occupancy, 1);

    // A device whose socket dies without DISCONNECT is announced as gone too.
    (margaret.mqtt.stream as unknown as { destroy(): void }).destroy();
    const dropped = JSON.parse((await watcher.next(isEvent('unsubscribe'))).payload.toString());
    assert.equal(dropped.who.id, second.who.id);
    assert.equal(dropped.occupancy, 0);
    await margaret.end();
  });

  test('changes:false stops notifications', async () => {
    await watcher.mqtt.publishAsync(
      'emitter/presence/',
      JSON.stringify({ key, channel, status: false, changes: false }),
    );
    const reply = await watcher.nextJson('emitter/presence/');
    assert.equal(reply.status, 200);
    assert.equal(reply.channel, channel);
    const device = await connectClient(server.port);
    await device.mqtt.subscribeAsync(`${key}/${channel}`);
    // Ask for status afterwards: when it arrives, any notification would have arrived before it.
    await watcher.mqtt.publishAsync('emitter/presence/', JSON.stringify({ key, channel }));
    const status = await watcher.nextJson('emitter/presence/');
    assert.equal(status.event, 'status');
    assert.equal(status.occupancy, 1);
    assert.equal(watcher.received.filter(isEvent('subscribe')).length, 2, 'only the two earlier joins');
    await device.end();
  });

  test('presence errors carry the channel (the Python SDK needs it); an extend key gets the plain 401', async () => {
    const readOnly = await keygen(watcher, server.secret, channel, 'r');
    await watcher.mqtt.publishAsync('emitter/presence/', JSON.stringify({ key: readOnly, channel }));
    const reply = await watcher.nextJson('emitter/presence/');
    assert.equal(reply.status, 401);
    assert.equal(reply.channel, channel);
    // Emitter answers an extend key with the plain 401 text (not the "extend permission" one it uses
    // for publish and subscribe).
    const extend = await keygen(watcher, server.secret, channel, 'rpe');
    await watcher.mqtt.publishAsync('emitter/presence/', JSON.stringify({ key: extend, channel }));
    assert.deepEqual(await watcher.nextJson('emitter/presence/'), {
      status: 401,
      message: 'the security key provided is not authorized to perform this operation',
      channel,
    });
    await watcher.mqtt.publishAsync('emitter/presence/', 'not json');
    const bad = await watcher.nextJson('emitter/presence/');
    assert.equal(bad.status, 400);
    assert.equal(bad.channel, '');
  });
});

describe('share groups', () => {
  test('2 groups x 3 members, 300 messages: each group receives each message exactly once', async () => {
    const server = await startTestBroker();
    const publisher = await connectClient(server.port);
    try {
      const key = await keygen(publisher, server.secret, '#/', 'rw');
      const members: TestClient[] = [];
      for (const group of ['g1', 'g2']) {
        for (let i = 0; i < 3; i++) {
          const member = await connectClient(server.port, { clientId: `${group}-${i}` });
          await member.mqtt.subscribeAsync(`${key}/$share/${group}/jobs/`);
          members.push(member);
        }
      }
      const groups = [members.slice(0, 3), members.slice(3)];
      // Each group is complete when its members together hold 300 messages; wait on their message events.
      const complete = groups.map(
        (group) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('group did not receive 300 messages')), 10000);
            const check = (): void => {
              if (group.reduce((sum, m) => sum + m.received.length, 0) >= 300) {
                clearTimeout(timer);
                resolve();
              }
            };
            for (const member of group) member.mqtt.on('message', check);
          }),
      );
      for (let i = 0; i < 300; i++) await publisher.mqtt.publishAsync(`${key}/jobs/`, String(i));
      await Promise.all(complete);
      // A marker to a plain subscriber, sent after the burst, bounds the time for any extra copy.
      const marker = await connectClient(server.port);
      await marker.mqtt.subscribeAsync(`${key}/done/`);
      await publisher.mqtt.publishAsync(`${key}/done/`, 'end');
      await marker.next((m) => m.payload.toString() === 'end');
      for (const [g, group] of groups.entries()) {
        const seen = group.flatMap((m) => m.received.map((x) => x.payload.toString()));
        assert.equal(seen.length, 300, `group ${g + 1} got each message once`);
        assert.equal(new Set(seen).size, 300);
        assert.ok(
          group.every((m) => m.received.length > 0),
          'the load is spread over the members',
        );
        for (const m of group) assert.equal(m.received[0]?.topic, 'jobs/');
      }
      await marker.end();
      for (const member of members) await member.end();
    } finally {
      await publisher.end();
      await server.close();
    }
  });
});

describe('links and key bans', () => {
  let server: TestBroker;
  let client: TestClient;
  before(async () => {
    server = await startTestBroker();
    client = await connectClient(server.port);
  });
  after(async () => {
    await client.end();
    await server.close();
  });

  test('a link publishes to its channel with its options, and auto-subscribes', async () => {
    const key = await keygen(client, server.secret, 'linked/', 'rw');
    await client.mqtt.publishAsync(
      'emitter/link/',
      JSON.stringify({ name: 'a1', key, channel: 'linked/?me=1', subscribe: true, private: false }),
    );
    const reply = await client.nextJson('emitter/link/');
    assert.deepEqual(reply, { status: 200, name: 'a1', channel: 'linked/?me=1' });
    await client.mqtt.publishAsync('a1', 'through the link');
    const message = await client.next((m) => m.topic === 'linked/');
    assert.equal(message.payload.toString(), 'through the link');
    await client.mqtt.publishAsync('emitter/me/', '');
    const me = await client.nextJson('emitter/me/');
    assert.deepEqual(me.links, { a1: 'linked/?me=1' });
  });

  test('link errors: bad name, bad channel, key not valid for the channel', async () => {
    const key = await keygen(client, server.secret, 'linked/', 'rw');
    await client.mqtt.publishAsync('emitter/link/', JSON.stringify({ name: 'abc', key, channel: 'linked/' }));
    assert.equal(
      (await client.nextJson('emitter/link/')).message,
      'the link must be an alphanumeric string of 1 or 2 characters',
    );
    await client.mqtt.publishAsync('emitter/link/', JSON.stringify({ name: 'b', key, channel: 'linked' }));
    assert.equal((await client.nextJson('emitter/link/')).status, 400);
    await client.mqtt.publishAsync(
      'emitter/link/',
      JSON.stringify({ name: 'b', key, channel: 'elsewhere/' }),
    );
    assert.equal((await client.nextJson('emitter/link/')).status, 401);
  });

  test('a private link needs an extend key and gets a channel of this connection', async () => {
    const extendKey = await keygen(client, server.secret, 'private/', 'rwe');
    await client.mqtt.publishAsync('emitter/me/', '');
    const { id } = await client.nextJson('emitter/me/');
    await client.mqtt.publishAsync(
      'emitter/link/',
      JSON.stringify({ name: 'p', key: extendKey, channel: 'private/', subscribe: true, private: true }),
    );
    const reply = await client.nextJson('emitter/link/');
    assert.equal(reply.channel, `private/${id}/`);
    await client.mqtt.publishAsync('p', 'secret');
    assert.equal((await client.next((m) => m.topic === `private/${id}/`)).payload.toString(), 'secret');
    const plainKey = await keygen(client, server.secret, 'private/', 'rw');
    await client.mqtt.publishAsync(
      'emitter/link/',
      JSON.stringify({ name: 'q', key: plainKey, channel: 'private/', subscribe: false, private: true }),
    );
    assert.equal((await client.nextJson('emitter/link/')).status, 401);
  });

  test('a ban reaches channels already published to, cached from any client, and unban restores them', async () => {
    const key = await keygen(client, server.secret, 'relay/#/', 'rw');
    const other = await connectClient(server.port);
    try {
      // Several channels in turn, from two clients: the parsed channels and their grants are cached.
      await client.mqtt.subscribeAsync(`${key}/relay/`);
      for (let i = 0; i < 3; i++) {
        await client.mqtt.publishAsync(`${key}/relay/${i}/`, 'before');
        await other.mqtt.publishAsync(`${key}/relay/${i}/`, 'before');
      }
      for (let i = 0; i < 3; i++) await client.next((m) => m.topic === `relay/${i}/`);
      await client.mqtt.publishAsync(
        'emitter/keyban/',
        JSON.stringify({ secret: server.secret, target: key, banned: true }),
      );
      assert.deepEqual(await client.nextJson('emitter/keyban/'), { status: 200, banned: true });
      for (let i = 0; i < 3; i++) {
        await other.mqtt.publishAsync(`${key}/relay/${i}/`, 'banned');
        assert.equal((await other.nextJson('emitter/error/')).status, 401);
      }
      await client.mqtt.publishAsync(
        'emitter/keyban/',
        JSON.stringify({ secret: server.secret, target: key, banned: false }),
      );
      assert.deepEqual(await client.nextJson('emitter/keyban/'), { status: 200, banned: false });
      await other.mqtt.publishAsync(`${key}/relay/2/`, 'after');
      await client.next((m) => m.payload.toString() === 'after');
      assert.equal(client.received.filter((m) => m.payload.toString() === 'banned').length, 0);
    } finally {
      await other.end();
    }
  });

  test('keyban blocks a key everywhere and unban restores it', async () => {
    const key = await keygen(client, server.secret, 'banned/', 'rw');
    await client.mqtt.publishAsync(
      'emitter/keyban/',
      JSON.stringify({ secret: server.secret, target: key, banned: true }),
    );
    assert.deepEqual(await client.nextJson('emitter/keyban/'), { status: 200, banned: true });
    await client.mqtt.publishAsync(`${key}/banned/`, 'x');
    assert.equal((await client.nextJson('emitter/error/')).status, 401);
    await client.mqtt.publishAsync(
      'emitter/keyban/',
      JSON.stringify({ secret: key, target: key, banned: false }),
    );
    assert.equal((await client.nextJson('emitter/keyban/')).status, 401, 'only the secret key can unban');
    await client.mqtt.publishAsync(
      'emitter/keyban/',
      JSON.stringify({ secret: server.secret, target: key, banned: false }),
    );
    assert.deepEqual(await client.nextJson('emitter/keyban/'), { status: 200, banned: false });
    await client.mqtt.subscribeAsync(`${key}/banned/`);
    await client.mqtt.publishAsync(`${key}/banned/`, 'back');
    assert.equal((await client.next((m) => m.topic === 'banned/')).payload.toString(), 'back');
  });
});

describe('last will', () => {
  test('is published when a client drops, not after a clean DISCONNECT, and only with a w key', async () => {
    const server = await startTestBroker();
    const watcher = await connectClient(server.port);
    try {
      const key = await keygen(watcher, server.secret, 'wills/', 'rw');
      const readOnly = await keygen(watcher, server.secret, 'wills/', 'r');
      await watcher.mqtt.subscribeAsync(`${key}/wills/`);
      const will = (k: string, payload: string) => ({
        will: { topic: `${k}/wills/`, payload: Buffer.from(payload), qos: 0 as const, retain: false },
      });

      const clean = await connectClient(server.port, will(key, 'clean'));
      await clean.end();
      const unauthorized = await connectClient(server.port, will(readOnly, 'unauthorized'));
      (unauthorized.mqtt.stream as unknown as { destroy(): void }).destroy();
      const dropped = await connectClient(server.port, will(key, 'dropped'));
      (dropped.mqtt.stream as unknown as { destroy(): void }).destroy();

      const message = await watcher.next((m) => m.topic === 'wills/');
      assert.equal(message.payload.toString(), 'dropped');
      // A later marker proves nothing else was queued behind it.
      await watcher.mqtt.publishAsync(`${key}/wills/`, 'marker');
      await watcher.next((m) => m.payload.toString() === 'marker');
      assert.deepEqual(
        watcher.received.filter((m) => m.topic === 'wills/').map((m) => m.payload.toString()),
        ['dropped', 'marker'],
      );
      await unauthorized.end();
      await dropped.end();
    } finally {
      await watcher.end();
      await server.close();
    }
  });
});

describe('last will storage', () => {
  test('a retained will is stored (key with s) for storage.config.retain, ?ttl=N for N s; without s it is only delivered', async () => {
    const server = await startTestBroker({ storage: new InMemoryStorage({ retain: 3600 }) });
    const watcher = await connectClient(server.port);
    try {
      const key = await keygen(watcher, server.secret, 'wills/#/', 'rwsl');
      const noStore = await keygen(watcher, server.secret, 'wills/#/', 'rw');
      await watcher.mqtt.subscribeAsync(`${key}/wills/`);
      const dropWith = async (topic: string, payload: string, retain: boolean): Promise<void> => {
        const client = await connectClient(server.port, {
          will: { topic, payload: Buffer.from(payload), qos: 0, retain },
        });
        (client.mqtt.stream as unknown as { destroy(): void }).destroy();
        // The live delivery comes after the will was handed to storage.
        await watcher.next((m) => m.payload.toString() === payload);
        await client.end();
      };
      await dropWith(`${key}/wills/retained/`, 'retained will', true);
      await dropWith(`${key}/wills/ttl/?ttl=60`, 'ttl will', false);
      await dropWith(`${noStore}/wills/unstored/`, 'will without s', true);
      await dropWith(`${key}/wills/plain/`, 'plain will', false);

      // A later subscriber (key with l) gets the stored wills replayed; the others were never stored.
      const stored = async (channel: string): Promise<StoredMessage[]> => {
        const parsed = parseChannel(`${key}/${channel}`);
        return server.broker.storage.query(ssidOf(server.license.contract, parsed.query), { limit: 10 });
      };
      const now = Math.floor(Date.now() / 1000);
      const [retained] = await stored('wills/retained/');
      assert.equal(retained?.payload.toString(), 'retained will');
      assert.ok(
        Math.abs(retained.expires - (now + 3600)) <= 5,
        `retained for 3600 s, got ${retained.expires - now}`,
      );
      const [withTtl] = await stored('wills/ttl/');
      assert.equal(withTtl?.payload.toString(), 'ttl will');
      assert.ok(
        Math.abs(withTtl.expires - (now + 60)) <= 5,
        `kept for ?ttl=60, got ${withTtl.expires - now}`,
      );
      assert.deepEqual(await stored('wills/unstored/'), []);
      assert.deepEqual(await stored('wills/plain/'), []);

      const late = await connectClient(server.port);
      await late.mqtt.subscribeAsync(`${key}/wills/retained/`);
      assert.equal((await late.next()).payload.toString(), 'retained will');
      await late.end();
    } finally {
      await watcher.end();
      await server.close();
    }
  });
});
