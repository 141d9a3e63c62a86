import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { createBroker, InMemorySessionStore, type Broker } from '../../src/index.js';
import { generateLicense } from '../../src/security/index.js';
import { runSessionStoreConformance, runStorageConformance } from '../../src/testing/index.js';
import { connectClient, keygen } from '../helpers/clients.js';
import { SortedArrayStorage } from './fixtures/sorted-array-storage.js';

// What a third party runs against its provider: the exported suite, as `emitter-ts/testing` gives it.
runStorageConformance('sorted-array', (config) => new SortedArrayStorage(config));
// The session store suite is exported the same way.
runSessionStoreConformance('inmemory', (config) => new InMemorySessionStore(config));

const brokers: Broker[] = [];
after(async () => {
  for (const broker of brokers) await broker.close();
});

test("createBroker uses the application's storage and session store instances", async () => {
  const { license } = generateLicense();
  const storage = new SortedArrayStorage();
  const sessionStore = new InMemorySessionStore({});
  const broker = await createBroker({
    config: { listen: '127.0.0.1:0', license: license.toString(), storage: { provider: 'ssd' } },
    logger: pino({ level: 'silent' }),
    storage,
    sessionStore,
  });
  brokers.push(broker);
  assert.equal(broker.storage, storage);
  assert.equal(broker.registry.store, sessionStore);
  const { port } = await broker.listen();
  const writer = await connectClient(port);
  const key = await keygen(writer, license.newMasterKey(), 'kept/', 'rwls');
  await writer.mqtt.publishAsync(`${key}/kept/?ttl=60`, 'in the custom storage', { qos: 1 });
  assert.equal(storage.stores, 1);
  const reader = await connectClient(port);
  await reader.mqtt.subscribeAsync(`${key}/kept/?last=1`);
  assert.equal((await reader.next()).payload.toString(), 'in the custom storage');
  // A persistent session lands in the application's session store.
  const persistent = await connectClient(port, { clientId: 'keeps-state', clean: false });
  await persistent.mqtt.subscribeAsync(`${key}/kept/`, { qos: 1 });
  await persistent.end();
  assert.deepEqual(
    (await sessionStore.load('keeps-state'))?.subscriptions.map((s) => s.topic),
    [`${key}/kept/`],
  );
  await writer.end();
  await reader.end();
});
