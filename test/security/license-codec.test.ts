import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compress } from 'snappyjs';
import {
  decodeLicenseText,
  encodeLicenseText,
  LicenseVersion,
  NO_LICENSE_MESSAGE,
  snappyBlockLength,
} from '../../src/security/license-codec.js';
import { SecurityError, SecurityErrorCode } from '../../src/security/security-error.js';
import { V1_LICENSE, V1_LICENSE_EXPIRING, V2_LICENSE, V3_LICENSE } from './vectors.js';

const isCode = (code: SecurityErrorCode) => (error: unknown) =>
  error instanceof SecurityError && error.code === code;

test('V2 body with only a contract encodes as CSAAAJ3Q8NcDAAA:2 (Go TestLicenseEncode)', () => {
  const fields = {
    version: LicenseVersion.V2,
    key: new Uint8Array(0),
    salt: new Uint8Array(0),
    contract: 989603869,
    signature: 0,
    index: 0,
    expires: 0,
    type: 0,
  };
  assert.equal(encodeLicenseText(fields), 'CSAAAJ3Q8NcDAAA:2');
  assert.deepEqual(decodeLicenseText('CSAAAJ3Q8NcDAAA:2'), fields);
});

test('V1 encoding with and without an expiry (Go TestLicenseEncode)', () => {
  const fields = decodeLicenseText(V1_LICENSE_EXPIRING);
  assert.equal(fields.expires, 1600000000);
  assert.equal(fields.type, 2);
  assert.equal(encodeLicenseText(fields), V1_LICENSE_EXPIRING);
  assert.equal(encodeLicenseText({ ...fields, expires: 0 }), `${V1_LICENSE}:1`);
});

test('V1: no suffix and :1 read the same; extra bytes after 32 are ignored like Go', () => {
  assert.deepEqual(decodeLicenseText(V1_LICENSE), decodeLicenseText(`${V1_LICENSE}:1`));
  const longer = decodeLicenseText(`${V1_LICENSE}9`);
  assert.equal(longer.contract, 989603869);
  assert.equal(longer.type, 2);
});

test('V2 and V3 vectors decode to their key, salt and ids, and re-encode to the same text', () => {
  const v2 = decodeLicenseText(V2_LICENSE);
  assert.deepEqual(
    [v2.key.length, v2.salt.length, v2.contract, v2.signature, v2.index],
    [32, 24, 880063031, 2523191338, 1],
  );
  assert.equal(encodeLicenseText(v2), V2_LICENSE);
  const v3 = decodeLicenseText(V3_LICENSE);
  assert.deepEqual(
    [v3.key.length, v3.salt.length, v3.contract, v3.signature, v3.index],
    [32, 16, 0x11248139, 0x10062b50, 1],
  );
  assert.equal(encodeLicenseText(v3), V3_LICENSE);
});

test('strings shorter than 5 characters are "no licence"', () => {
  for (const text of ['', ':3', 'abcd']) {
    assert.throws(() => decodeLicenseText(text), isCode(SecurityErrorCode.LicenseMissing));
  }
  assert.throws(() => decodeLicenseText(''), { message: NO_LICENSE_MESSAGE });
  assert.match(NO_LICENSE_MESSAGE, /^No license was found, please provide a valid license key/);
});

test('malformed licences are LicenseInvalid (Go TestParseV2_Invalid, TestParseLicense)', () => {
  const cases = [
    '``````````:2',
    'xxxxxx:2',
    '``````````:3',
    'xxxxxx:3',
    `${V1_LICENSE}#`,
    V1_LICENSE.slice(0, 40),
    `${V3_LICENSE.slice(0, 40)}:3`,
    `${V3_LICENSE.slice(0, -6)}:3`,
    'AAAAAAAA:3',
  ];
  for (const text of cases)
    assert.throws(() => decodeLicenseText(text), isCode(SecurityErrorCode.LicenseInvalid), text);
});

test('snappyBlockLength accepts what snappyjs writes and refuses corrupt blocks', () => {
  const data = new TextEncoder().encode('abcdabcdabcdabcdabcdabcdabcdabcd-some literal tail');
  const block = compress(data);
  assert.equal(snappyBlockLength(block), data.length);
  // Header claims more than the elements produce (snappyjs would zero-fill silently).
  const short = Uint8Array.from([5, 0x08, 1, 2, 3]);
  assert.equal(snappyBlockLength(short), undefined);
  assert.equal(snappyBlockLength(Uint8Array.from([3, 0x08, 1, 2, 3])), 3);
  // A copy reaching before the start.
  assert.equal(snappyBlockLength(Uint8Array.from([8, 0x00, 1, 0x01, 0x05])), undefined);
  // Truncated literal and truncated copies.
  assert.equal(snappyBlockLength(Uint8Array.from([4, 0x0c, 1])), undefined);
  assert.equal(snappyBlockLength(Uint8Array.from([4, 0x00, 1, 0x02, 1])), undefined);
  assert.equal(snappyBlockLength(Uint8Array.from([])), undefined);
});
