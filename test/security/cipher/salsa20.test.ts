import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  hsalsa20,
  salsa20Block,
  salsa20XorKeyStream,
  SALSA20_BLOCK,
  xsalsa20Xor,
} from '../../../src/security/cipher/salsa20.js';

const hex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

// NaCl's own tests (core1, core2, stream, stream3): the Curve25519 shared secret of the box example.
const SHARED = hex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
const FIRST_KEY = hex('1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389');
const NONCE = hex('69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37');

test('HSalsa20 matches NaCl core1 and core2', () => {
  assert.equal(toHex(hsalsa20(new Uint8Array(16), SHARED)), toHex(FIRST_KEY));
  assert.equal(
    toHex(hsalsa20(NONCE.subarray(0, 16), FIRST_KEY)),
    'dc908dda0b9344a953629b733820778880f3ceb421bb61b91cbd4c3e66256ce4',
  );
});

test('XSalsa20 matches NaCl stream (4 MiB, sha256) and stream3 (first 32 bytes)', () => {
  const out = new Uint8Array(4_194_304);
  xsalsa20Xor(out, new Uint8Array(out.length), NONCE, FIRST_KEY);
  assert.equal(
    toHex(out.subarray(0, 32)),
    'eea6a7251c1e72916d11c2cb214d3c252539121d8e234e652d651fa4c8cff880',
  );
  assert.equal(
    createHash('sha256').update(out).digest('hex'),
    '662b9d0e3463029156069b12f918691a98f7dfb2ca0393c96bbfc6b1fbd630a2',
  );
});

test('XOR with the keystream is its own inverse, in place and across block boundaries', () => {
  const key = new Uint8Array(randomBytes(32));
  const counter = new Uint8Array(randomBytes(16));
  for (const length of [0, 1, 22, 63, 64, 65, 200]) {
    const plain = new Uint8Array(randomBytes(length));
    const data = Uint8Array.from(plain);
    salsa20XorKeyStream(data, data, counter, key);
    if (length > 8) assert.notDeepEqual(data, plain);
    salsa20XorKeyStream(data, data, counter, key);
    assert.deepEqual(data, plain, `length ${length}`);
  }
});

test('the keystream starts at the given counter and carries through all 64 bits', () => {
  const key = new Uint8Array(randomBytes(32));
  const input = new Uint8Array(16);
  input.set(randomBytes(8));
  input.fill(0xff, 8);
  const stream = new Uint8Array(2 * SALSA20_BLOCK);
  salsa20XorKeyStream(stream, new Uint8Array(stream.length), input, key);
  const first = new Uint8Array(SALSA20_BLOCK);
  salsa20Block(first, input, key);
  assert.deepEqual(stream.subarray(0, SALSA20_BLOCK), first);
  // 0xffff...ff + 1 wraps to 0, as Go's byte-wise carry does.
  const wrapped = Uint8Array.from(input).fill(0, 8);
  const second = new Uint8Array(SALSA20_BLOCK);
  salsa20Block(second, wrapped, key);
  assert.deepEqual(stream.subarray(SALSA20_BLOCK), second);
  assert.equal(input[8], 0xff, 'the caller counter is not modified');
});

test('the primitives check their sizes', () => {
  assert.throws(() => hsalsa20(new Uint8Array(15), new Uint8Array(32)), RangeError);
  assert.throws(() => hsalsa20(new Uint8Array(16), new Uint8Array(31)), RangeError);
  assert.throws(
    () => xsalsa20Xor(new Uint8Array(1), new Uint8Array(1), new Uint8Array(16), new Uint8Array(32)),
    RangeError,
  );
  assert.throws(
    () => salsa20XorKeyStream(new Uint8Array(1), new Uint8Array(2), new Uint8Array(16), new Uint8Array(32)),
    RangeError,
  );
});
