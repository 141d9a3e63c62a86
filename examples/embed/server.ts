// An application that embeds emitter-ts: its own HTTP routes and page, and the broker on the same port
// (MQTT over WebSocket at /mqtt), with its own users instead of channel keys.
//
//   npx tsx examples/embed/server.ts          (PORT=3000 by default; open http://127.0.0.1:3000/)
//
// In your own project, import from 'emitter-ts' instead of the source path below.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { createBroker, EmitterError } from '../../src/index.js';

// The application's user table (use a real one: hashed passwords, a database).
const USERS = new Map([
  ['alice', { password: 'wonderland', admin: true }],
  ['bob', { password: 'builder', admin: false }],
]);

const broker = await createBroker({
  // emitter.conf's settings; everything not said keeps its documented default.
  config: { limit: { messageSize: 16 * 1024 }, logging: { level: 'warn' } },
  // The application's users decide who may do what: no channel keys (topics are plain `chat/lobby`).
  channelKeys: false,
  hooks: {
    authenticate: (_client, username, password) => {
      const user = USERS.get(username ?? '');
      if (user === undefined) return 'notAuthorized';
      return password?.toString() === user.password ? true : 'badCredentials';
    },
    // Everyone chats; only admins announce.
    authorizePublish: (client, message) =>
      !message.channel.startsWith('announcements/') ||
      USERS.get(client.username)?.admin === true ||
      new EmitterError(403, 'only admins may announce'),
  },
});

// What the application watches: counted from the broker's events.
const stats = { online: 0, messages: 0, refused: 0 };
broker.on('clientConnected', () => stats.online++);
broker.on('clientDisconnected', () => stats.online--);
broker.on('published', () => stats.messages++);
broker.on('dropped', (event) => {
  if (event.reason === 'refused') stats.refused++;
});

const page = readFileSync(new URL('./index.html', import.meta.url));
const mqttBundle = readFileSync(createRequire(import.meta.url).resolve('mqtt/dist/mqtt.esm'));

const server = http.createServer((request, response) => {
  if (request.url === '/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(page);
  } else if (request.url === '/mqtt.esm.js') {
    response.writeHead(200, { 'content-type': 'text/javascript' });
    response.end(mqttBundle);
  } else if (request.url === '/api/stats') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(stats));
  } else {
    response.writeHead(404);
    response.end('not found\n');
  }
});
// MQTT over WebSocket on /mqtt; the routes above stay the application's.
broker.attach(server, { path: '/mqtt' });

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address() as { address: string; port: number };
  console.log(`listening on http://${address.address}:${address.port}/ (MQTT over WebSocket at /mqtt)`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // The broker first: its clients are closed cleanly, stored messages committed.
    void broker.close().then(() => server.close(() => process.exit(0)));
  });
}
