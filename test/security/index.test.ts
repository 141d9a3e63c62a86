import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errors } from '../../src/errors.js';
import {
  ChannelKey,
  generateLicense,
  KeyAuthority,
  parseLicense,
  Permission,
} from '../../src/security/index.js';

test('the public entry serves the broker flow: licence, secret, keygen, authorise', () => {
  const { license, text } = generateLicense();
  const authority = new KeyAuthority(parseLicense(text));
  const created = authority.keygen(
    { key: license.newMasterKey(), channel: 'ok/', type: 'rw', ttl: 0 },
    'conn',
  );
  assert.ok(!(created instanceof Error));
  assert.ok(
    authority.authorize(created.key, 'ok/', Permission.Write, { rejectExtend: true }) instanceof ChannelKey,
  );
});

test('a key built by hand with another licence is refused (as the integration suite does it)', () => {
  const server = new KeyAuthority(generateLicense().license);
  const other = generateLicense().license;
  const foreign = new ChannelKey();
  foreign.masterId = 1;
  foreign.contract = other.contract;
  foreign.signature = other.signature;
  foreign.permissions = Permission.Read | Permission.Write;
  foreign.setTarget('ok/');
  assert.equal(server.authorize(other.cipher.encrypt(foreign), 'ok/', Permission.Write), Errors.Unauthorized);
});
