import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, envName, loadConfig, parseListenAddress } from '../../src/config/index.js';

const missing = join(tmpdir(), 'emitter-config-does-not-exist.conf');

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'emitter-config-'));
  const path = join(dir, 'emitter.conf');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

test('defaults match Emitter when no file and no environment are given', () => {
  const config = loadConfig({ path: missing });
  assert.equal(config.listen, ':8080');
  assert.equal(config.license, '');
  assert.equal(config.tls.listen, ':443');
  assert.equal(config.storage.provider, 'inmemory');
  assert.equal(config.limit.messageSize, 65536);
  assert.equal(config.logging.level, 'info');
});

test('the file is read and EMITTER_* variables override it', () => {
  const path = configFile({
    listen: ':9000',
    license: 'from-file',
    tls: { host: 'example.com' },
    limit: { readRate: 5 },
  });
  const config = loadConfig({
    path,
    env: {
      EMITTER_LICENSE: 'from-env',
      EMITTER_TLS_LISTEN: ':8443',
      EMITTER_LIMIT_MESSAGESIZE: '1024',
      EMITTER_DEBUG: 'true',
      EMITTER_STORAGE_PROVIDER: 'ssd',
      EMITTER_STORAGE_CONFIG: '{"dir":"/data","retain":60}',
      EMITTER_STORAGE_CONFIG_DIR: '/var/emitter',
      EMITTER_CLUSTER_REDIS: 'redis://127.0.0.1:7000, redis://127.0.0.1:7001',
      EMITTER_VAULT_ADDRESS: '127.0.0.1',
    },
  });
  assert.equal(config.listen, ':9000');
  assert.equal(config.license, 'from-env');
  assert.equal(config.tls.host, 'example.com');
  assert.equal(config.tls.listen, ':8443');
  assert.equal(config.limit.messageSize, 1024);
  assert.equal(config.limit.readRate, 5);
  assert.equal(config.debug, true);
  assert.equal(config.storage.provider, 'ssd');
  assert.deepEqual(config.storage.config, { dir: '/var/emitter', retain: 60 });
  assert.deepEqual(config.cluster.redis, ['redis://127.0.0.1:7000', 'redis://127.0.0.1:7001']);
  assert.deepEqual(config.vault, { address: '127.0.0.1' });
});

test('env names follow the JSON path', () => {
  assert.equal(envName('limit.messageSize'), 'EMITTER_LIMIT_MESSAGESIZE');
  assert.equal(envName('tls.listen'), 'EMITTER_TLS_LISTEN');
});

test('errors name the bad field, variable or file', () => {
  assert.throws(() => loadConfig({ path: configFile({ limit: { messageSize: -1 } }) }), /limit\.messageSize/);
  assert.throws(
    () => loadConfig({ path: configFile({ storage: { provider: 'floppy' } }) }),
    /storage\.provider/,
  );
  assert.throws(
    () => loadConfig({ path: missing, env: { EMITTER_LIMIT_READRATE: 'x' } }),
    /EMITTER_LIMIT_READRATE/,
  );
  assert.throws(() => loadConfig({ path: missing, env: { EMITTER_DEBUG: 'maybe' } }), /EMITTER_DEBUG/);
  assert.throws(() => loadConfig({ path: missing, env: { EMITTER_STORAGE_CONFIG: '[1]' } }), /JSON object/);
  assert.throws(() => loadConfig({ path: configFile('{ not json') }), /not valid JSON/);
  assert.throws(() => loadConfig({ path: missing, explicitPath: true }), ConfigError);
});

test('listen addresses', () => {
  assert.deepEqual(parseListenAddress(':8080', 1), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseListenAddress('127.0.0.1:9000', 1), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(parseListenAddress('[::1]:9000', 1), { host: '::1', port: 9000 });
  assert.deepEqual(parseListenAddress('localhost', 1883), { host: 'localhost', port: 1883 });
  assert.deepEqual(parseListenAddress('private:4000', 1), { host: '0.0.0.0', port: 4000 });
  assert.throws(() => parseListenAddress('nonsense here:abc', 1), ConfigError);
  assert.throws(() => parseListenAddress(':99999', 1), ConfigError);
});

test('EMITTER_STORAGE_CONFIG takes a bare path as storage.config.dir (Emitter README), or a JSON object', () => {
  const path = configFile({ storage: { provider: 'ssd', config: { retain: 60 } } });
  const bare = loadConfig({ path, env: { EMITTER_STORAGE_CONFIG: '/var/lib/emitter' } });
  assert.deepEqual(
    bare.storage.config,
    { dir: '/var/lib/emitter', retain: 60 },
    'the rest of the file stays',
  );
  const json = loadConfig({ path, env: { EMITTER_STORAGE_CONFIG: '{"dir":"/data"}' } });
  assert.deepEqual(json.storage.config, { dir: '/data' }, 'a JSON object replaces the section');
  const both = loadConfig({
    path: missing,
    env: { EMITTER_STORAGE_CONFIG: './data', EMITTER_STORAGE_CONFIG_RETAIN: '5' },
  });
  assert.deepEqual(both.storage.config, { dir: './data', retain: 5 });
  assert.throws(
    () => loadConfig({ path: missing, env: { EMITTER_STORAGE_CONFIG: '{"dir":' } }),
    /EMITTER_STORAGE_CONFIG: expected a JSON object/,
  );
  assert.throws(
    () => loadConfig({ path: missing, env: { EMITTER_MONITOR_CONFIG: '/var/lib/emitter' } }),
    /EMITTER_MONITOR_CONFIG: expected a JSON object/,
    'only storage.config has a one-key form',
  );
});

test('debug: true sets the log level to debug, unless logging.level is set', () => {
  assert.equal(loadConfig({ path: configFile({ debug: true }) }).logging.level, 'debug');
  assert.equal(loadConfig({ path: missing, env: { EMITTER_DEBUG: 'true' } }).logging.level, 'debug');
  const explicit = configFile({ debug: true, logging: { level: 'warn' } });
  assert.equal(loadConfig({ path: explicit }).logging.level, 'warn');
  assert.equal(
    loadConfig({ path: missing, env: { EMITTER_DEBUG: '1', EMITTER_LOGGING_LEVEL: 'error' } }).logging.level,
    'error',
  );
  assert.equal(loadConfig({ path: configFile({ debug: false }) }).logging.level, 'info');
});

test('the session section: defaults, file, EMITTER_SESSION_* overrides and validation', () => {
  const defaults = loadConfig({ path: missing }).session;
  assert.deepEqual(defaults, {
    provider: '',
    expiry: 86400,
    maxInflight: 20,
    maxQueuedMessages: 1000,
    maxQueuedBytes: 16 * 1024 * 1024,
  });
  const config = loadConfig({
    path: configFile({ session: { expiry: 60, maxInflight: 5 } }),
    env: {
      EMITTER_SESSION_PROVIDER: 'inmemory',
      EMITTER_SESSION_MAXINFLIGHT: '7',
      EMITTER_SESSION_MAXQUEUEDMESSAGES: '10',
      EMITTER_SESSION_MAXQUEUEDBYTES: '4096',
    },
  }).session;
  assert.deepEqual(config, {
    provider: 'inmemory',
    expiry: 60,
    maxInflight: 7,
    maxQueuedMessages: 10,
    maxQueuedBytes: 4096,
  });
  assert.throws(
    () => loadConfig({ path: missing, env: { EMITTER_SESSION_MAXINFLIGHT: '0' } }),
    /session\.maxInflight/,
  );
  assert.throws(
    () => loadConfig({ path: configFile({ session: { maxInflight: 70000 } }) }),
    /session\.maxInflight/,
  );
  assert.throws(() => loadConfig({ path: configFile({ session: { expiry: -1 } }) }), /session\.expiry/);
  assert.throws(
    () => loadConfig({ path: missing, env: { EMITTER_SESSION_EXPIRY: 'soon' } }),
    /EMITTER_SESSION_EXPIRY/,
  );
});
