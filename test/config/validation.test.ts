import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, ENV_FIELDS, envName, loadConfig, readConfig } from '../../src/config/index.js';
import { MAP_KEYS } from '../../src/config/map-keys.js';
import { stripJsonComments } from '../../src/config/jsonc.js';

const missing = join(tmpdir(), 'emitter-config-does-not-exist.conf');
const example = fileURLToPath(new URL('../../emitter.conf.example', import.meta.url));

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'emitter-config-'));
  const path = join(dir, 'emitter.conf');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function refusal(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('the configuration was accepted');
}

test('an unknown key in the file is refused, naming the closest known setting', () => {
  assert.match(
    refusal(() => loadConfig({ path: configFile({ lisence: 'x' }) })),
    /^config: unknown setting `lisence` in .*emitter\.conf, did you mean `license`\?$/,
  );
  assert.match(
    refusal(() => loadConfig({ path: configFile({ limit: { messagesize: 10 } }) })),
    /unknown setting `limit\.messagesize`.*did you mean `messageSize`\?/,
  );
  assert.match(
    refusal(() => loadConfig({ path: configFile({ storage: { provider: 'ssd', config: { dri: '/x' } } }) })),
    /unknown setting `storage\.config\.dri`.*did you mean `dir`\?/,
  );
  // Nothing near: no guess, still refused.
  assert.match(
    refusal(() => loadConfig({ path: configFile({ zzzzzzzz: 1 }) })),
    /unknown setting `zzzzzzzz`[^,]*$/,
  );
  // Every problem is listed, not only the first.
  const both = refusal(() => loadConfig({ path: configFile({ lisence: 'x', tls: { lisen: ':1' } }) }));
  assert.match(both, /`lisence`/);
  assert.match(both, /`tls\.lisen`.*did you mean `listen`/);
});

test('unknown EMITTER_* variables are refused too; map keys are matched whatever their spelling', () => {
  assert.match(
    refusal(() => loadConfig({ path: missing, env: { EMITTER_LICENCE: 'x' } })),
    /unknown setting `EMITTER_LICENCE`, did you mean `EMITTER_LICENSE`\?/,
  );
  assert.match(
    refusal(() => loadConfig({ path: missing, env: { EMITTER_STORAGE_CONFIG_DRI: '/x' } })),
    /`EMITTER_STORAGE_CONFIG_DRI`/,
  );
  assert.match(
    refusal(() => loadConfig({ path: missing, env: { EMITTER_MONITOR_CONFIG: '{"intervall":5}' } })),
    /`monitor\.config\.intervall` in EMITTER_MONITOR_CONFIG, did you mean `interval`\?/,
  );
  const config = loadConfig({
    path: missing,
    env: { EMITTER_STORAGE_CONFIG_MAXBYTES: '1000', EMITTER_STORAGE_CONFIG_MAX_QUERY_BYTES: '2000' },
  });
  assert.deepEqual(config.storage.config, { maxBytes: 1000, maxQueryBytes: 2000 });
  // Emitter's sections we accept without reading them stay accepted, whatever they hold.
  loadConfig({
    path: configFile({
      contract: { config: { anything: 1 } },
      dynamodb: { table: 't' },
      vault: { app: 'a' },
    }),
  });
});

test('a value outside its allowed set is refused; provider names are case-insensitive as in Emitter', () => {
  assert.equal(
    refusal(() => loadConfig({ path: configFile({ monitor: { provider: 'http' } }) })),
    'config: monitor.provider: expected one of self, statsd, prometheus, noop, got "http"',
  );
  assert.match(
    refusal(() => loadConfig({ path: missing, env: { EMITTER_MONITOR_PROVIDER: 'graphite' } })),
    /monitor\.provider: expected one of/,
  );
  assert.match(
    refusal(() => loadConfig({ path: configFile({ contract: { provider: 'http' } }) })),
    /contract\.provider/,
  );
  assert.match(
    refusal(() => loadConfig({ path: configFile({ logging: { level: 'loud' } }) })),
    /logging\.level/,
  );
  assert.match(
    refusal(() => loadConfig({ path: configFile({ limit: { slowConsumer: 'kick' } }) })),
    /slowConsumer/,
  );
  assert.equal(loadConfig({ path: configFile({ storage: { provider: 'SSD' } }) }).storage.provider, 'ssd');
});

test('comments and trailing commas are accepted; a syntax error gives its line and column', () => {
  const config = loadConfig({
    path: configFile(
      '{\n  // the port\n  "listen": ":9000", /* block */\n  "tls": { "listen": ":9443", },\n}\n',
    ),
  });
  assert.equal(config.listen, ':9000');
  assert.equal(config.tls.listen, ':9443');
  // `//` inside a string is text, not a comment.
  assert.equal(loadConfig({ path: configFile('{ "license": "a//b" }') }).license, 'a//b');
  assert.equal(stripJsonComments('{"a": "x/*y*/", "b": [1, 2, ], }'), '{"a": "x/*y*/", "b": [1, 2  ]  }');
  assert.match(
    refusal(() => loadConfig({ path: configFile('{\n  "listen": ":9000"\n  "license": ""\n}') })),
    /is not valid JSON: .* at line 3, column 3$/,
  );
});

test('an unreadable file is named with the reason in one line', () => {
  assert.equal(
    refusal(() => loadConfig({ path: missing, explicitPath: true })),
    `config: cannot read ${missing}: no such file`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'emitter-config-dir-'));
  assert.equal(
    refusal(() => loadConfig({ path: dir, explicitPath: true })),
    `config: cannot read ${dir}: it is a directory`,
  );
});

test('readConfig says which file and which variables it used', () => {
  assert.deepEqual(
    (({ file, variables }) => ({ file, variables }))(
      readConfig({ path: missing, env: { EMITTER_LISTEN: ':1', PATH: '/bin' } }),
    ),
    { file: undefined, variables: ['EMITTER_LISTEN'] },
  );
  const path = configFile({ listen: ':9000' });
  assert.equal(readConfig({ path }).file, path);
});

test('emitter.conf.example loads, holds every setting, and sets each to its default', () => {
  const text = readFileSync(example, 'utf8');
  const fromExample = loadConfig({ path: example });
  const defaults = loadConfig({ path: missing });
  // The map sections list their keys with default values; everything else is exactly the defaults.
  const { storage, monitor, ...rest } = fromExample;
  const { storage: defaultStorage, monitor: defaultMonitor, ...defaultRest } = defaults;
  assert.deepEqual(rest, { ...defaultRest, matcher: 'emitter' });
  assert.equal(storage.provider, defaultStorage.provider);
  assert.equal(monitor.provider, defaultMonitor.provider);
  for (const path of Object.keys(ENV_FIELDS)) {
    const key = path.split('.').pop() ?? path;
    assert.ok(text.includes(`"${key}"`), `the example shows ${path} (${envName(path)})`);
  }
  for (const [section, keys] of Object.entries(MAP_KEYS))
    for (const key of keys) assert.ok(text.includes(`"${key}"`), `the example shows ${section}.${key}`);
});
