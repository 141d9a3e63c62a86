/**
 * MQTT retained messages for plain clients against real tools: mosquitto_pub -r / mosquitto_sub (set,
 * replace, clear), MQTT.js, Emitter clients on the same channels, channel-key permissions, and the
 * providers that keep them across a restart (ssd) or share them between brokers (redis).
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { createBroker } from '../../src/index.js';
import { generateLicense } from '../../src/security/index.js';
import { createRetainedStore } from '../../src/storage/index.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startBrokerProcess } from '../helpers/broker-process.js';
import { startNode } from '../helpers/cluster.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { runCommand } from '../helpers/process.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import {
  connectPlain,
  expectNothingBefore,
  publish,
  subscribe,
  uniqueTopic,
} from '../conformance/plain-mqtt/harness.js';

const silent = pino({ level: 'silent' });

// Resolves at the next subscription the broker adds (so a command-line publish comes after it).
function nextSubscription(server: TestBroker): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    server.broker.pubsub.addListener({
      subscribed: () => {
        if (!done) resolve();
        done = true;
      },
      unsubscribed: () => {},
    });
  });
}

// mosquitto_sub for `count` messages on `topic`, printing `topic payload` lines (bounded by -W).
function mosquittoSub(port: number, topic: string, count: number, extra: string[] = []) {
  const child = spawn(
    'mosquitto_sub',
    ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-C', String(count), '-W', '10', '-v', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  return {
    async lines(): Promise<string[]> {
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, `mosquitto_sub exited with ${code}: ${output}`);
      return output.split('\n').filter((line) => line.length > 0);
    },
  };
}

function mosquittoPub(port: number, args: string[]) {
  return runCommand('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), ...args]);
}

describe('plain MQTT retained messages with real clients', () => {
  let server: TestBroker;
  let emitter: TestClient;
  before(async () => {
    server = await startTestBroker({ anonymous: 'rwslp', keyPassword: true });
    emitter = await connectClient(server.port);
  });
  after(async () => {
    await emitter.end();
    await server.close();
  });

  test('mosquitto_pub -r sets, replaces and (-n) clears; mosquitto_sub gets the retained message', async () => {
    const root = uniqueTopic('mosq');
    const port = server.port;
    assert.equal((await mosquittoPub(port, ['-t', `${root}/temp`, '-m', '20.5', '-r', '-q', '1'])).code, 0);
    assert.equal((await mosquittoPub(port, ['-t', `${root}/temp`, '-m', '21.0', '-r', '-q', '1'])).code, 0);
    // --retained-only: exits after the retained message, printing only it.
    const first = mosquittoSub(port, `${root}/+`, 1, ['--retained-only']);
    assert.deepEqual(await first.lines(), [`${root}/temp 21.0`]);
    assert.equal((await mosquittoPub(port, ['-t', `${root}/temp`, '-n', '-r', '-q', '1'])).code, 0);
    // After the clear a new subscriber's first message is a live one, not the old retained message.
    const subscribed = nextSubscription(server);
    const second = mosquittoSub(port, `${root}/+`, 1, ['-V', '5']);
    await subscribed;
    assert.equal((await mosquittoPub(port, ['-t', `${root}/live`, '-m', 'live', '-q', '1'])).code, 0);
    assert.deepEqual(await second.lines(), [`${root}/live live`]);
  });

  test('an Emitter client publishing with the retain flag sets the retained message plain subscribers get', async () => {
    const root = uniqueTopic('cross');
    const key = await keygen(emitter, server.secret, `${root}/#/`, 'rws');
    await emitter.mqtt.publishAsync(`${key}/${root}/t1/`, 'from emitter', { qos: 1, retain: true });
    const plain = await connectPlain(server.port);
    try {
      await subscribe(plain, `${root}/+`, { qos: 1 });
      const message = await plain.next();
      assert.deepEqual(
        [message.topic, message.text, message.packet.retain],
        [`${root}/t1`, 'from emitter', true],
      );
    } finally {
      await plain.end();
    }
  });

  test('a plain retained publish reaches an Emitter subscriber with a key that has l (Emitter replay, as before)', async () => {
    const root = uniqueTopic('to-emitter');
    const plain = await connectPlain(server.port);
    try {
      await publish(plain, `${root}/t1`, 'from plain', { qos: 1, retain: true });
      const key = await keygen(emitter, server.secret, `${root}/#/`, 'rl');
      await emitter.mqtt.subscribeAsync(`${key}/${root}/t1/`);
      const message = await emitter.next((m) => m.topic.startsWith(root));
      assert.deepEqual([message.topic, message.payload.toString()], [`${root}/t1/`, 'from plain']);
    } finally {
      await plain.end();
    }
  });

  test('permissions: retaining needs s (without it the message is delivered, not retained); reading on subscribe needs r', async () => {
    const root = uniqueTopic('perm');
    const writeOnly = await keygen(emitter, server.secret, `${root}/#/`, 'w');
    const readOnly = await keygen(emitter, server.secret, `${root}/#/`, 'r');
    const writer = await connectPlain(server.port, { username: 'device', password: writeOnly });
    const reader = await connectPlain(server.port, { username: 'device', password: readOnly });
    const anonymous = await connectPlain(server.port);
    try {
      await subscribe(reader, `${root}/a`, { qos: 1 });
      await publish(writer, `${root}/a`, 'not retained', { qos: 1, retain: true });
      assert.equal((await reader.next()).text, 'not retained', 'delivered live all the same');
      const late = await connectPlain(server.port, { username: 'device', password: readOnly });
      try {
        await subscribe(late, `${root}/a`, { qos: 1 });
        await expectNothingBefore(late, anonymous, `${root}/a`, 'a key without s stored nothing');
      } finally {
        await late.end();
      }
      assert.equal((await reader.next()).text, 'barrier', 'the reader got the barrier too');
      await publish(anonymous, `${root}/b`, 'retained', { qos: 1, retain: true });
      // A key without r cannot subscribe (SUBACK 0x80: MQTT.js rejects), so it reads no retained message.
      await assert.rejects(subscribe(writer, `${root}/b`, { qos: 1 }), /Subscribe error/);
      await subscribe(reader, `${root}/b`, { qos: 1 });
      assert.equal((await reader.next()).text, 'retained', 'a key with r alone gets it');
    } finally {
      await writer.end();
      await reader.end();
      await anonymous.end();
    }
  });
});

describe('retained messages in the ssd and redis providers', () => {
  let redis: RedisServer;
  const dir = mkdtempSync(join(tmpdir(), 'emitter-plain-retained-'));
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('storage.provider picks the retained store (noop: memory)', async () => {
    for (const [provider, expected] of [
      ['ssd', 'ssd'],
      ['redis', 'redis'],
      ['inmemory', 'inmemory'],
      ['noop', 'inmemory'],
    ] as const) {
      const broker = await createBroker({
        config: {
          license: generateLicense().license.toString(),
          listen: '127.0.0.1:0',
          storage: { provider, config: { dir: join(dir, `pick-${provider}`), url: redis.url } },
        },
        logger: silent,
      });
      try {
        assert.equal(broker.retained.name, expected, provider);
      } finally {
        await broker.close();
      }
    }
  });

  test('ssd: retained messages survive a broker restart; a clear survives it too', async () => {
    const { license } = generateLicense();
    const place = join(dir, 'restart');
    const open = () =>
      startTestBroker({ license, anonymous: 'rwslp', retained: createRetainedStore('ssd', { dir: place }) });
    const root = uniqueTopic('restart');
    const first = await open();
    const publisher = await connectPlain(first.port);
    await publish(publisher, `${root}/kept`, 'kept', { qos: 1, retain: true });
    await publish(publisher, `${root}/cleared`, 'x', { qos: 1, retain: true });
    await publish(publisher, `${root}/cleared`, '', { qos: 1, retain: true });
    await publisher.end();
    await first.close();
    const second = await open();
    const subscriber = await connectPlain(second.port);
    try {
      await subscribe(subscriber, `${root}/#`, { qos: 1 });
      const message = await subscriber.next();
      assert.deepEqual([message.topic, message.text, message.packet.retain], [`${root}/kept`, 'kept', true]);
      await expectNothingBefore(subscriber, subscriber, `${root}/kept`, 'the cleared topic stayed cleared');
    } finally {
      await subscriber.end();
      await second.close();
    }
  });

  test('redis: brokers sharing one Redis see the same retained messages', async () => {
    const { license } = generateLicense();
    const open = () =>
      startTestBroker({
        license,
        anonymous: 'rwslp',
        retained: createRetainedStore('redis', { url: redis.url, prefix: `shared-${process.pid}:` }),
      });
    const a = await open();
    const b = await open();
    const root = uniqueTopic('shared');
    const onA = await connectPlain(a.port);
    const onB = await connectPlain(b.port);
    try {
      await publish(onA, `${root}/x`, 'set on A', { qos: 1, retain: true });
      await subscribe(onB, `${root}/+`, { qos: 1 });
      const message = await onB.next();
      assert.deepEqual([message.topic, message.text, message.packet.retain], [`${root}/x`, 'set on A', true]);
      await publish(onB, `${root}/x`, '', { qos: 1, retain: true });
      assert.deepEqual(
        await a.broker.retained.match(license.contract, `${root}/#`),
        [],
        'cleared on B, gone for A',
      );
    } finally {
      await onA.end();
      await onB.end();
      await a.close();
      await b.close();
    }
  });

  test('a broker process (EMITTER_ANONYMOUS, ssd) killed with SIGKILL comes back with the retained messages mosquitto_pub set', async () => {
    const env = {
      EMITTER_ANONYMOUS: 'rwslp',
      EMITTER_STORAGE_PROVIDER: 'ssd',
      EMITTER_STORAGE_CONFIG: JSON.stringify({ dir: join(dir, 'process') }),
    };
    const root = uniqueTopic('killed');
    const first = await startBrokerProcess(env);
    try {
      const set = await mosquittoPub(first.port, ['-t', `${root}/state`, '-m', 'on', '-r', '-q', '1']);
      assert.equal(set.code, 0, 'the QoS 1 retained publish is acknowledged, so it is stored');
    } finally {
      await first.kill();
    }
    const second = await startBrokerProcess(env, first.license);
    try {
      const sub = mosquittoSub(second.port, `${root}/#`, 1, ['--retained-only']);
      assert.deepEqual(await sub.lines(), [`${root}/state on`]);
    } finally {
      await second.stop();
    }
  });

  test('cluster: nodes on one Redis (storage.provider redis) share the retained set: set on one, read and cleared on the other', async () => {
    const { license } = generateLicense();
    const env = { EMITTER_ANONYMOUS: 'rwslp', EMITTER_STORAGE_PROVIDER: 'redis' };
    const nodes = await Promise.all(
      ['ra', 'rb'].map((name) => startNode({ name, license: license.toString(), redis: redis.url, env })),
    );
    const root = uniqueTopic('cluster');
    try {
      const [a, b] = nodes;
      assert.equal(
        (await mosquittoPub(a.port, ['-t', `${root}/t1`, '-m', 'from a', '-r', '-q', '1'])).code,
        0,
      );
      const onB = mosquittoSub(b.port, `${root}/+`, 1, ['--retained-only']);
      assert.deepEqual(await onB.lines(), [`${root}/t1 from a`]);
      assert.equal((await mosquittoPub(b.port, ['-t', `${root}/t1`, '-n', '-r', '-q', '1'])).code, 0);
      const subscriber = await connectPlain(a.port);
      const publisher = await connectPlain(a.port);
      try {
        await subscribe(subscriber, `${root}/+`, { qos: 1 });
        await expectNothingBefore(subscriber, publisher, `${root}/t2`, 'cleared on b, gone on a');
      } finally {
        await subscriber.end();
        await publisher.end();
      }
    } finally {
      await Promise.all(nodes.map((node) => node.kill()));
    }
  });
});
