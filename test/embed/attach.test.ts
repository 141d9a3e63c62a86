import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { after, test } from 'node:test';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { ConfigError, createBroker, EmitterError, type Broker } from '../../src/index.js';
import { connectClient } from '../helpers/clients.js';
import { within } from '../helpers/wait.js';

const silent = pino({ level: 'silent' });
const brokers: Broker[] = [];
after(async () => {
  for (const broker of brokers) await broker.close();
});

async function embedded(): Promise<{ broker: Broker; secret: string }> {
  const { generateLicense } = await import('../../src/security/index.js');
  const { license } = generateLicense();
  const broker = await createBroker({ config: { license: license.toString() }, logger: silent });
  brokers.push(broker);
  return { broker, secret: license.newMasterKey() };
}

function listening(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

// The application's server: keep-alive and leftover sockets are closed with it.
function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if (server instanceof http.Server) server.closeAllConnections();
  });
}

test('createBroker validates the configuration with the config file schema and names the bad setting', async () => {
  await assert.rejects(
    createBroker({ config: { limit: { messageSize: -1 } }, logger: silent }),
    (error: unknown) => error instanceof ConfigError && /limit\.messageSize/.test(error.message),
  );
  await assert.rejects(
    // @ts-expect-error: an unknown setting is refused at run time too, with the closest name.
    createBroker({ config: { limits: {} }, logger: silent }),
    (error: unknown) => error instanceof ConfigError && /limit/.test(error.message),
  );
});

test('createBroker fills in the documented defaults and listen() serves MQTT and HTTP on the configured port', async () => {
  const { license } = (await import('../../src/security/index.js')).generateLicense();
  const broker = await createBroker({
    config: { listen: '127.0.0.1:0', license: license.toString() },
    logger: silent,
  });
  brokers.push(broker);
  assert.equal(broker.limits.messageSize, 65536);
  assert.equal(broker.sessionLimits.maxInflight, 20);
  const { port } = await broker.listen();
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(health.status, 200);
  const client = await connectClient(port);
  await client.end();
});

test("attach(http.Server): MQTT over WebSocket on the chosen path, the application's routes and upgrades untouched", async () => {
  const { broker, secret } = await embedded();
  const app = http.createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(`app:${request.url}`);
  });
  // The application's own WebSocket endpoint on another path keeps working.
  app.on('upgrade', (request, socket) => {
    if (request.url !== '/app-socket') return;
    socket.end('HTTP/1.1 418 I am a teapot\r\n\r\n');
  });
  broker.attach(app, { path: '/broker' });
  const port = await listening(app);
  after(() => closeServer(app));

  assert.equal(await (await fetch(`http://127.0.0.1:${port}/hello`)).text(), 'app:/hello');
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/broker`)).text(), 'app:/broker');
  const teapot = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/app-socket`);
    ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
  assert.equal(teapot, 418);

  const client = mqtt.connect(`ws://127.0.0.1:${port}/broker`, { reconnectPeriod: 0 });
  await within(new Promise((resolve) => client.once('connect', resolve)), 5000, 'ws connect');
  const key = await keygenOn(client, secret, 'room/');
  const received = new Promise<string>((resolve) =>
    client.on('message', (topic, payload) => {
      if (topic === 'room/') resolve(payload.toString());
    }),
  );
  await client.subscribeAsync(`${key}/room/`);
  await client.publishAsync(`${key}/room/`, 'hi');
  assert.equal(await within(received, 5000, 'message over the attached WebSocket'), 'hi');
  await client.endAsync();
});

test('attach(net.Server), attach(tls.Server) and handle(stream) serve MQTT', async () => {
  const { broker } = await embedded();
  const plain = net.createServer();
  broker.attach(plain);
  const plainPort = await listening(plain);
  after(() => closeServer(plain));
  const viaNet = await connectClient(plainPort);
  await viaNet.end();

  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  const secure = tls.createServer({ key: pems.private, cert: pems.cert });
  broker.attach(secure);
  const securePort = await listening(secure);
  after(() => closeServer(secure));
  const viaTls = await connectClient(securePort, { protocol: 'mqtts', rejectUnauthorized: false });
  await viaTls.end();

  // A server the application routes itself: it hands the broker a socket (Aedes' `handle`).
  const own = net.createServer((socket) => broker.handle(socket));
  const ownPort = await listening(own);
  after(() => closeServer(own));
  const viaHandle = await connectClient(ownPort);
  assert.equal(broker.sessions.size >= 1, true);
  await viaHandle.end();
});

test('close() takes the broker off the servers it was attached to and ends its clients', async () => {
  const { broker } = await embedded();
  const app = http.createServer((_request, response) => response.end('still here'));
  broker.attach(app, { path: '/mqtt' });
  const port = await listening(app);
  after(() => closeServer(app));
  const client = mqtt.connect(`ws://127.0.0.1:${port}/mqtt`, { reconnectPeriod: 0 });
  await within(new Promise((resolve) => client.once('connect', resolve)), 5000, 'ws connect');
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  await broker.close();
  await within(closed, 5000, 'client closed by broker.close()');
  assert.equal(app.listenerCount('upgrade'), 0);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'still here');
  client.end(true);
});

async function keygenOn(client: mqtt.MqttClient, secret: string, channel: string): Promise<string> {
  const reply = new Promise<Record<string, unknown>>((resolve) => {
    const onMessage = (topic: string, payload: Buffer): void => {
      if (!topic.startsWith('emitter/keygen/')) return;
      client.off('message', onMessage);
      resolve(JSON.parse(payload.toString()) as Record<string, unknown>);
    };
    client.on('message', onMessage);
  });
  await client.publishAsync('emitter/keygen/', JSON.stringify({ key: secret, channel, type: 'rw', ttl: 0 }));
  const body = await within(reply, 5000, 'keygen reply');
  assert.equal(body.status, 200);
  return body.key as string;
}

test('broker.publish: the application publishes as a client would (key checked; keyless too)', async () => {
  const { broker, secret } = await embedded();
  const { port } = await broker.listen();
  const reader = await connectClient(port);
  const key = await keygenOn(reader.mqtt, secret, 'server/');
  await reader.mqtt.subscribeAsync(`${key}/server/`);
  await broker.publish(`${key}/server/`, 'from the app');
  assert.equal((await reader.next((m) => m.topic === 'server/')).payload.toString(), 'from the app');
  await assert.rejects(broker.publish('not-a-key/server/', 'x'), (error: unknown) => {
    return error instanceof EmitterError && error.status === 401;
  });
  await reader.end();

  const keyless = await createBroker({ config: {}, logger: silent, channelKeys: false });
  brokers.push(keyless);
  const own = net.createServer((socket) => keyless.handle(socket));
  const ownPort = await listening(own);
  after(() => closeServer(own));
  const plain = await connectClient(ownPort);
  await plain.mqtt.subscribeAsync('news/+');
  await keyless.publish('news/1', 'keyless from the app', { qos: 1 });
  assert.equal((await plain.next()).payload.toString(), 'keyless from the app');
  await plain.end();
});
