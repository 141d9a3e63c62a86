import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  decodeBase64Url,
  decodeKeyText,
  encodeBase64Url,
  encodeKeyText,
  KEY_LENGTH,
} from '../../src/security/base64.js';
import { SecurityError, SecurityErrorCode } from '../../src/security/security-error.js';

const isCode = (code: SecurityErrorCode) => (error: unknown) =>
  error instanceof SecurityError && error.code === code;

test('decodeKeyText matches base64url for a real key (Go TestBase64Decode)', () => {
  const text = '0TJnt4yZPL73zt35h1UTIFsYBLetyD_g';
  const bytes = decodeKeyText(text);
  assert.equal(bytes.length, KEY_LENGTH);
  assert.deepEqual(Buffer.from(bytes), Buffer.from(text, 'base64url'));
  assert.equal(encodeKeyText(bytes), text);
});

test('key text round trips for random keys', () => {
  for (let i = 0; i < 200; i++) {
    const bytes = new Uint8Array(randomBytes(KEY_LENGTH));
    const text = encodeKeyText(bytes);
    assert.equal(text.length, 32);
    assert.doesNotMatch(text, /[=+/]/);
    assert.deepEqual(decodeKeyText(text), bytes);
  }
});

test('decodeKeyText wants exactly 32 characters', () => {
  for (const text of ['', 'a', 'a'.repeat(31), 'a'.repeat(33), 'a'.repeat(44)]) {
    assert.throws(() => decodeKeyText(text), isCode(SecurityErrorCode.KeyInvalid), `length ${text.length}`);
  }
  assert.throws(() => decodeKeyText(''), { message: 'cipher: the key provided is not valid' });
});

test('decodeKeyText rejects characters outside the URL alphabet, where Buffer would skip them', () => {
  for (const bad of ['*', '+', '/', '=', ' ', '\n', 'é', '\u0000']) {
    const text = 'a'.repeat(31) + bad;
    assert.throws(() => decodeKeyText(text), isCode(SecurityErrorCode.KeyInvalid), JSON.stringify(bad));
  }
  assert.throws(() => decodeKeyText('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa*'), {
    message: 'illegal base64 data at input byte 31',
  });
  assert.throws(() => decodeKeyText('*'.repeat(32)), { message: 'illegal base64 data at input byte 0' });
});

test('encodeKeyText refuses anything but 24 bytes', () => {
  assert.throws(() => encodeKeyText(new Uint8Array(23)), RangeError);
});

test('decodeBase64Url handles every tail length and matches Buffer on valid input', () => {
  for (let length = 0; length < 40; length++) {
    const bytes = new Uint8Array(randomBytes(length));
    const text = encodeBase64Url(bytes);
    assert.deepEqual(decodeBase64Url(text), bytes, `length ${length}`);
  }
});

test('decodeBase64Url is strict: no padding, no foreign characters, no impossible length', () => {
  for (const text of ['QQ==', 'QQ=', 'Q', 'QUJDR', 'QU JD', 'QU+D', 'QU/D', 'QUJD\n']) {
    assert.throws(
      () => decodeBase64Url(text),
      isCode(SecurityErrorCode.LicenseInvalid),
      JSON.stringify(text),
    );
  }
});

test('decodeBase64Url ignores unused low bits of the last character, like Go RawURLEncoding', () => {
  // 'QR' and 'QQ' differ only in bits that do not reach a byte.
  assert.deepEqual(decodeBase64Url('QR'), decodeBase64Url('QQ'));
});
