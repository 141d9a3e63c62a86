import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateLicense, License, parseLicense } from '../../src/security/license.js';
import { LicenseVersion } from '../../src/security/license-codec.js';
import { Permission } from '../../src/security/permissions.js';
import { SecurityError, SecurityErrorCode } from '../../src/security/security-error.js';
import {
  V1_KEYS,
  V1_LICENSE,
  V1_LICENSE_EXPIRING,
  V2_KEYS,
  V2_LICENSE,
  V2_LICENSE_GO_TEST,
  V3_LICENSE,
} from './vectors.js';

test('V1 zT83...: XTEA cipher, contract 989603869, signature 0, master 1; written back with :1', () => {
  const license = parseLicense(V1_LICENSE);
  assert.equal(license.version, LicenseVersion.V1);
  assert.equal(license.contract, 989603869);
  assert.equal(license.signature, 0);
  assert.equal(license.masterId, 1);
  assert.equal(license.expires, 0);
  assert.equal(license.cipher.name, 'xtea');
  assert.equal(license.toString(), `${V1_LICENSE}:1`);
  assert.equal(parseLicense(V1_LICENSE_EXPIRING).expires, 1600000000);
  assert.equal(parseLicense(V1_LICENSE_EXPIRING).contract, 0x3afc281d);
});

test('V2 RfBE...: XSalsa20, contract 880063031, signature 2523191338, index 1', () => {
  const license = parseLicense(V2_LICENSE);
  assert.deepEqual(
    [license.version, license.contract, license.signature, license.masterId, license.cipher.name],
    [LicenseVersion.V2, 880063031, 2523191338, 1, 'xsalsa20'],
  );
  assert.equal(license.toString(), V2_LICENSE);
  const goTest = parseLicense(V2_LICENSE_GO_TEST);
  assert.deepEqual([goTest.contract, goTest.signature, goTest.masterId], [0x11248139, 0x10062b50, 1]);
});

test('V3 PfA8...: Shuffle, contract 0x11248139, signature 0x10062b50, index 1 (Go TestParseV3)', () => {
  const license = parseLicense(V3_LICENSE);
  assert.deepEqual(
    [license.version, license.contract, license.signature, license.masterId, license.cipher.name],
    [LicenseVersion.V3, 0x11248139, 0x10062b50, 1, 'shuffle'],
  );
  assert.equal(license.toString(), V3_LICENSE);
});

test('the secret keys of the V1 and V2 licences decrypt as master keys of their contract', () => {
  for (const [text, secret] of [
    [V1_LICENSE, V1_KEYS.secret],
    [V2_LICENSE, V2_KEYS.secret],
  ] as const) {
    const license = parseLicense(text);
    const key = license.cipher.decrypt(secret);
    assert.ok(key.isMaster(), secret);
    assert.equal(key.permissions, Permission.Master);
    assert.equal(key.masterId, 1);
    assert.equal(key.contract, license.contract);
    assert.equal(key.signature, license.signature);
    assert.equal(key.expires, 0);
  }
});

test('the V2 channel keys: w07J... is a/b/c/ rwslp, 4kzJ... is a/b/c/ rwslpe; both re-encrypt identically', () => {
  const license = parseLicense(V2_LICENSE);
  const abc = license.cipher.decrypt(V2_KEYS.abc);
  assert.equal(abc.permissions, 0x3e);
  assert.ok(abc.validateChannel('a/b/c/') && !abc.validateChannel('a/b/c/d/'));
  const extend = license.cipher.decrypt(V2_KEYS.abcExtend);
  assert.equal(extend.permissions, 0x7e);
  assert.ok(extend.validateChannel('a/b/c/'));
  for (const key of Object.values(V2_KEYS))
    assert.equal(license.cipher.encrypt(license.cipher.decrypt(key)), key);
});

test('invalid strings throw SecurityErrors with the spec message for short ones', () => {
  assert.throws(
    () => parseLicense('abc'),
    (error: unknown) => {
      assert.ok(error instanceof SecurityError);
      assert.equal(error.code, SecurityErrorCode.LicenseMissing);
      assert.match(error.message, /^No license was found/);
      return true;
    },
  );
  for (const text of ['xxxxxx:2', '``````````:3', 'CSAAAJ3Q8NcDAAA:2']) {
    assert.throws(
      () => parseLicense(text),
      (error: unknown) => error instanceof SecurityError && error.code === SecurityErrorCode.LicenseInvalid,
      text,
    );
  }
});

test('generateLicense makes a V3 licence that parses back to the same fields and cipher', () => {
  const { license, text } = generateLicense();
  assert.equal(license.version, LicenseVersion.V3);
  assert.equal(license.masterId, 1);
  assert.match(text, /^[A-Za-z0-9_-]+:3$/);
  assert.equal(text, license.toString());
  const parsed = parseLicense(text);
  assert.deepEqual(
    [parsed.version, parsed.contract, parsed.signature, parsed.masterId],
    [license.version, license.contract, license.signature, license.masterId],
  );
  const secret = license.newMasterKey();
  assert.ok(parsed.cipher.decrypt(secret).equals(license.cipher.decrypt(secret)));
  assert.notEqual(generateLicense().text, text);
});

test('newMasterKey: permissions exactly master, master id 1, contract and signature, random salt', () => {
  const { license } = generateLicense();
  const salts = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const key = license.cipher.decrypt(license.newMasterKey());
    assert.equal(key.permissions, 0x01);
    assert.ok(key.isMaster());
    assert.equal(key.masterId, 1);
    assert.equal(key.contract, license.contract);
    assert.equal(key.signature, license.signature);
    assert.equal(key.expires, 0);
    assert.ok(key.salt >= 0 && key.salt < 32767);
    salts.add(key.salt);
  }
  assert.ok(salts.size > 40, 'salts are random');
});

test('a licence can be built from fields; bad key material is refused at once', () => {
  const { license } = generateLicense();
  assert.throws(
    () =>
      new License({
        version: LicenseVersion.V3,
        key: new Uint8Array(31),
        salt: new Uint8Array(16),
        contract: 1,
        signature: 2,
        index: 1,
        expires: 0,
        type: 0,
      }),
    SecurityError,
  );
  assert.equal(license.cipher.name, 'shuffle');
});
