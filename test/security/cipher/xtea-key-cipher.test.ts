import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XteaKeyCipher } from '../../../src/security/cipher/xtea-key-cipher.js';
import { decodeBase64Url } from '../../../src/security/base64.js';
import { SecurityError, SecurityErrorCode } from '../../../src/security/security-error.js';
import { V1_KEYS, V1_LICENSE, vectorKey } from '../vectors.js';

const cipher = new XteaKeyCipher(decodeBase64Url(V1_LICENSE).subarray(0, 16));

test('every V1 key of licence zT83... decrypts to contract 989603869 and re-encrypts identically', () => {
  for (const [name, text] of Object.entries(V1_KEYS)) {
    const key = cipher.decrypt(text);
    assert.equal(key.contract, 989603869, name);
    assert.equal(key.masterId, 1, name);
    assert.equal(key.signature, 0, name);
    assert.equal(cipher.encrypt(key), text, name);
  }
});

test('the salt whitening makes two salts give unrelated texts, and round trips', () => {
  const a = cipher.encrypt(vectorKey(111));
  const b = cipher.encrypt(vectorKey(333));
  assert.notEqual(a, b);
  assert.ok(cipher.decrypt(a).equals(vectorKey(111)));
  assert.ok(cipher.decrypt(b).equals(vectorKey(333)));
});

test('malformed key texts throw a KeyInvalid SecurityError (Go: "" and a * character)', () => {
  for (const text of ['', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa*', 'short']) {
    assert.throws(
      () => cipher.decrypt(text),
      (error: unknown) => error instanceof SecurityError && error.code === SecurityErrorCode.KeyInvalid,
    );
  }
});

test('the cipher needs a 16-byte key', () => {
  assert.throws(() => new XteaKeyCipher(new Uint8Array(32)), RangeError);
  assert.equal(cipher.name, 'xtea');
});
