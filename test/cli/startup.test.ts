import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from 'selfsigned';
import { generateLicense } from '../../src/security/index.js';
import { runEmitter, spawnEmitter, waitForOutput } from '../helpers/process.js';

const { license } = generateLicense();
const LICENSE = license.toString();
const dir = mkdtempSync(join(tmpdir(), 'emitter-startup-'));
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** A self-signed certificate and its key, as files. */
async function certificate(name: string): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, pems.cert);
  writeFileSync(key, pems.private);
  return { cert, key };
}

/**
 * Runs `emitter` expecting it to refuse to start: exit code 1 and exactly one line on stderr, without a
 * stack trace; resolves with that line.
 */
async function refusedStart(args: string[], env: Record<string, string>): Promise<string> {
  const result = await runEmitter(args, { EMITTER_LICENSE: LICENSE, EMITTER_LISTEN: '127.0.0.1:0', ...env });
  assert.equal(result.code, 1, `exit code 1; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(result.stdout, /service started/);
  return lines[0];
}

describe('start-up errors: one line naming the setting, exit code 1', () => {
  let busy: net.Server;
  let busyPort: number;
  before(async () => {
    busy = net.createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    busyPort = (busy.address() as net.AddressInfo).port;
  });
  after(() => busy.close());

  test('a port in use', async () => {
    assert.equal(
      await refusedStart([], { EMITTER_LISTEN: `127.0.0.1:${busyPort}` }),
      `emitter: listen: cannot listen on 127.0.0.1:${busyPort}: the port is already in use by another program (EADDRINUSE)`,
    );
    const { cert, key } = await certificate('busy');
    assert.match(
      await refusedStart([], {
        EMITTER_TLS_LISTEN: `127.0.0.1:${busyPort}`,
        EMITTER_TLS_CERTIFICATE: cert,
        EMITTER_TLS_PRIVATE: key,
      }),
      /^emitter: tls\.listen: cannot listen on 127\.0\.0\.1:\d+: .*\(EADDRINUSE\)$/,
    );
  });

  test('an address that is not one of this machine', async () => {
    // A documentation address (RFC 5737): binding to it fails locally; nothing is sent anywhere.
    assert.match(
      await refusedStart([], { EMITTER_LISTEN: '192.0.2.1:0' }),
      /^emitter: listen: cannot listen on 192\.0\.2\.1:0: .*\(EADDRNOTAVAIL\)$/,
    );
    assert.match(await refusedStart([], { EMITTER_LISTEN: 'not an address' }), /listen address/);
  });

  test('a certificate without its key, a key without its certificate, a key of another certificate', async () => {
    const first = await certificate('first');
    const second = await certificate('second');
    assert.equal(
      await refusedStart([], { EMITTER_TLS_CERTIFICATE: first.cert }),
      'emitter: tls.private: tls.certificate is set but not its private key (tls.private)',
    );
    assert.equal(
      await refusedStart([], { EMITTER_TLS_PRIVATE: first.key }),
      'emitter: tls.certificate: tls.private is set but not its certificate (tls.certificate)',
    );
    assert.equal(
      await refusedStart([], { EMITTER_TLS_CERTIFICATE: first.cert, EMITTER_TLS_PRIVATE: second.key }),
      'emitter: tls.private: the private key does not belong to tls.certificate',
    );
    assert.equal(
      await refusedStart([], {
        EMITTER_TLS_CERTIFICATE: join(dir, 'nope.crt'),
        EMITTER_TLS_PRIVATE: first.key,
      }),
      `emitter: tls.certificate: cannot read ${join(dir, 'nope.crt')}: no such file`,
    );
    assert.match(
      await refusedStart([], { EMITTER_TLS_CERTIFICATE: first.key, EMITTER_TLS_PRIVATE: first.key }),
      /^emitter: tls\.certificate: not a usable PEM certificate/,
    );
  });

  test('an unreadable or broken config file', async () => {
    assert.equal(
      await refusedStart(['-config', dir], {}),
      `emitter: config: cannot read ${dir}: it is a directory`,
    );
    const absent = join(dir, 'absent.conf');
    assert.equal(
      await refusedStart(['-config', absent], {}),
      `emitter: config: cannot read ${absent}: no such file`,
    );
    const broken = join(dir, 'broken.conf');
    writeFileSync(broken, '{\n  "listen": ":8080"\n  "license": ""\n}\n');
    assert.match(await refusedStart(['-config', broken], {}), /is not valid JSON: .* at line 3, column 3$/);
  });

  test('unknown settings and values outside their allowed set', async () => {
    const typo = join(dir, 'typo.conf');
    writeFileSync(typo, JSON.stringify({ lisence: LICENSE }));
    assert.equal(
      await refusedStart(['-config', typo], {}),
      `emitter: config: unknown setting \`lisence\` in ${typo}, did you mean \`license\`?`,
    );
    assert.equal(
      await refusedStart([], { EMITTER_LICENCE: LICENSE }),
      'emitter: config: unknown setting `EMITTER_LICENCE`, did you mean `EMITTER_LICENSE`?',
    );
    assert.equal(
      await refusedStart([], { EMITTER_MONITOR_PROVIDER: 'http' }),
      'emitter: config: monitor.provider: expected one of self, statsd, prometheus, noop, got "http"',
    );
  });
});

describe('the start banner', () => {
  test('says the version, the config file, every listener, the storage, the cluster state and the node name', async () => {
    const { cert, key } = await certificate('banner');
    const data = join(dir, 'data');
    const file = join(dir, 'banner.conf');
    writeFileSync(
      file,
      JSON.stringify({
        license: LICENSE,
        listen: '127.0.0.1:0',
        tls: { listen: '127.0.0.1:0', certificate: cert, private: key },
        storage: { provider: 'ssd', config: { dir: data } },
        cluster: { name: 'banner-node' },
      }),
    );
    const child = spawnEmitter(['-config', file], { EMITTER_MONITOR_PROVIDER: 'noop' });
    try {
      const line = (await waitForOutput(child, /^\{.*"msg":"service started"\}$/m))[0];
      const banner = JSON.parse(line) as Record<string, unknown>;
      assert.equal(banner.version, VERSION);
      assert.equal(banner.config, file);
      assert.deepEqual(banner.variables, ['EMITTER_MONITOR_PROVIDER']);
      const listeners = banner.listeners as string[];
      assert.equal(listeners.length, 2);
      assert.match(listeners[0], /^127\.0\.0\.1:\d+ \(mqtt, ws, http\)$/);
      assert.match(listeners[1], /^127\.0\.0\.1:\d+ \(mqtts, wss, https\)$/);
      assert.notEqual(listeners[0].split(' ')[0], '127.0.0.1:0', 'the bound port, not the configured 0');
      assert.equal(banner.storage, `ssd (${data})`);
      assert.equal(banner.cluster, 'standalone');
      assert.equal(banner.node, 'banner-node');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(((await once(child, 'exit')) as [number | null])[0], 0);

    // Without a file: "defaults".
    const plain = spawnEmitter([], { EMITTER_LICENSE: LICENSE, EMITTER_LISTEN: '127.0.0.1:0' });
    try {
      const banner = JSON.parse(
        (await waitForOutput(plain, /^\{.*"msg":"service started"\}$/m))[0],
      ) as Record<string, unknown>;
      assert.equal(banner.config, 'defaults');
      assert.equal(banner.storage, 'inmemory');
      assert.equal((banner.listeners as string[]).length, 1);
    } finally {
      plain.kill('SIGTERM');
    }
    await once(plain, 'exit');
  });
});

describe('emitter keygen', () => {
  test('refuses unknown permission letters and prints the permissions granted', async () => {
    const secret = license.newMasterKey();
    const bad = await runEmitter(['keygen', secret, 'chat/', 'rwq'], { EMITTER_LICENSE: LICENSE });
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /unknown permission letter "q" in "rwq"; the letters are r \(read\), w \(write\)/,
    );
    assert.equal(bad.stdout, '');
    const empty = await runEmitter(['keygen', secret, 'chat/', ''], { EMITTER_LICENSE: LICENSE });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /at least one permission letter/);

    const good = await runEmitter(['keygen', secret, 'chat/', 'rwslpe', '--ttl', '3600'], {
      EMITTER_LICENSE: LICENSE,
    });
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /^permissions: rwslpe \(read, write, store, load, presence, extend\)$/m);
    assert.match(good.stdout, /^expires: \d{4}-\d\d-\d\dT/m);
    const read = await runEmitter(['keygen', secret, 'chat/', 'r'], { EMITTER_LICENSE: LICENSE });
    assert.match(read.stdout, /^permissions: r \(read\)$/m);
    assert.doesNotMatch(read.stdout, /expires/);
  });
});
