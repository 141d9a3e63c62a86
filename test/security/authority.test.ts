import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmitterError, Errors } from '../../src/errors.js';
import { KeyAuthority } from '../../src/security/authority.js';
import { generateLicense, parseLicense } from '../../src/security/license.js';
import { Permission } from '../../src/security/permissions.js';
import { V1_KEYS, V1_LICENSE, V2_KEYS, V2_LICENSE, V3_LICENSE } from './vectors.js';

const NOW = 1_700_000_000;
const CLUSTER_KEY_EXPIRES = 1519955118; // 2018-03-02T01:45:18Z
const LEGACY_KEY_EXPIRES = 1497621137; // 2017-06-16T13:52:17Z

function ok<T>(value: T | EmitterError): T {
  if (value instanceof EmitterError) assert.fail(`unexpected ${value.status}: ${value.message}`);
  return value;
}

const v1 = new KeyAuthority(parseLicense(V1_LICENSE));

test('authorize: a valid V1 key for its channel and permissions', () => {
  const key = ok(v1.authorize(V1_KEYS.abcAll, 'a/b/c/', Permission.Read | Permission.Write, { now: NOW }));
  assert.equal(key.permissions, 0x7e);
  assert.ok(key.frozen, 'keys handed out from the cache are read-only');
  ok(v1.authorize(V1_KEYS.abcAll, 'a/b/c/', 0, { now: NOW }));
});

test('authorize: every failure is 401', () => {
  const cases: Array<[string, string, number, number]> = [
    [V1_KEYS.abcAll, 'a/b/', Permission.Read, NOW], // channel outside the target
    [V1_KEYS.abcAll, 'a/b/c/d/', Permission.Read, NOW],
    [V1_KEYS.abcAll, '', Permission.Read, NOW],
    [V1_KEYS.abcAll, 'a/b/c/', Permission.Execute, NOW], // permission missing
    [V1_KEYS.cluster, 'cluster/a/', Permission.Read, NOW], // expired
    [V1_KEYS.cluster, 'cluster/a/', Permission.Presence, CLUSTER_KEY_EXPIRES - 10], // no p
    [V1_KEYS.secret, 'a/b/c/', Permission.Read, NOW], // the master key cannot read
    [V1_KEYS.secret, 'a/b/c/', 0, NOW], // nor open any channel
    [V2_KEYS.abc, 'a/b/c/', Permission.Read, NOW], // another licence's key
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa*', 'a/b/c/', Permission.Read, NOW],
    ['', 'a/b/c/', 0, NOW],
    ['emitter', 'a/', 0, NOW],
    ['x'.repeat(5000), 'a/', 0, NOW],
  ];
  for (const [key, channel, required, now] of cases) {
    assert.equal(
      v1.authorize(key, channel, required, { now }),
      Errors.Unauthorized,
      `${key} ${channel} ${required}`,
    );
  }
});

test('authorize: keys work until their expiry (cluster/#/ rwsl, legacy emitter rsp)', () => {
  ok(
    v1.authorize(V1_KEYS.cluster, 'cluster/a/b/', Permission.Read | Permission.Load, {
      now: CLUSTER_KEY_EXPIRES - 1,
    }),
  );
  ok(v1.authorize(V1_KEYS.cluster, 'cluster/', Permission.Write, { now: CLUSTER_KEY_EXPIRES }));
  assert.equal(
    v1.authorize(V1_KEYS.cluster, 'cluster/', Permission.Write, { now: CLUSTER_KEY_EXPIRES + 1 }),
    Errors.Unauthorized,
  );
  assert.equal(
    v1.authorize(V1_KEYS.cluster, 'other/', Permission.Write, { now: CLUSTER_KEY_EXPIRES - 1 }),
    Errors.Unauthorized,
  );

  const before = LEGACY_KEY_EXPIRES - 1;
  ok(
    v1.authorize(V1_KEYS.legacy, 'emitter/a/b/', Permission.Read | Permission.Store | Permission.Presence, {
      now: before,
    }),
  );
  assert.equal(
    v1.authorize(V1_KEYS.legacy, 'emitter/a/', Permission.Write, { now: before }),
    Errors.Unauthorized,
  );
  assert.equal(v1.authorize(V1_KEYS.legacy, 'other/', Permission.Read, { now: before }), Errors.Unauthorized);
  assert.equal(v1.authorize(V1_KEYS.legacy, 'emitter/', Permission.Read, { now: NOW }), Errors.Unauthorized);
});

test('authorize: extend keys pass, but get UnauthorizedExt when the caller rejects extend', () => {
  assert.equal(
    v1.authorize(V1_KEYS.abcAll, 'a/b/c/', Permission.Write, { now: NOW, rejectExtend: true }),
    Errors.UnauthorizedExt,
  );
  assert.equal(
    v1.authorize(V1_KEYS.abcEverything, 'a/b/c/', Permission.Read, { now: NOW, rejectExtend: true }),
    Errors.UnauthorizedExt,
  );
  // Ext comes only after a successful authorisation: a wrong channel stays a plain 401.
  assert.equal(
    v1.authorize(V1_KEYS.abcAll, 'x/', Permission.Write, { now: NOW, rejectExtend: true }),
    Errors.Unauthorized,
  );
  const v2 = new KeyAuthority(parseLicense(V2_LICENSE));
  ok(v2.authorize(V2_KEYS.abc, 'a/b/c/', Permission.Write, { rejectExtend: true }));
  assert.equal(
    v2.authorize(V2_KEYS.abcExtend, 'a/b/c/', Permission.Write, { rejectExtend: true }),
    Errors.UnauthorizedExt,
  );
  assert.equal(v2.authorize(V2_KEYS.abc, 'a/b/', Permission.Write), Errors.Unauthorized);
});

test('ban, unban, isBanned; a cached success is not served after a ban', () => {
  const authority = new KeyAuthority(parseLicense(V1_LICENSE));
  for (let i = 0; i < 3; i++)
    ok(authority.authorize(V1_KEYS.abcAll, 'a/b/c/', Permission.Read, { now: NOW }));
  assert.equal(authority.isBanned(V1_KEYS.abcAll), false);
  assert.equal(authority.ban(V1_KEYS.abcAll), true);
  assert.equal(authority.ban(V1_KEYS.abcAll), false);
  assert.equal(authority.isBanned(V1_KEYS.abcAll), true);
  assert.deepEqual(authority.bannedKeys(), [V1_KEYS.abcAll]);
  assert.equal(
    authority.authorize(V1_KEYS.abcAll, 'a/b/c/', Permission.Read, { now: NOW }),
    Errors.Unauthorized,
  );
  // The ban is of the exact key text: the same key under another salt is a different text.
  assert.equal(authority.isBanned(V1_KEYS.abcEverything), false);
  assert.equal(authority.unban(V1_KEYS.abcAll), true);
  assert.equal(authority.unban(V1_KEYS.abcAll), false);
  ok(authority.authorize(V1_KEYS.abcAll, 'a/b/c/', Permission.Read, { now: NOW }));
});

test('a cached success is not served after the key expires', () => {
  const authority = new KeyAuthority(generateLicense().license);
  const key = ok(
    authority.createKey({ secret: authority.license.newMasterKey(), channel: 'a/', type: 'r', ttl: 10 }, NOW),
  );
  ok(authority.authorize(key.key, 'a/', Permission.Read, { now: NOW + 10 }));
  assert.equal(authority.authorize(key.key, 'a/', Permission.Read, { now: NOW + 11 }), Errors.Unauthorized);
});

test('decrypt: frozen keys from the cache, undefined for non-keys, bounded caches', () => {
  const authority = new KeyAuthority(parseLicense(V1_LICENSE), { cacheSize: 4 });
  const first = authority.decrypt(V1_KEYS.abcAll);
  assert.ok(first?.frozen);
  assert.equal(authority.decrypt(V1_KEYS.abcAll), first);
  assert.equal(authority.decrypt('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa*'), undefined);
  assert.equal(authority.decrypt('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa*'), undefined);
  assert.equal(authority.decrypt(''), undefined);
  // Many keys and channels through small caches: results stay right.
  for (let round = 0; round < 3; round++) {
    for (const [key, channel, expected] of [
      [V1_KEYS.abcAll, 'a/b/c/', true],
      [V1_KEYS.abcAll, 'a/b/', false],
      [V1_KEYS.abcEverything, 'a/b/c/', true],
      [V1_KEYS.extendAb, 'a/b/', true],
      [V1_KEYS.extendAb, 'a/b/c/', false],
      [V1_KEYS.extendAbWildcard, 'a/b/c/d/', true],
      [V1_KEYS.extendElsewhere, 'a/b/', false],
    ] as const) {
      const result = authority.authorize(key, channel, Permission.Read, { now: NOW });
      assert.equal(!(result instanceof EmitterError), expected, `${key} ${channel}`);
    }
  }
  const long = `${'level/'.repeat(100)}`;
  assert.equal(authority.authorize(V1_KEYS.abcAll, long, Permission.Read, { now: NOW }), Errors.Unauthorized);
});

test('a key made under one licence never validates under another (V1, V2, V3, generated)', () => {
  const licenses = [
    parseLicense(V1_LICENSE),
    parseLicense(V2_LICENSE),
    parseLicense(V3_LICENSE),
    generateLicense().license,
    generateLicense().license,
  ];
  const authorities = licenses.map((license) => new KeyAuthority(license));
  for (const [i, maker] of licenses.entries()) {
    const secret = maker.newMasterKey();
    ok(authorities[i].createKey({ secret, channel: '#/', type: 'rwslp', ttl: 0 }));
    for (let n = 0; n < 20; n++) {
      const key = ok(authorities[i].createKey({ secret, channel: '#/', type: 'rwslp', ttl: 0 })).key;
      ok(authorities[i].authorize(key, 'any/channel/', Permission.Read));
      for (const [j, other] of authorities.entries()) {
        if (j === i) continue;
        assert.equal(
          other.authorize(key, 'any/channel/', 0),
          Errors.Unauthorized,
          `licence ${i} key under ${j}`,
        );
        assert.ok(other.createKey({ secret, channel: 'a/', type: 'r', ttl: 0 }) instanceof EmitterError);
      }
    }
  }
});
