import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashLevel } from '../../src/channel/hash.js';
import { Errors } from '../../src/errors.js';
import { ChannelKey, encodeTarget, KEY_EPOCH } from '../../src/security/key.js';
import { Permission } from '../../src/security/permissions.js';

function keyFor(target: string): ChannelKey {
  return new ChannelKey().setTarget(target);
}

test('field accessors read and write the big-endian layout of spec 3.2 (Go TestKey)', () => {
  const key = new ChannelKey();
  key.salt = 999;
  key.masterId = 2;
  key.contract = 123;
  key.signature = 777;
  key.permissions = Permission.Read | Permission.Write;
  key.setTarget('a/b/c/');
  key.expires = 1497683272;
  assert.deepEqual(
    [key.salt, key.masterId, key.contract, key.signature, key.permissions, key.expires],
    [999, 2, 123, 777, 6, 1497683272],
  );
  const bytes = key.toBytes();
  assert.equal(bytes.length, 24);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x03, 0xe7, 0x00, 0x02]);
  assert.deepEqual([...bytes.subarray(4, 12)], [0, 0, 0, 123, 0, 0, 0x03, 0x09]);
  assert.deepEqual([...bytes.subarray(12, 16)], [0xf0, 0x00, 0x00, 0x06]);
  assert.equal(Buffer.from(bytes).readUInt32BE(16), hashLevel('a/b/c'));
  assert.equal(Buffer.from(bytes).readUInt32BE(20), 1497683272 - KEY_EPOCH);
  assert.ok(new ChannelKey(bytes).equals(key));
});

test('full-range values survive, out-of-range values are refused', () => {
  const key = new ChannelKey();
  key.contract = 0xffffffff;
  key.signature = 0x9664d82a;
  key.targetPath = 0xabcdef;
  key.targetHash = 0xfedcba98;
  key.salt = 0xffff;
  assert.deepEqual(
    [key.contract, key.signature, key.targetPath, key.targetHash, key.salt],
    [0xffffffff, 0x9664d82a, 0xabcdef, 0xfedcba98, 0xffff],
  );
  assert.throws(() => (key.salt = 0x10000), RangeError);
  assert.throws(() => (key.contract = -1), RangeError);
  assert.throws(() => (key.permissions = 256), RangeError);
  assert.throws(() => (key.targetPath = 1 << 24), RangeError);
  assert.throws(() => (key.signature = 1.5), RangeError);
  assert.throws(() => (key.expires = KEY_EPOCH), RangeError, 'would read back as never');
  assert.throws(() => (key.expires = 1000), RangeError, 'before 2010');
  assert.throws(() => new ChannelKey(new Uint8Array(23)), RangeError);
});

test('expiry: 0 never expires; a past time has expired (Go TestKey)', () => {
  const key = new ChannelKey();
  assert.equal(key.expires, 0);
  assert.equal(key.isExpired(), false);
  assert.equal(key.isExpired(4_000_000_000), false);
  key.expires = 1497683272;
  assert.equal(key.isExpired(), true);
  assert.equal(key.isExpired(1497683271), false);
  assert.equal(key.isExpired(1497683272), false, 'expires at the end of its second');
  assert.equal(key.isExpired(1497683273), true);
  key.expires = 0;
  assert.equal(key.isExpired(), false);
});

test('permissions: hasPermission, setPermission, isMaster (Go TestKey)', () => {
  const key = new ChannelKey();
  key.permissions = Permission.Read | Permission.Write;
  assert.ok(key.hasPermission(Permission.Read));
  assert.ok(key.hasPermission(Permission.Read | Permission.Write));
  assert.ok(!key.hasPermission(Permission.Read | Permission.Store));
  assert.ok(!key.hasPermission(Permission.Extend));
  assert.ok(key.hasPermission(0));
  key.setPermission(Permission.Extend, true);
  assert.ok(key.hasPermission(Permission.Extend));
  key.setPermission(Permission.Extend, false);
  assert.ok(!key.hasPermission(Permission.Extend));
  assert.ok(!key.isMaster());
  key.permissions = Permission.Master;
  assert.ok(key.isMaster());
  assert.ok(key.hasPermission(Permission.Master));
  key.permissions = Permission.Master | Permission.Read;
  assert.ok(!key.isMaster(), 'master means exactly 0x01');
});

test('frozen keys refuse every setter; clones are mutable copies', () => {
  const key = keyFor('a/').freeze();
  assert.ok(key.frozen);
  assert.throws(() => (key.salt = 1), TypeError);
  assert.throws(() => (key.permissions = 2), TypeError);
  assert.throws(() => key.setTarget('b/'), TypeError);
  const copy = key.clone();
  assert.ok(!copy.frozen);
  copy.setTarget('b/');
  assert.ok(!copy.equals(key));
  // toBytes is a copy, so it cannot be used to change a frozen key either.
  key.toBytes()[15] = 0xff;
  assert.equal(key.permissions, 0);
});

test('sameOwner compares master id, contract and signature only', () => {
  const a = new ChannelKey();
  a.masterId = 1;
  a.contract = 5;
  a.signature = 9;
  const b = a.clone();
  b.salt = 77;
  b.permissions = 0xfe;
  b.setTarget('x/');
  b.expires = 2_000_000_000;
  assert.ok(a.sameOwner(b));
  for (const change of [
    (k: ChannelKey) => (k.masterId = 2),
    (k: ChannelKey) => (k.contract = 6),
    (k: ChannelKey) => (k.signature = 8),
  ]) {
    const c = a.clone();
    change(c);
    assert.ok(!a.sameOwner(c));
  }
});

test('target encoding examples of spec 3.5', () => {
  assert.deepEqual(encodeTarget('a/b/c/'), { path: 0b1111 << 20, hash: hashLevel('a/b/c') });
  assert.deepEqual(encodeTarget('a/+/c/'), {
    path: (1 << 23) | (1 << 22) | (1 << 20),
    hash: hashLevel('a/+/c'),
  });
  assert.deepEqual(encodeTarget('cluster/#/'), { path: 1 << 22, hash: hashLevel('cluster') });
  assert.deepEqual(encodeTarget('#/'), { path: 0, hash: 1325880984 });
  // Go trims every trailing slash.
  assert.deepEqual(encodeTarget('a/b//'), encodeTarget('a/b/'));
});

test('setTarget errors: no trailing slash, more than 23 levels (Go TestKey_New, CreateKey article1)', () => {
  assert.equal(encodeTarget('article1'), Errors.TargetInvalid);
  assert.equal(encodeTarget(''), Errors.TargetInvalid);
  assert.equal(encodeTarget('a/#'), Errors.TargetInvalid);
  assert.throws(
    () => new ChannelKey().setTarget('article1'),
    (error) => error === Errors.TargetInvalid,
  );
  assert.doesNotThrow(() => new ChannelKey().setTarget('article1/'));
  const levels = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}/`).join('');
  assert.notEqual(encodeTarget(levels(23)), Errors.TargetTooLong);
  assert.notEqual(encodeTarget(`${levels(23)}#/`), Errors.TargetTooLong);
  assert.equal(encodeTarget(levels(24)), Errors.TargetTooLong);
  assert.throws(
    () => new ChannelKey().setTarget(levels(24)),
    (error) => error === Errors.TargetTooLong,
  );
});

// Spec 3.5's table plus every case of Go's TestKey_New.
const TABLE: ReadonlyArray<readonly [string, readonly string[], readonly string[]]> = [
  ['a/b/c/', ['a/b/c/'], ['a/b/', 'a/b/c/d/', 'a/b/d/', 'a/+/c/', 'x/b/c/']],
  ['a/+/c/', ['a/b/c/', 'a/c/c/', 'a/d/c/', 'a/+/c/'], ['a/b/+/', 'a/b/', 'a/b/c/d/', 'b/b/c/']],
  ['+/', ['/', 'a/', '+/'], ['a/b/', 'a/b/c/']],
  ['+/+/', ['a/b/', 'a/+/', '+/b/', '+/+/'], ['/', 'a/', 'a/b/c/']],
  ['+/+/+/', ['a/b/c/'], ['/', 'a/', 'a/b/']],
  ['#/', ['/', 'a/', 'a/b/', 'a/b/c/', 'x/y/z/w/'], ['']],
  [
    'a/b/c/#/',
    ['a/b/c/', 'a/b/c/d/', 'a/b/c/d/e/', 'a/b/c/d/+/f/', 'a/b/c/d/+/f/#/', 'a/b/c/#/'],
    ['a/b/', 'a/b/+/', 'a/b/d/e/', 'a/+/c/d/'],
  ],
  ['cluster/#/', ['cluster/', 'cluster/a/b/'], ['clusters/', 'a/cluster/']],
  ['a/', ['a/'], ['a/b/', 'b/']],
];

test('validateChannel: the target validation table', () => {
  for (const [target, accepted, rejected] of TABLE) {
    const key = keyFor(target);
    for (const channel of accepted)
      assert.equal(key.validateChannel(channel), true, `${target} accepts ${channel}`);
    for (const channel of rejected)
      assert.equal(key.validateChannel(channel), false, `${target} rejects ${channel}`);
  }
});

test('validateChannel: legacy keys with mask 0 only pin the first level (Go TestKey_New)', () => {
  const key = keyFor('a/');
  key.targetPath = 0;
  for (const channel of ['a/', 'a/b/', 'a/b/c/', 'a/+/c/']) assert.ok(key.validateChannel(channel), channel);
  assert.ok(!key.validateChannel('b/'));
  assert.ok(!key.validateChannel(''));
  // Quirk kept: `+/#/` encodes as mask 0 with hash('+'), so it opens only channels whose first level is `+`.
  const plus = keyFor('+/#/');
  assert.equal(plus.targetPath, 0);
  assert.ok(!plus.validateChannel('a/'));
  assert.ok(plus.validateChannel('+/'));
});

test('validateChannel: 23-level targets, with and without #/, and very deep channels', () => {
  const levels = (n: number) => Array.from({ length: n }, (_, i) => `l${i}/`).join('');
  const strict = keyFor(levels(23));
  assert.ok(strict.validateChannel(levels(23)));
  assert.ok(!strict.validateChannel(levels(24)));
  assert.ok(!strict.validateChannel(levels(22)));
  const open = keyFor(`${levels(23)}#/`);
  assert.ok(open.validateChannel(levels(23)));
  assert.ok(open.validateChannel(levels(60)));
  // An all-`+` target fixes no level: the channel depth itself is compared through the hash.
  const pluses = (n: number) => '+/'.repeat(n);
  const allPlus = keyFor(pluses(23));
  assert.ok(allPlus.validateChannel(levels(23)));
  assert.ok(!allPlus.validateChannel(levels(22)));
  assert.ok(!allPlus.validateChannel(levels(40)));
  const deep = keyFor('a/#/');
  assert.ok(deep.validateChannel(`a/${levels(50)}`));
  assert.ok(!deep.validateChannel(`b/${levels(50)}`));
});
