import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, keygen } from '../helpers/clients.js';
import { runEmitter, spawnEmitter, waitForOutput } from '../helpers/process.js';
import { generateLicense, KeyAuthority, parseLicense, Permission } from '../../src/security/index.js';
import { DATABASE_FILE } from '../../src/storage/ssd-schema.js';

test('emitter --help and -help print the usage; unknown flags fail with exit 2', async () => {
  for (const flag of ['--help', '-help', '-h']) {
    const result = await runEmitter([flag]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: emitter/);
    assert.match(result.stdout, /-config/);
  }
  const bad = await runEmitter(['--bogus']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown flag --bogus/);
  const keygenHelp = await runEmitter(['keygen', '--help']);
  assert.match(keygenHelp.stdout, /Usage: emitter keygen/);
});

test('emitter version, license and keygen work offline', async () => {
  const version = await runEmitter(['version']);
  assert.match(version.stdout, /^emitter-ts \d+\.\d+\.\d+/);
  const license = await runEmitter(['license']);
  assert.equal(license.code, 0);
  const licenseText = /license: (\S+)/.exec(license.stdout)?.[1] ?? '';
  const secret = /secret:\s+(\S+)/.exec(license.stdout)?.[1] ?? '';
  const authority = new KeyAuthority(parseLicense(licenseText));
  assert.ok(authority.decrypt(secret)?.isMaster());

  const keygen = await runEmitter(['keygen', secret, 'chat/#/', 'rw', '--ttl', '60'], {
    EMITTER_LICENSE: licenseText,
  });
  assert.equal(keygen.code, 0, keygen.stderr);
  const key = /key:\s+(\S+)/.exec(keygen.stdout)?.[1] ?? '';
  const authorized = authority.authorize(key, 'chat/room/', Permission.Write);
  assert.ok(!(authorized instanceof Error), 'the key opens chat/room/ for writing');

  const badSecret = await runEmitter(['keygen', key, 'chat/', 'rw'], { EMITTER_LICENSE: licenseText });
  assert.equal(badSecret.code, 1);
  assert.match(badSecret.stderr, /401/);
  const noLicense = await runEmitter(['keygen', secret, 'chat/', 'rw'], { EMITTER_LICENSE: '' });
  assert.equal(noLicense.code, 1);
});

test('first start without a licence prints one and its secret, then serves MQTT and HTTP; SIGTERM exits 0', async () => {
  const child = spawnEmitter([], { EMITTER_LICENSE: '', EMITTER_LISTEN: '127.0.0.1:0' });
  try {
    const port = Number((await waitForOutput(child, /"address":"127\.0\.0\.1:(\d+)"/))[1]);
    // Piped stdout: JSON lines only, the generated licence and secret included (one format per stream).
    const logged = (await waitForOutput(child, /listening[^\n]*\n/)).input
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.match(String(logged[0].msg), /unable to find a license, make sure 'license' value is set/);
    const generated = logged.find((line) => typeof line.secret === 'string');
    assert.match(String(generated?.license), /^\S+:3$/);
    const secret = String(generated?.secret);

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const page = await fetch(`http://127.0.0.1:${port}/keygen`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Generate a channel key/);

    const client = await connectClient(port);
    await client.mqtt.publishAsync(
      'emitter/keygen/',
      JSON.stringify({ key: secret, channel: 'a/', type: 'rw' }),
    );
    assert.equal((await client.nextJson('emitter/keygen/')).status, 200);
    await client.end();
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});

test('configuration errors name the field and stop the broker', async () => {
  const badEnv = await runEmitter([], { EMITTER_LIMIT_MESSAGESIZE: 'lots' });
  assert.equal(badEnv.code, 1);
  assert.match(badEnv.stderr, /EMITTER_LIMIT_MESSAGESIZE: expected a number/);

  const dir = mkdtempSync(join(tmpdir(), 'emitter-cli-'));
  const file = join(dir, 'emitter.conf');
  writeFileSync(file, JSON.stringify({ storage: { provider: 'floppy' } }));
  const badFile = await runEmitter(['-config', file]);
  assert.equal(badFile.code, 1);
  assert.match(badFile.stderr, /storage\.provider/);

  const missing = await runEmitter(['--config', join(dir, 'nope.conf')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read/);
});

test('EMITTER_STORAGE_CONFIG=<dir> (as Emitter documents it) is the ssd directory', async () => {
  const { license } = generateLicense();
  const dir = join(mkdtempSync(join(tmpdir(), 'emitter-cli-')), 'store');
  const child = spawnEmitter([], {
    EMITTER_LICENSE: license.toString(),
    EMITTER_LISTEN: '127.0.0.1:0',
    EMITTER_STORAGE_PROVIDER: 'ssd',
    EMITTER_STORAGE_CONFIG: dir,
  });
  try {
    const port = Number((await waitForOutput(child, /"address":"127\.0\.0\.1:(\d+)"/))[1]);
    assert.ok(existsSync(join(dir, DATABASE_FILE)), `the database is in ${dir}`);
    const client = await connectClient(port);
    const key = await keygen(client, license.newMasterKey(), 'kept/', 'rwsl');
    await client.mqtt.publishAsync(`${key}/kept/?ttl=60`, 'on disk', { qos: 1 });
    const reader = await connectClient(port);
    await reader.mqtt.subscribeAsync(`${key}/kept/`);
    assert.equal((await reader.next()).payload.toString(), 'on disk');
    await reader.end();
    await client.end();
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});

test('EMITTER_DEBUG=true logs at debug level: client connects are logged', async () => {
  const child = spawnEmitter([], {
    EMITTER_LICENSE: generateLicense().license.toString(),
    EMITTER_LISTEN: '127.0.0.1:0',
    EMITTER_DEBUG: 'true',
  });
  try {
    const port = Number((await waitForOutput(child, /"address":"127\.0\.0\.1:(\d+)"/))[1]);
    const client = await connectClient(port, { clientId: 'debug-probe' });
    const line = await waitForOutput(child, /\{[^\n]*"clientId":"debug-probe"[^\n]*\}/, 10000);
    const entry = JSON.parse(line[0]) as { level: number; msg: string };
    assert.equal(entry.level, 20, 'pino debug');
    assert.equal(entry.msg, 'client connected');
    await client.end();
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});
