import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPermissions, parsePermissions, Permission } from '../../src/security/permissions.js';

test('permission bits are those of the Go broker', () => {
  assert.deepEqual(
    [Permission.Master, Permission.Read, Permission.Write, Permission.Store, Permission.Load],
    [1, 2, 4, 8, 16],
  );
  assert.deepEqual(
    [Permission.Presence, Permission.Extend, Permission.Execute, Permission.All],
    [32, 64, 128, 254],
  );
});

test('parsePermissions reads keygen letters (Go requests_test: rwslpex is 254)', () => {
  assert.equal(parsePermissions('rwslpex'), 254);
  assert.equal(parsePermissions('rw'), 6);
  assert.equal(parsePermissions('rwslpe'), 0x7e);
  assert.equal(parsePermissions('rsp'), 0x2a);
  assert.equal(parsePermissions(''), 0);
});

test('parsePermissions ignores unknown characters, repeats and order; m is not a letter', () => {
  assert.equal(parsePermissions('m'), 0);
  assert.equal(parsePermissions('mrw'), 6);
  assert.equal(parsePermissions('wwr?!R W'), 6);
  assert.equal(parsePermissions('xepls wr'), 254);
});

test('formatPermissions writes letters in rwslpex order and has no letter for master', () => {
  assert.equal(formatPermissions(254), 'rwslpex');
  assert.equal(formatPermissions(0x7e), 'rwslpe');
  assert.equal(formatPermissions(Permission.Master), '');
  assert.equal(formatPermissions(Permission.Master | Permission.Read), 'r');
  for (let bits = 0; bits < 256; bits += 2) assert.equal(parsePermissions(formatPermissions(bits)), bits);
});
