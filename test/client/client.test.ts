import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connect,
  connectAsync,
  EmitterRequestError,
  type Emitter,
  type KeyGenEvent,
  type MeEvent,
  type PresenceEvent,
} from '../../src/client/index.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { collect, nextEvent, nextMessage } from '../helpers/client-events.js';

const UNAUTHORIZED = (error: unknown): boolean =>
  error instanceof EmitterRequestError && error.status === 401;

for (const transport of ['tcp', 'ws'] as const) {
  describe(`client SDK over ${transport}`, () => {
    let server: TestBroker;
    let alice: Emitter;
    let bob: Emitter;
    let key: string;

    before(async () => {
      server = await startTestBroker();
      const options = { host: '127.0.0.1', port: server.port, transport, reconnectPeriod: 0 };
      alice = await connectAsync({ ...options, username: 'alice' });
      bob = await connectAsync(options);
      key = (await alice.promises.keygen({ key: server.secret, channel: 'sdk/#/', type: 'rwslp' })).key;
    });
    after(async () => {
      await alice.promises.disconnect();
      await bob.promises.disconnect();
      await server.close();
    });

    describe('promises', () => {
      test('keygen resolves with { key, channel } and nothing else, or rejects with the broker error', async () => {
        let events = 0;
        const count = (): void => void events++;
        alice.on('keygen', count);
        const result = await alice.promises.keygen({
          key: server.secret,
          channel: 'sdk/x/',
          type: 'rw',
          ttl: 60,
        });
        assert.deepEqual(Object.keys(result).sort(), ['channel', 'key']);
        assert.equal(result.channel, 'sdk/x/');
        assert.match(result.key, /^[A-Za-z0-9_-]{32}$/);
        await assert.rejects(alice.promises.keygen({ key, channel: 'sdk/x/', type: 'rw' }), UNAUTHORIZED);
        await assert.rejects(
          alice.promises.keygen({ key: server.secret, channel: 'no-slash', type: 'rw' }),
          (error: EmitterRequestError) => error.status === 400,
        );
        alice.off('keygen', count);
        assert.equal(events, 0, 'answers that settle a promise fire no event');
      });

      test('publish and subscribe: binary payloads intact, me: false, a refused publish rejects', async () => {
        assert.deepEqual(await bob.promises.subscribe({ key, channel: 'sdk/chat/' }), { qos: 0 });
        const received = nextMessage(bob, 'sdk/chat/');
        const bytes = new Uint8Array(Array.from({ length: 256 }, (_, i) => i));
        await alice.promises.publish({ key, channel: 'sdk/chat/', message: bytes });
        assert.deepEqual([...(await received).asBinary()], [...bytes]);

        await alice.promises.subscribe({ key, channel: 'sdk/echo/' });
        const echo = nextMessage(alice, 'sdk/echo/');
        await alice.promises.publish({ key, channel: 'sdk/echo/', message: 'hidden', me: false });
        await alice.promises.publish({
          key,
          channel: 'sdk/echo/',
          message: JSON.stringify({ shown: true }),
          qos: 0,
        });
        assert.deepEqual((await echo).asObject(), { shown: true });

        await assert.rejects(
          alice.promises.publish({ key: 'not-a-key', channel: 'sdk/chat/', message: 'x' }),
          UNAUTHORIZED,
        );
        const readOnly = (await alice.promises.keygen({ key: server.secret, channel: 'sdk/ro/', type: 'r' }))
          .key;
        await assert.rejects(
          alice.promises.publish({ key: readOnly, channel: 'sdk/ro/', message: 'x' }),
          UNAUTHORIZED,
        );
        await assert.rejects(
          alice.promises.publish({ key, channel: 'sdk/#/', message: 'x' }),
          (error: EmitterRequestError) => error.status === 403,
        );
      });

      test('subscribe replays stored messages (last, from, until), also on wildcards; a refusal rejects', async () => {
        for (let i = 0; i < 3; i++)
          await alice.promises.publish({ key, channel: 'sdk/stored/a/', message: `s${i}`, ttl: 60 });
        const replay = collect(bob, 'sdk/stored/a/');
        const third = nextEvent(bob, 'message', () => replay.texts.length === 2);
        await bob.promises.subscribe({
          key,
          channel: 'sdk/stored/',
          last: 2,
          from: new Date(Date.now() - 60000),
        });
        await third;
        const wildcard = collect(alice, 'sdk/stored/a/');
        const wildcardDone = nextEvent(alice, 'message', () => wildcard.texts.length === 3);
        await alice.promises.subscribe({
          key,
          channel: 'sdk/stored/#/',
          last: 5,
          until: Math.ceil(Date.now() / 1000),
        });
        await wildcardDone;
        replay.stop();
        wildcard.stop();
        assert.deepEqual(replay.texts, ['s1', 's2']);
        assert.deepEqual(wildcard.texts, ['s0', 's1', 's2']);
        await alice.promises.unsubscribe({ key, channel: 'sdk/stored/#/' });

        const writeOnly = (await alice.promises.keygen({ key: server.secret, channel: 'sdk/wo/', type: 'w' }))
          .key;
        await assert.rejects(
          bob.promises.subscribe({ key: writeOnly, channel: 'sdk/wo/' }),
          (error: EmitterRequestError) => {
            assert.equal(error.status, 401);
            assert.match(error.message, /not authorized/);
            return true;
          },
        );
      });

      test('unsubscribe stops deliveries; a refused unsubscribe rejects', async () => {
        await bob.promises.subscribe({ key, channel: 'sdk/unsub/' });
        await bob.promises.subscribe({ key, channel: 'sdk/marker/' });
        await bob.promises.unsubscribe({ key, channel: 'sdk/unsub/' });
        const texts = collect(bob, 'sdk/unsub/');
        const marker = nextMessage(bob, 'sdk/marker/');
        await alice.promises.publish({ key, channel: 'sdk/unsub/', message: 'after unsubscribe' });
        await alice.promises.publish({ key, channel: 'sdk/marker/', message: 'marker' });
        await marker;
        texts.stop();
        assert.deepEqual(texts.texts, []);
        await assert.rejects(
          bob.promises.unsubscribe({ key: 'not-a-key', channel: 'sdk/unsub/' }),
          UNAUTHORIZED,
        );
      });

      test('presence: the status without req or status fields, then join and leave events', async () => {
        const status = await alice.promises.presence({
          key,
          channel: 'sdk/room/',
          status: true,
          changes: true,
        });
        assert.deepEqual(status, {
          event: 'status',
          channel: 'sdk/room/',
          time: status.time,
          occupancy: 0,
          who: [],
        });
        assert.ok(status.time > 1_700_000_000);
        const join = nextEvent(
          alice,
          'presence',
          (e) => e.event === 'subscribe' && e.channel === 'sdk/room/',
        );
        await bob.promises.subscribe({ key, channel: 'sdk/room/' });
        const joined = await join;
        assert.equal(joined.occupancy, 1);
        assert.ok(!('req' in joined));
        const now = await alice.promises.presence({ key, channel: 'sdk/room/' });
        assert.deepEqual(now.who, [{ id: (joined.who as { id: string }).id }]);
        const leave = nextEvent(
          alice,
          'presence',
          (e) => e.event === 'unsubscribe' && e.channel === 'sdk/room/',
        );
        await bob.promises.unsubscribe({ key, channel: 'sdk/room/' });
        assert.equal((await leave).occupancy, 0);
        const quiet = await alice.promises.presence({
          key,
          channel: 'sdk/room/',
          status: false,
          changes: false,
        });
        assert.deepEqual(quiet.who, []);
        await assert.rejects(
          alice.promises.presence({ key: 'not-a-key', channel: 'sdk/room/' }),
          UNAUTHORIZED,
        );
      });

      test('me always has links; link, publishWithLink and their refusals', async () => {
        const fresh = await connectAsync({
          host: '127.0.0.1',
          port: server.port,
          transport,
          reconnectPeriod: 0,
        });
        try {
          const me = await fresh.promises.me();
          assert.deepEqual(me, { id: me.id, links: {} });
          assert.match(me.id, /^[A-Z2-7]{26}$/);
          const link = await fresh.promises.link({
            key,
            channel: 'sdk/linked/',
            name: 'l1',
            private: false,
            subscribe: true,
          });
          assert.deepEqual(link, { name: 'l1', channel: 'sdk/linked/?me=1' });
          const received = nextMessage(fresh, 'sdk/linked/');
          await fresh.promises.publishWithLink({ link: 'l1', message: 'via link' });
          assert.equal((await received).asString(), 'via link');
          assert.deepEqual(await fresh.promises.me(), { id: me.id, links: { l1: 'sdk/linked/?me=1' } });
          await assert.rejects(
            fresh.promises.link({
              key,
              channel: 'sdk/linked/',
              name: 'toolong',
              private: false,
              subscribe: false,
            }),
            (error: EmitterRequestError) => error.status === 400,
          );
          await assert.rejects(
            fresh.promises.publishWithLink({ link: 'zz', message: 'no such link' }),
            (error: EmitterRequestError) => error.status === 400,
          );
          const extendKey = (
            await fresh.promises.keygen({ key: server.secret, channel: 'sdk/mine/', type: 'rwe' })
          ).key;
          const privateLink = await fresh.promises.link({
            key: extendKey,
            channel: 'sdk/mine/',
            name: 'p1',
            private: true,
            subscribe: true,
          });
          assert.equal(privateLink.channel, `sdk/mine/${me.id}/?me=1`);
        } finally {
          await fresh.promises.disconnect();
        }
      });

      test('subscribeWithGroup delivers each message to one member', async () => {
        const groupKey = (
          await alice.promises.keygen({ key: server.secret, channel: '$share/g/sdk/jobs/', type: 'r' })
        ).key;
        await alice.promises.subscribeWithGroup({ key: groupKey, channel: 'sdk/jobs/', group: 'g' });
        await bob.promises.subscribeWithGroup({ key: groupKey, channel: 'sdk/jobs/', group: 'g' });
        const a = collect(alice, 'sdk/jobs/');
        const b = collect(bob, 'sdk/jobs/');
        const marker = nextMessage(alice, 'sdk/marker2/');
        await alice.promises.subscribe({ key, channel: 'sdk/marker2/' });
        for (let i = 0; i < 20; i++)
          await alice.promises.publish({ key, channel: 'sdk/jobs/', message: String(i) });
        await alice.promises.publish({ key, channel: 'sdk/marker2/', message: 'done' });
        await marker;
        // Bob's share of the jobs was written before alice's marker; one more round trip to bob settles it.
        const bobMarker = nextMessage(bob, 'sdk/marker3/');
        await bob.promises.subscribe({ key, channel: 'sdk/marker3/' });
        await alice.promises.publish({ key, channel: 'sdk/marker3/', message: 'done' });
        await bobMarker;
        a.stop();
        b.stop();
        assert.deepEqual(
          [...a.texts, ...b.texts].map(Number).sort((x, y) => x - y),
          Array.from({ length: 20 }, (_, i) => i),
        );
      });

      test('keyban bans and unbans a key', async () => {
        const victim = (await alice.promises.keygen({ key: server.secret, channel: 'sdk/ban/', type: 'rw' }))
          .key;
        assert.deepEqual(
          await alice.promises.keyban({ secret: server.secret, target: victim, banned: true }),
          { banned: true },
        );
        await assert.rejects(
          alice.promises.publish({ key: victim, channel: 'sdk/ban/', message: 'x' }),
          UNAUTHORIZED,
        );
        assert.deepEqual(
          await alice.promises.keyban({ secret: server.secret, target: victim, banned: false }),
          { banned: false },
        );
        await alice.promises.publish({ key: victim, channel: 'sdk/ban/', message: 'x' });
        await assert.rejects(
          alice.promises.keyban({ secret: key, target: victim, banned: true }),
          UNAUTHORIZED,
        );
      });

      test('bad arguments reject with the emitter-io message; disconnect rejects what is still waiting', async () => {
        await assert.rejects(
          alice.promises.publish({ key, channel: 'sdk/chat/' } as never),
          /emitter.publish: request object does not contain a 'message' object/,
        );
        const lonely = await connectAsync({
          host: '127.0.0.1',
          port: server.port,
          transport,
          reconnectPeriod: 0,
        });
        const pending = assert.rejects(
          lonely.promises.me(),
          (error: EmitterRequestError) => error.status === 0,
        );
        await lonely.promises.disconnect();
        await pending;
      });
    });

    describe("emitter-io's callbacks and events", () => {
      test('connect(options, callback) returns the client at once and calls back with it on connect', async () => {
        let returned: Emitter | undefined;
        const connected = new Promise<Emitter>((resolve) => {
          returned = connect(
            { host: '127.0.0.1', port: server.port, transport, reconnectPeriod: 0 },
            resolve,
          );
        });
        assert.equal(returned?.connected, false);
        assert.equal(await connected, returned);
        const client = returned as Emitter;
        assert.equal(client.connected, true);
        const closed = nextEvent(client, 'disconnect');
        assert.equal(client.disconnect(), client);
        assert.equal(await closed, client);
      });

      test('keygen, me and presence answer as events, the way the broker sent them (no req)', async () => {
        const keygen = nextEvent(alice, 'keygen', (r: KeyGenEvent) => r.channel === 'sdk/cb/');
        assert.equal(alice.keygen({ key: server.secret, channel: 'sdk/cb/', type: 'rwp', ttl: 0 }), alice);
        const reply = await keygen;
        assert.deepEqual(Object.keys(reply).sort(), ['channel', 'key', 'status']);
        const cbKey = reply.key as string;
        const failed = nextEvent(alice, 'keygen', (r: KeyGenEvent) => r.status !== 200);
        alice.keygen({ key: cbKey, channel: 'sdk/cb/', type: 'rw' });
        assert.equal((await failed).status, 401);

        const me = nextEvent(alice, 'me');
        alice.me();
        const meReply: MeEvent = await me;
        assert.match(meReply.id, /^[A-Z2-7]{26}$/);
        assert.ok(!('req' in meReply));

        const status = nextEvent(
          alice,
          'presence',
          (e: PresenceEvent) => e.channel === 'sdk/cb/' && e.event === 'status',
        );
        alice.presence({ key: cbKey, channel: 'sdk/cb/', status: true, changes: true });
        assert.deepEqual((await status).who, []);
        const join = nextEvent(
          alice,
          'presence',
          (e: PresenceEvent) => e.channel === 'sdk/cb/' && e.event === 'subscribe',
        );
        bob.subscribe({ key: cbKey, channel: 'sdk/cb/' });
        assert.equal((await join).occupancy, 1);
        const leave = nextEvent(
          alice,
          'presence',
          (e: PresenceEvent) => e.channel === 'sdk/cb/' && e.event === 'unsubscribe',
        );
        bob.unsubscribe({ key: cbKey, channel: 'sdk/cb/' });
        assert.equal((await leave).occupancy, 0);
      });

      test('publish, subscribe (with last) and unsubscribe chain and deliver messages', async () => {
        await alice.promises.publish({ key, channel: 'sdk/cbmsg/', message: 'stored', ttl: 60 });
        const stored = nextMessage(bob, 'sdk/cbmsg/');
        assert.equal(bob.subscribe({ key, channel: 'sdk/cbmsg/', last: 1 }), bob);
        assert.equal((await stored).asString(), 'stored');
        const live = nextMessage(bob, 'sdk/cbmsg/');
        assert.equal(alice.publish({ key, channel: 'sdk/cbmsg/', message: Buffer.from([1, 2, 3]) }), alice);
        const message = await live;
        assert.deepEqual([...message.asBinary()], [1, 2, 3]);
        assert.ok(Buffer.isBuffer(message.binary));

        bob.subscribe({ key, channel: 'sdk/cbmarker/' });
        bob.unsubscribe({ key, channel: 'sdk/cbmsg/' });
        const texts = collect(bob, 'sdk/cbmsg/');
        const marker = nextMessage(bob, 'sdk/cbmarker/');
        // Bob's SUBSCRIBE and UNSUBSCRIBE were sent before the me request below was answered to bob.
        const bobMe = nextEvent(bob, 'me');
        bob.me();
        await bobMe;
        alice.publish({ key, channel: 'sdk/cbmsg/', message: 'not for bob' });
        alice.publish({ key, channel: 'sdk/cbmarker/', message: 'marker' });
        await marker;
        texts.stop();
        assert.deepEqual(texts.texts, []);
      });

      test('refusals arrive as messages on emitter/error/', async () => {
        const error = nextMessage(alice, 'emitter/error/');
        alice.publish({ key: 'not-a-key', channel: 'sdk/cb/', message: 'x' });
        assert.equal((await error).asObject<{ status: number }>().status, 401);
        const subscribeError = nextMessage(alice, 'emitter/error/');
        alice.subscribe({ key: 'not-a-key', channel: 'sdk/cb/' });
        const body = (await subscribeError).asObject<{ status: number; req: number }>();
        assert.equal(body.status, 401);
        assert.ok(body.req > 0, 'the SUBSCRIBE packet id, as the official SDK gets it');
      });

      test('link, publishWithLink, keyban and history answer as messages', async () => {
        const linkReply = nextMessage(alice, 'emitter/link/');
        alice.link({ key, channel: 'sdk/cblink/', name: 'c1', private: false, subscribe: true });
        assert.deepEqual((await linkReply).asObject(), {
          status: 200,
          name: 'c1',
          channel: 'sdk/cblink/?me=1',
        });
        const viaLink = nextMessage(alice, 'sdk/cblink/');
        assert.equal(alice.publishWithLink({ link: 'c1', message: 'via link' }), alice);
        assert.equal((await viaLink).asString(), 'via link');

        const victim = (
          await alice.promises.keygen({ key: server.secret, channel: 'sdk/cbban/', type: 'rw' })
        ).key;
        const banReply = nextMessage(alice, 'emitter/keyban/');
        assert.equal(alice.keyban({ secret: server.secret, target: victim, banned: true }), alice);
        assert.deepEqual((await banReply).asObject(), { status: 200, banned: true });

        await alice.promises.publish({ key, channel: 'sdk/cbhistory/', message: 'kept', ttl: 60 });
        const historyReply = nextMessage(alice, 'emitter/history/');
        assert.equal(alice.history({ key, channel: 'sdk/cbhistory/', last: 5 }), alice);
        const { messages } = (await historyReply).asObject<{
          messages: Array<{ id: string; channel: string; payload: string }>;
        }>();
        assert.equal(messages.length, 1);
        assert.equal(messages[0].channel, 'sdk/cbhistory/');
        assert.equal(Buffer.from(messages[0].payload, 'base64').toString(), 'kept');
      });

      test('subscribeWithGroup joins a share group', async () => {
        const groupKey = (
          await alice.promises.keygen({ key: server.secret, channel: '$share/cbg/sdk/cbjobs/', type: 'r' })
        ).key;
        assert.equal(bob.subscribeWithGroup({ key: groupKey, channel: 'sdk/cbjobs/', group: 'cbg' }), bob);
        // The broker takes bob's SUBSCRIBE before it answers bob's next request.
        const me = nextEvent(bob, 'me');
        bob.me();
        await me;
        const job = nextMessage(bob, 'sdk/cbjobs/');
        await alice.promises.publish({ key, channel: 'sdk/cbjobs/', message: 'job' });
        assert.equal((await job).asString(), 'job');
      });
    });
  });
}

test('secure: true connects over TLS (wss:// and mqtts://), TLS options passing through to MQTT.js', async () => {
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const server = await startTestBroker({
    tls: { host: '127.0.0.1', port: 0, key: pems.private, cert: pems.cert },
  });
  try {
    for (const transport of ['ws', 'tcp'] as const) {
      const client = await connectAsync({
        host: '127.0.0.1',
        port: server.tlsPort,
        secure: true,
        transport,
        ca: pems.cert,
        reconnectPeriod: 0,
      });
      const { key } = await client.promises.keygen({ key: server.secret, channel: 'tls/', type: 'rw' });
      await client.promises.subscribe({ key, channel: 'tls/' });
      const received = nextMessage(client, 'tls/');
      await client.promises.publish({ key, channel: 'tls/', message: `over ${transport}` });
      assert.equal((await received).asString(), `over ${transport}`);
      await client.promises.disconnect();
    }
    // Without the certificate authority the connection is refused.
    await assert.rejects(
      connectAsync({ host: '127.0.0.1', port: server.tlsPort, secure: true, reconnectPeriod: 0 }),
      /self.signed|certificate/i,
    );
  } finally {
    await server.close();
  }
});
