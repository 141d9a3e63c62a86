import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { hashLevel, ssidOf } from '../../src/channel/index.js';
import { createBroker } from '../../src/index.js';
import { generateLicense } from '../../src/security/index.js';
import { SsdStorage } from '../../src/storage/index.js';
import { connectClient, keygen } from '../helpers/clients.js';
import { within } from '../helpers/wait.js';

const PUBLISHERS = 4;
const PER_PUBLISHER = 3000;
const CLOSE_AFTER_ACKS = 300;

test('close() under load: every QoS 1 message the broker acknowledged is in the storage afterwards', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emitter-embed-close-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const { license } = generateLicense();
  const broker = await createBroker({
    config: {
      listen: '127.0.0.1:0',
      license: license.toString(),
      storage: { provider: 'ssd', config: { dir } },
    },
    logger: pino({ level: 'silent' }),
  });
  const { port } = await broker.listen();
  const setup = await connectClient(port);
  const key = await keygen(setup, license.newMasterKey(), 'load/', 'rws');
  await setup.end();

  const acked = new Set<string>();
  let sent = 0;
  let reachedLoad!: () => void;
  const loaded = new Promise<void>((resolve) => (reachedLoad = resolve));
  const publishers = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, p) => connectClient(port, { clientId: `load-${p}` })),
  );
  for (let p = 0; p < PUBLISHERS; p++) {
    const client = publishers[p].mqtt;
    for (let i = 0; i < PER_PUBLISHER; i++) {
      const payload = `${p}-${i}`;
      sent++;
      client.publish(`${key}/load/?ttl=3600`, payload, { qos: 1 }, (error) => {
        if (error) return;
        acked.add(payload);
        if (acked.size === CLOSE_AFTER_ACKS) reachedLoad();
      });
    }
  }
  await within(loaded, 20000, `${CLOSE_AFTER_ACKS} acknowledgements`);
  await within(broker.close(), 20000, 'broker.close() under load');
  const ackedAtClose = acked.size;
  for (const publisher of publishers) publisher.mqtt.end(true);

  const storage = new SsdStorage({ dir });
  after(() => storage.close());
  const stored = new Set(
    (
      await storage.query(ssidOf(license.contract, [hashLevel('load')]), {
        limit: 100_000,
        maxBytes: 1 << 30,
      })
    ).map((message) => message.payload.toString()),
  );
  const lost = [...acked].filter((payload) => !stored.has(payload));
  assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged messages missing`);
  assert.ok(ackedAtClose >= CLOSE_AFTER_ACKS);
  // Load at the close: publishes were still in flight (not everything sent had been acknowledged).
  assert.ok(ackedAtClose < sent, `${ackedAtClose} acknowledged of ${sent} sent`);
});
