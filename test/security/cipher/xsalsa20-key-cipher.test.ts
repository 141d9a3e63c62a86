import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XSalsa20KeyCipher } from '../../../src/security/cipher/xsalsa20-key-cipher.js';
import { SecurityError, SecurityErrorCode } from '../../../src/security/security-error.js';
import { vectorKey, XSALSA20_ZERO_VECTOR } from '../vectors.js';

const zero = new XSalsa20KeyCipher(new Uint8Array(32), new Uint8Array(24));

test('XSalsa20 with a zero key and nonce gives uYkm3... (Go Test_Salsa) and decrypts back', () => {
  assert.equal(zero.encrypt(vectorKey()), XSALSA20_ZERO_VECTOR);
  const decoded = zero.decrypt(XSALSA20_ZERO_VECTOR);
  assert.ok(decoded.equals(vectorKey()));
  assert.equal(decoded.salt, 999);
  assert.equal(decoded.masterId, 2);
  assert.equal(decoded.contract, 123);
  assert.equal(decoded.signature, 777);
  assert.equal(decoded.expires, 1497683272);
});

test('XSalsa20 errors: empty and * input (Go Test_Salsa_Errors)', () => {
  for (const text of ['', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa*']) {
    assert.throws(
      () => zero.decrypt(text),
      (error: unknown) => error instanceof SecurityError && error.code === SecurityErrorCode.KeyInvalid,
    );
  }
});

test('XSalsa20 needs a 32-byte key and a 24-byte nonce', () => {
  assert.throws(() => new XSalsa20KeyCipher(new Uint8Array(0), new Uint8Array(0)), RangeError);
  assert.throws(() => new XSalsa20KeyCipher(new Uint8Array(32), new Uint8Array(16)), RangeError);
  assert.equal(zero.name, 'xsalsa20');
});
