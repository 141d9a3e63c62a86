import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ShuffleKeyCipher } from '../../../src/security/cipher/shuffle-key-cipher.js';
import { SecurityError, SecurityErrorCode } from '../../../src/security/security-error.js';
import { SHUFFLE_ZERO_VECTOR, vectorKey } from '../vectors.js';

const zero = new ShuffleKeyCipher(new Uint8Array(32), new Uint8Array(16));

test('Shuffle with a zero key and salt gives A-dOBQ... (Go Test_Shuffled) and decrypts back', () => {
  assert.equal(zero.encrypt(vectorKey()), SHUFFLE_ZERO_VECTOR);
  assert.ok(zero.decrypt(SHUFFLE_ZERO_VECTOR).equals(vectorKey()));
});

test('the key salt stays in clear in the first two bytes', () => {
  const text = zero.encrypt(vectorKey(0x1234));
  const raw = Buffer.from(text, 'base64url');
  assert.deepEqual([raw[0], raw[1]], [0x12, 0x34]);
});

test('entropy: two salts give texts differing in more than 20 characters (Go TestShuffled_Entropy)', () => {
  for (let round = 0; round < 20; round++) {
    const cipher = new ShuffleKeyCipher(new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(16)));
    const k1 = cipher.encrypt(vectorKey(111));
    const k2 = cipher.encrypt(vectorKey(333));
    let diff = 0;
    for (let i = 0; i < k1.length; i++) if (k1[i] !== k2[i]) diff++;
    assert.ok(diff > 20, `only ${diff} characters differ`);
    assert.ok(cipher.decrypt(k1).equals(vectorKey(111)));
  }
});

test('Shuffle errors: empty and * input (Go Test_Shuffled_Errors)', () => {
  for (const text of ['', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa*']) {
    assert.throws(
      () => zero.decrypt(text),
      (error: unknown) => error instanceof SecurityError && error.code === SecurityErrorCode.KeyInvalid,
    );
  }
});

test('Shuffle needs a 32-byte key and a 16-byte salt (Go TestNewShuffled)', () => {
  assert.throws(() => new ShuffleKeyCipher(new Uint8Array(0), new Uint8Array(0)), RangeError);
  assert.throws(() => new ShuffleKeyCipher(new Uint8Array(32), new Uint8Array(24)), RangeError);
  assert.equal(zero.name, 'shuffle');
});
