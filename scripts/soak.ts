// Soak: mixed good traffic and misbehaving clients against a real broker process, bounded in time.
// Prints messages sent/received/lost, peak broker RSS and errors by kind. Loopback only.
// Usage: npm run soak [-- seconds]   (default 120 s)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { generateLicense, KeyAuthority } from '../src/security/index.js';

const seconds = Number(process.argv[2] ?? process.env.SOAK_SECONDS ?? 120);
const CHANNELS = 20;
const PUBLISHERS = 10;
const PUBLISH_INTERVAL_MS = 5; // per publisher: ~2,000 msg/s in all

const { license, text } = generateLicense();
const authority = new KeyAuthority(license);
const created = authority.createKey({
  secret: license.newMasterKey(),
  channel: 'soak/#/',
  type: 'rwsl',
  ttl: 0,
});
if ('status' in created) throw new Error(created.message);
const key = created.key;

const broker = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts'], {
  env: {
    ...process.env,
    EMITTER_LICENSE: text,
    EMITTER_LISTEN: '127.0.0.1:0',
    EMITTER_LOGGING_LEVEL: 'info',
    EMITTER_STORAGE_PROVIDER: 'ssd',
    EMITTER_STORAGE_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'emitter-soak-')),
    EMITTER_LIMIT_OUTGOINGBUFFER: String(1024 * 1024),
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
broker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
const port = await new Promise<number>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('broker did not start')), 20000);
  broker.stdout.on('data', () => {
    const match = /"address":"127\.0\.0\.1:(\d+)"/.exec(output);
    if (match) {
      clearTimeout(timer);
      resolve(Number(match[1]));
    }
  });
});

const connect = (options: mqtt.IClientOptions = {}): Promise<MqttClient> =>
  mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options });

const errors = new Map<string, number>();
const count = (kind: string): void => void errors.set(kind, (errors.get(kind) ?? 0) + 1);

// Good subscribers: one per channel; each counts what it gets.
const received = new Array<number>(CHANNELS).fill(0);
const subscribers: MqttClient[] = [];
for (let i = 0; i < CHANNELS; i++) {
  const client = await connect();
  client.on('message', () => received[i]++);
  await client.subscribeAsync(`${key}/soak/${i}/`);
  subscribers.push(client);
}

// Good publishers: QoS 1 with a ttl (stored), each acknowledged publish counted as sent.
const sent = new Array<number>(CHANNELS).fill(0);
const deadline = Date.now() + seconds * 1000;
const publishers = await Promise.all(Array.from({ length: PUBLISHERS }, () => connect()));
const publishing = publishers.map(async (client, p) => {
  for (let n = 0; Date.now() < deadline; n++) {
    const channel = (p + n) % CHANNELS;
    await client.publishAsync(`${key}/soak/${channel}/?ttl=300`, `p${p}-${n}`, { qos: 1 });
    sent[channel]++;
    await new Promise((resolve) => setTimeout(resolve, PUBLISH_INTERVAL_MS));
  }
});

// Misbehaving clients, one kind after another, all through the run.
const misbehave = async (): Promise<void> => {
  const kinds: Array<() => Promise<void>> = [
    async () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write(Buffer.from('\x10\xff\xff\xff\xff\x7fgarbage', 'latin1'));
      await once(socket, 'close');
      count('garbage bytes: closed');
    },
    async () => {
      const client = await connect();
      client.on('message', (topic, payload) => {
        if (topic === 'emitter/error/') count(`bad key: ${JSON.parse(payload.toString()).status}`);
      });
      await client.publishAsync('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/soak/0/', 'x', { qos: 1 });
      await client.endAsync();
    },
    async () => {
      const client = await connect();
      client.on('message', (topic, payload) => {
        if (topic === 'emitter/error/') count(`oversize: ${JSON.parse(payload.toString()).status}`);
      });
      await client.publishAsync(`${key}/soak/0/`, Buffer.alloc(70000), { qos: 1 });
      await client.endAsync();
    },
    async () => {
      const client = await connect();
      await client.subscribeAsync(`${key}/soak/`);
      (client.stream as unknown as { pause(): void }).pause(); // stalled: never reads again
      setTimeout(() => client.end(true), 3000).unref();
      count('stalled subscriber');
    },
    async () => {
      const client = await connect();
      (client.stream as unknown as { destroy(): void }).destroy(); // gone without DISCONNECT
      count('dropped connection');
    },
    async () => {
      const socket = net.connect(port, '127.0.0.1'); // slowloris: never sends CONNECT
      socket.on('error', () => {});
      setTimeout(() => socket.destroy(), 2000).unref();
      count('silent socket');
    },
  ];
  for (let i = 0; Date.now() < deadline; i++) {
    await kinds[i % kinds.length]().catch((error: Error) => count(`client error: ${error.message}`));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

let peakRss = 0;
const sampler = setInterval(() => {
  const status = readFileSync(`/proc/${broker.pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  peakRss = Math.max(peakRss, kb * 1024);
}, 500);

await Promise.all([...publishing, misbehave()]);
// A short grace for in-flight deliveries; bounded.
await new Promise((resolve) => setTimeout(resolve, 1000));
clearInterval(sampler);

const totalSent = sent.reduce((a, b) => a + b, 0);
const totalReceived = received.reduce((a, b) => a + b, 0);
let lost = 0;
for (let i = 0; i < CHANNELS; i++) lost += Math.max(0, sent[i] - received[i]);

// Every acknowledged stored message must still be readable: ask for the newest of each channel.
const reader = await connect();
let replayed = 0;
reader.on('message', () => replayed++);
for (let i = 0; i < CHANNELS; i++) await reader.subscribeAsync(`${key}/soak/${i}/?last=1`);
await reader.endAsync();

for (const client of [...subscribers, ...publishers]) await client.endAsync();
broker.kill('SIGTERM');
const [code] = (await once(broker, 'exit')) as [number | null];

console.log(
  `\nsoak: ${seconds} s, ${PUBLISHERS} publishers (QoS 1, ttl, ssd), ${CHANNELS} subscribers, misbehaving clients throughout`,
);
console.log('| measure | value |');
console.log('|---|---|');
console.log(`| messages sent (acknowledged) | ${totalSent} |`);
console.log(`| messages received | ${totalReceived} |`);
console.log(`| messages lost | ${lost} |`);
console.log(`| stored newest replayed after the run | ${replayed} of ${CHANNELS} channels |`);
console.log(`| peak broker RSS | ${(peakRss / 1024 / 1024).toFixed(1)} MiB |`);
console.log(`| broker exit code after SIGTERM | ${code} |`);
for (const [kind, n] of [...errors].sort()) console.log(`| ${kind} | ${n} |`);
process.exit(lost === 0 && code === 0 ? 0 : 1);
