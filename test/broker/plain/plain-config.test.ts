import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, createBroker, EmitterError } from '../../../src/index.js';
import { generateLicense } from '../../../src/security/index.js';
import { connectClient } from '../../helpers/clients.js';
import { captureLogs } from '../../helpers/logs.js';

// `anonymous` and `keyPassword` through createBroker's config (as emitter.conf), over TLS.

test('createBroker: keyPassword and anonymous from the config, a plain client over TLS, the warning at start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emitter-plain-tls-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]),
    { stdio: 'ignore' },
  );
  const { license } = generateLicense();
  const logs = captureLogs();
  const broker = await createBroker({
    config: {
      license: license.toString(),
      listen: '127.0.0.1:0',
      keyPassword: true,
      anonymous: 'r',
      tls: { listen: '127.0.0.1:0', certificate: join(dir, 'cert.pem'), private: join(dir, 'key.pem') },
    },
    logger: logs.logger,
  });
  const { tlsPort } = await broker.listen();
  assert.ok(tlsPort);
  const warning = logs.entries().find((entry) => String(entry.msg).startsWith('ANONYMOUS ACCESS IS ON'));
  assert.equal(warning?.level, 40);
  assert.equal(warning?.anonymous, 'r');
  const created = broker.authority.createKey({
    secret: license.newMasterKey(),
    channel: 'secure/#/',
    type: 'rw',
    ttl: 0,
  });
  if (created instanceof EmitterError) throw created;
  const tls = {
    protocol: 'mqtts' as const,
    ca: readFileSync(join(dir, 'cert.pem')),
    servername: 'localhost',
  };
  const device = await connectClient(tlsPort, {
    ...tls,
    username: 'd',
    password: created.key,
    protocolVersion: 5,
  });
  // Anonymous with `r` only: it subscribes, its publishes are refused.
  const anonymous = await connectClient(tlsPort, { ...tls, protocolVersion: 5 });
  try {
    await anonymous.mqtt.subscribeAsync('secure/#');
    const refused = await anonymous.mqtt.publishAsync('secure/x', 'no', { qos: 1 }).then(
      () => 0,
      (error: { code?: number }) => error.code,
    );
    assert.equal(refused, 0x87);
    await device.mqtt.publishAsync('secure/room 1', 'yes', { qos: 1 });
    const message = await anonymous.next();
    assert.equal(message.topic, 'secure/room 1');
    assert.equal(message.payload.toString(), 'yes');
  } finally {
    await device.end();
    await anonymous.end();
    await broker.close();
  }
});

test('a bad anonymous setting stops the start, naming it', async () => {
  for (const anonymous of ['rwx', 'rr', 'RW']) {
    await assert.rejects(
      createBroker({ config: { anonymous, listen: '127.0.0.1:0' } }),
      (error: unknown) => error instanceof ConfigError && /anonymous/.test(error.message),
      anonymous,
    );
  }
});
