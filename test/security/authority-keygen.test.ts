import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmitterError, Errors } from '../../src/errors.js';
import { KeyAuthority } from '../../src/security/authority.js';
import { ChannelKey } from '../../src/security/key.js';
import { generateLicense, parseLicense, type License } from '../../src/security/license.js';
import { Permission } from '../../src/security/permissions.js';
import { V1_KEYS, V1_LICENSE } from './vectors.js';

const NOW = 1_700_000_000;

function ok<T>(value: T | EmitterError): T {
  if (value instanceof EmitterError) assert.fail(`unexpected ${value.status}: ${value.message}`);
  return value;
}

function keyOf(license: License, fill: (key: ChannelKey) => void): string {
  const key = new ChannelKey();
  key.masterId = 1;
  key.contract = license.contract;
  key.signature = license.signature;
  fill(key);
  return license.cipher.encrypt(key);
}

const v1 = new KeyAuthority(parseLicense(V1_LICENSE));

test('createKey (path A): a key for the channel, master bit never set, ttl 0 never expires', () => {
  const key = ok(v1.createKey({ secret: V1_KEYS.secret, channel: 'a/b/', type: 'rwls', ttl: 0 }, NOW));
  assert.equal(key.channel, 'a/b/');
  const decoded = ok(
    v1.authorize(key.key, 'a/b/', Permission.Read | Permission.Write, { now: NOW, rejectExtend: true }),
  );
  assert.equal(decoded.permissions, Permission.Read | Permission.Write | Permission.Load | Permission.Store);
  assert.equal(decoded.expires, 0);
  assert.equal(decoded.contract, 989603869);
  assert.equal(decoded.masterId, 1);
  assert.ok(decoded.salt >= 0 && decoded.salt < 32767);

  const all = v1.decrypt(
    ok(v1.createKey({ secret: V1_KEYS.secret, channel: 'x/#/', type: 'rwslpexm?', ttl: 60 }, NOW)).key,
  );
  assert.equal(all?.permissions, 254);
  assert.equal(all?.expires, NOW + 60);
  assert.equal(all?.isMaster(), false);
  const none = v1.decrypt(
    ok(v1.createKey({ secret: V1_KEYS.secret, channel: 'x/', type: '', ttl: 0 }, NOW)).key,
  );
  assert.equal(none?.permissions, 0);
  assert.equal(none?.isMaster(), false);
  // Two keys for the same request differ (random salt).
  const again = ok(v1.createKey({ secret: V1_KEYS.secret, channel: 'a/b/', type: 'rwls', ttl: 0 }, NOW));
  assert.notEqual(again.key, key.key);
});

test('createKey errors: 401, 404, TargetInvalid, TargetTooLong, 400 ttl (Go TestCreateKey)', () => {
  const license = generateLicense().license;
  const authority = new KeyAuthority(license);
  const secret = license.newMasterKey();
  const request = (over: Partial<{ secret: string; channel: string; type: string; ttl: number }>) => ({
    secret,
    channel: 'article1/',
    type: 'rw',
    ttl: 0,
    ...over,
  });
  ok(authority.createKey(request({})));
  assert.equal(authority.createKey(request({ channel: 'article1' })), Errors.TargetInvalid);
  assert.equal(authority.createKey(request({ channel: 'a/'.repeat(24) })), Errors.TargetTooLong);
  ok(authority.createKey(request({ channel: 'a/'.repeat(23) })));
  assert.equal(authority.createKey(request({ ttl: -1 })), Errors.BadRequest);
  assert.equal(authority.createKey(request({ ttl: 1.5 })), Errors.BadRequest);
  assert.equal(authority.createKey(request({ secret: 'garbage' })), Errors.Unauthorized);
  assert.equal(
    authority.createKey(request({ secret: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa*' })),
    Errors.Unauthorized,
  );

  const channelKey = ok(authority.createKey(request({}))).key;
  assert.equal(authority.createKey(request({ secret: channelKey })), Errors.Unauthorized, 'not a master key');
  const expired = keyOf(license, (k) => {
    k.permissions = Permission.Master;
    k.expires = NOW - 1;
  });
  assert.equal(authority.createKey(request({ secret: expired }), NOW), Errors.Unauthorized);
  const otherContract = keyOf(license, (k) => {
    k.permissions = Permission.Master;
    k.contract = (license.contract + 1) >>> 0;
  });
  assert.equal(authority.createKey(request({ secret: otherContract })), Errors.NotFound);
  const badSignature = keyOf(license, (k) => {
    k.permissions = Permission.Master;
    k.signature = (license.signature ^ 1) >>> 0;
  });
  assert.equal(authority.createKey(request({ secret: badSignature })), Errors.Unauthorized);
  const otherMaster = keyOf(license, (k) => {
    k.permissions = Permission.Master;
    k.masterId = 2;
  });
  assert.equal(authority.createKey(request({ secret: otherMaster })), Errors.Unauthorized);
  authority.ban(secret);
  assert.equal(authority.createKey(request({})), Errors.Unauthorized, 'a banned secret makes no keys');
});

test('extendKey (path B): Go TestExtendKey vectors with connection id ID', () => {
  const cases = [
    {
      key: V1_KEYS.extendAb,
      channel: 'a/b/',
      type: 'rwslpex',
      access: Permission.Read | Permission.Load,
      target: 'a/b/ID/',
    },
    { key: V1_KEYS.extendAb, channel: 'a/b/', type: 'rwspex', access: Permission.Read, target: 'a/b/ID/' },
    {
      key: V1_KEYS.extendAbWildcard,
      channel: 'a/b/#/',
      type: 'rwspex',
      access: Permission.Read,
      target: 'a/b/ID/#/',
    },
  ];
  for (const c of cases) {
    const created = ok(v1.extendKey({ key: c.key, channel: c.channel, type: c.type, ttl: 0 }, 'ID', NOW));
    assert.equal(created.channel, c.target);
    const child = v1.decrypt(created.key);
    assert.equal(child?.permissions, c.access);
    assert.equal(child?.hasPermission(Permission.Extend), false);
    assert.equal(child?.expires, 0);
    ok(v1.authorize(created.key, 'a/b/ID/', Permission.Read, { now: NOW, rejectExtend: true }));
    assert.equal(v1.authorize(created.key, 'a/b/', Permission.Read, { now: NOW }), Errors.Unauthorized);
    assert.equal(v1.authorize(created.key, 'a/b/other/', Permission.Read, { now: NOW }), Errors.Unauthorized);
  }
  const wildcardChild = ok(
    v1.extendKey({ key: V1_KEYS.extendAbWildcard, channel: 'a/b/#/', type: 'r', ttl: 0 }, 'ID', NOW),
  ).key;
  ok(v1.authorize(wildcardChild, 'a/b/ID/x/y/', Permission.Read, { now: NOW }));
  // Not the extendable target: 401; a wildcard channel: 400.
  assert.equal(
    v1.extendKey({ key: V1_KEYS.extendElsewhere, channel: 'a/b/', type: 'r', ttl: 0 }, 'ID', NOW),
    Errors.Unauthorized,
  );
  assert.equal(
    v1.extendKey({ key: V1_KEYS.extendElsewhere, channel: 'a/b/+/', type: 'r', ttl: 0 }, 'ID', NOW),
    Errors.BadRequest,
  );
  assert.equal(
    v1.extendKey({ key: V1_KEYS.abcAll, channel: 'a/b/c/', type: 'r', ttl: -5 }, 'ID', NOW),
    Errors.BadRequest,
  );
  // A key without e, and a banned extend key, cannot extend.
  const plain = ok(v1.createKey({ secret: V1_KEYS.secret, channel: 'a/b/', type: 'rw', ttl: 0 }, NOW)).key;
  assert.equal(
    v1.extendKey({ key: plain, channel: 'a/b/', type: 'r', ttl: 0 }, 'ID', NOW),
    Errors.Unauthorized,
  );
  const authority = new KeyAuthority(parseLicense(V1_LICENSE));
  authority.ban(V1_KEYS.extendAb);
  assert.equal(
    authority.extendKey({ key: V1_KEYS.extendAb, channel: 'a/b/', type: 'r', ttl: 0 }, 'ID', NOW),
    Errors.Unauthorized,
  );
});

test('extendKey: the child never outlives its parent (decision 7)', () => {
  const authority = new KeyAuthority(generateLicense().license);
  const secret = authority.license.newMasterKey();
  const parentFor = (ttl: number) =>
    ok(authority.createKey({ secret, channel: 'room/', type: 'rwe', ttl }, NOW)).key;
  const childExpiry = (parent: string, ttl: number) =>
    authority.decrypt(
      ok(authority.extendKey({ key: parent, channel: 'room/', type: 'rw', ttl }, 'conn', NOW + 100)).key,
    )?.expires;

  const forever = parentFor(0);
  assert.equal(childExpiry(forever, 0), 0);
  assert.equal(childExpiry(forever, 60), NOW + 160);

  const hour = parentFor(3600); // expires at NOW + 3600
  assert.equal(childExpiry(hour, 0), NOW + 3600, 'ttl 0 inherits the parent expiry');
  assert.equal(childExpiry(hour, 60), NOW + 160, 'a shorter ttl is kept');
  assert.equal(childExpiry(hour, 100_000), NOW + 3600, 'a longer ttl is cut to the parent');
  assert.equal(
    authority.extendKey({ key: hour, channel: 'room/', type: 'rw', ttl: 0 }, 'conn', NOW + 3601),
    Errors.Unauthorized,
    'an expired parent extends nothing',
  );
});

test('extendKey: a 24th level is a 500 carrying the raw target text', () => {
  const authority = new KeyAuthority(generateLicense().license);
  const secret = authority.license.newMasterKey();
  const deep = 'l/'.repeat(23);
  const parent = ok(authority.createKey({ secret, channel: deep, type: 'rwe', ttl: 0 }, NOW)).key;
  const result = authority.extendKey({ key: parent, channel: deep, type: 'rw', ttl: 0 }, 'conn', NOW);
  assert.ok(result instanceof EmitterError);
  assert.equal(result.status, 500);
  assert.equal(result.message, 'channel can not have more than 23 parts');
});

test('keygen dispatches: master -> path A, extend -> path B, anything else 401', () => {
  const created = ok(v1.keygen({ key: V1_KEYS.secret, channel: 'a/b/', type: 'rwls', ttl: 0 }, 'ID', NOW));
  assert.equal(created.channel, 'a/b/');
  const extended = ok(
    v1.keygen({ key: V1_KEYS.extendAb, channel: 'a/b/', type: 'rwslpex', ttl: 0 }, 'ID', NOW),
  );
  assert.equal(extended.channel, 'a/b/ID/');
  assert.equal(
    v1.keygen({ key: created.key, channel: 'a/b/', type: 'r', ttl: 0 }, 'ID', NOW),
    Errors.Unauthorized,
  );
  assert.equal(v1.keygen({ key: '', channel: 'a/b/', type: 'r', ttl: 0 }, 'ID', NOW), Errors.Unauthorized);
  assert.equal(
    v1.keygen({ key: V1_KEYS.cluster, channel: 'cluster/', type: 'r', ttl: 0 }, 'ID', NOW),
    Errors.Unauthorized,
  );
  assert.equal(
    v1.keygen({ key: V1_KEYS.secret, channel: 'article1', type: 'r', ttl: 0 }, 'ID', NOW),
    Errors.TargetInvalid,
  );
});
