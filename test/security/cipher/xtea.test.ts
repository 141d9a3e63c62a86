import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { xteaDecrypt, xteaEncrypt, xteaKey } from '../../../src/security/cipher/xtea.js';
import { decodeBase64Url } from '../../../src/security/base64.js';
import { V1_XTEA_WORDS } from '../vectors.js';

test('xteaKey reads big-endian words (Go TestNewXtea: zT83oDV0DWY5_JysbSTPTA)', () => {
  assert.deepEqual([...xteaKey(decodeBase64Url('zT83oDV0DWY5_JysbSTPTA'))], V1_XTEA_WORDS);
  assert.throws(() => xteaKey(new Uint8Array(15)), RangeError);
});

test('XTEA matches the reference test vector (zero key, zero block)', () => {
  // From the XTEA test vectors widely used for 32-cycle, big-endian implementations (e.g. Go's xtea package).
  const block = new Uint8Array(8);
  xteaEncrypt(block, new Uint32Array(4));
  assert.equal(Buffer.from(block).toString('hex'), 'dee9d4d8f7131ed9');
});

test('XTEA decrypt inverts encrypt, block by block', () => {
  const key = xteaKey(new Uint8Array(randomBytes(16)));
  const plain = new Uint8Array(randomBytes(24));
  const data = Uint8Array.from(plain);
  xteaEncrypt(data, key);
  assert.notDeepEqual(data, plain);
  // ECB: changing one block leaves the others alone.
  const other = Uint8Array.from(plain);
  other[20] ^= 1;
  xteaEncrypt(other, key);
  assert.deepEqual(other.subarray(0, 16), data.subarray(0, 16));
  xteaDecrypt(data, key);
  assert.deepEqual(data, plain);
});

test('XTEA only takes whole blocks (Go Test_Xtea_encrypt with 10 bytes)', () => {
  assert.throws(() => xteaEncrypt(new Uint8Array(10), new Uint32Array(4)), RangeError);
  assert.throws(() => xteaDecrypt(new Uint8Array(10), new Uint32Array(4)), RangeError);
});
