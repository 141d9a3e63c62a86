import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.js';

const missing = join(tmpdir(), 'emitter-config-does-not-exist.conf');

test('the redis hold buffer settings come from EMITTER_STORAGE_CONFIG_HOLD_* and are checked with their path', () => {
  const config = loadConfig({
    path: missing,
    env: {
      EMITTER_STORAGE_PROVIDER: 'redis',
      EMITTER_STORAGE_CONFIG_HOLD_MESSAGES: '500',
      EMITTER_STORAGE_CONFIG_HOLD_BYTES: '0',
      EMITTER_STORAGE_CONFIG_HOLD_TIMEOUT_MS: '2500',
    },
  });
  assert.deepEqual(config.storage.config, { holdMessages: 500, holdBytes: 0, holdTimeoutMs: 2500 });
  const refused = (env: NodeJS.ProcessEnv, field: string): void =>
    assert.throws(
      () => loadConfig({ path: missing, env }),
      (err: unknown) => err instanceof ConfigError && err.message.includes(`storage.config.${field}`),
    );
  refused({ EMITTER_STORAGE_CONFIG_HOLD_MESSAGES: '-1' }, 'holdMessages');
  refused({ EMITTER_STORAGE_CONFIG: '{"holdBytes":1.5}' }, 'holdBytes');
  refused({ EMITTER_STORAGE_CONFIG: '{"holdBytes":"16MB"}' }, 'holdBytes');
  refused({ EMITTER_STORAGE_CONFIG_HOLD_TIMEOUT_MS: '0' }, 'holdTimeoutMs');
});
