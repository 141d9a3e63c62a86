// Heap per idle subscribed connection, measured inside the broker process (forced GC before and after), for
// one build or several side by side: `npm run build && node --expose-gc --import tsx bench/idle-heap.ts
// [dist-dir ...]` (default: this checkout's dist). Each build runs in its own process.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import net from 'node:net';
import mqttPacket from 'mqtt-packet';

const COUNT = 2000;
const here = fileURLToPath(import.meta.url);
const root = join(fileURLToPath(new URL('../', import.meta.url)));

type Gc = () => void;

async function measure(dist: string): Promise<number> {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const { Broker } = (await import(pathToFileURL(join(dist, 'broker/broker.js')).href)) as {
    Broker: new (options: object) => { listen(): Promise<{ port: number }>; close(): Promise<void> };
  };
  const { generateLicense, KeyAuthority } = (await import(
    pathToFileURL(join(dist, 'security/index.js')).href
  )) as {
    generateLicense(): { license: { newMasterKey(): string } };
    KeyAuthority: new (license: object) => {
      createKey(options: object): { key: string } | { status: number; message: string };
    };
  };
  const { pino } = await import('pino');
  const { license } = generateLicense();
  const created = new KeyAuthority(license).createKey({
    secret: license.newMasterKey(),
    channel: '#/',
    type: 'rw',
    ttl: 0,
  });
  if (!('key' in created)) throw new Error(created.message);
  const broker = new Broker({
    license,
    listen: { host: '127.0.0.1', port: 0 },
    logger: pino({ level: 'silent' }),
  });
  const { port } = await broker.listen();
  const child = fork(here, ['--clients', String(port), created.key], { execArgv: ['--import', 'tsx'] });
  // Warm-up connection first (one-off allocations), then settle and measure.
  await once(child, 'message');
  for (let i = 0; i < 3; i++) gc();
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc();
  const before = process.memoryUsage().heapUsed;
  // IDLE_HEAP_SNAPSHOT=<path>: heap snapshots before (<path>.before) and after the idle connections, to diff.
  if (process.env.IDLE_HEAP_SNAPSHOT)
    (await import('node:v8')).writeHeapSnapshot(`${process.env.IDLE_HEAP_SNAPSHOT}.before`);
  child.send('go');
  await once(child, 'message');
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (let i = 0; i < 3; i++) gc();
  const after = process.memoryUsage().heapUsed;
  if (process.env.IDLE_HEAP_SNAPSHOT)
    (await import('node:v8')).writeHeapSnapshot(process.env.IDLE_HEAP_SNAPSHOT);
  child.kill();
  await broker.close();
  return (after - before) / COUNT;
}

async function clients(port: number, key: string): Promise<void> {
  const sockets: net.Socket[] = [];
  const open = async (id: string, channel: string): Promise<void> => {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    let seen = Buffer.alloc(0);
    const acked = new Promise<void>((resolve) =>
      socket.on('data', (chunk: Buffer) => {
        seen = Buffer.concat([seen, chunk]);
        // CONNACK (4 bytes) then SUBACK (5 bytes).
        if (seen.length >= 9) resolve();
      }),
    );
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        clientId: id,
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 0,
      }),
    );
    socket.write(
      mqttPacket.generate({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [{ topic: `${key}/${channel}/`, qos: 0 }],
      }),
    );
    await acked;
  };
  await open('warm', 'idle/warm');
  process.send?.('warm');
  await once(process, 'message');
  for (let i = 0; i < COUNT; i++) await open(`idle${i}`, `idle/${i}`);
  process.send?.('done');
  await new Promise(() => {});
}

if (process.argv[2] === '--clients') {
  await clients(Number(process.argv[3]), process.argv[4]);
} else {
  const dists = process.argv.slice(2);
  for (const dist of dists.length > 0 ? dists : [join(root, 'dist')]) {
    const perConnection = await measure(dist);
    console.log(`${dist}: ${(perConnection / 1024).toFixed(2)} KiB heap per idle subscribed connection`);
  }
}
