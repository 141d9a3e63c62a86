/**
 * Emitter licences: which contract the broker serves, the secret its keys are signed with, and the
 * cipher that turns keys into text. V1, V2 and V3 all parse so that existing keys keep working; new
 * licences are V3, as in Emitter.
 */

import { randomBytes, randomInt } from 'node:crypto';
import { ShuffleKeyCipher } from './cipher/shuffle-key-cipher.js';
import type { KeyCipher } from './cipher/key-cipher.js';
import { XSalsa20KeyCipher } from './cipher/xsalsa20-key-cipher.js';
import { XteaKeyCipher } from './cipher/xtea-key-cipher.js';
import { ChannelKey } from './key.js';
import { decodeLicenseText, encodeLicenseText, LicenseVersion, type LicenseFields } from './license-codec.js';
import { Permission } from './permissions.js';
import { SecurityError, SecurityErrorCode } from './security-error.js';

/** The master index of the secret key; Emitter's single-contract provider accepts only 1. */
export const MASTER_ID = 1;
/** Key salts are drawn from [0, 32767), as Go's `rand.Int(math.MaxInt16)` does. */
const SALT_LIMIT = 0x7fff;

/** Draws a key salt. */
export function randomSalt(): number {
  return randomInt(0, SALT_LIMIT);
}

function cipherOf(fields: LicenseFields): KeyCipher {
  switch (fields.version) {
    case LicenseVersion.V1:
      return new XteaKeyCipher(fields.key);
    case LicenseVersion.V2:
      return new XSalsa20KeyCipher(fields.key, fields.salt);
    case LicenseVersion.V3:
      return new ShuffleKeyCipher(fields.key, fields.salt);
  }
}

/** A parsed licence: contract, signature and the key cipher of its version. */
export class License {
  readonly version: LicenseVersion;
  readonly contract: number;
  readonly signature: number;
  /** The licence's master index (`Index` in V2/V3; 1 for V1). */
  readonly masterId: number;
  /** V1 only: expiry in unix seconds or 0; Emitter never enforces it, nor do we. */
  readonly expires: number;
  readonly cipher: KeyCipher;
  readonly #fields: LicenseFields;

  /** Builds a licence from its fields; throws a `SecurityError` when the cipher material has the wrong size. */
  constructor(fields: LicenseFields) {
    try {
      this.cipher = cipherOf(fields);
    } catch (error) {
      throw new SecurityError(SecurityErrorCode.LicenseInvalid, `license: ${(error as Error).message}`);
    }
    this.#fields = { ...fields, key: Uint8Array.from(fields.key), salt: Uint8Array.from(fields.salt) };
    this.version = fields.version;
    this.contract = fields.contract;
    this.signature = fields.signature;
    this.masterId = fields.index;
    this.expires = fields.expires;
  }

  /** The licence text with its version suffix (`...:1`, `...:2`, `...:3`). */
  toString(): string {
    return encodeLicenseText(this.#fields);
  }

  /** A new secret key for this licence (permissions exactly master, master id 1, fresh salt), encrypted. */
  newMasterKey(): string {
    const key = new ChannelKey();
    key.salt = randomSalt();
    key.masterId = MASTER_ID;
    key.contract = this.contract;
    key.signature = this.signature;
    key.permissions = Permission.Master;
    return this.cipher.encrypt(key);
  }
}

/** Parses a licence of any version (spec 3.1); throws a `SecurityError` when it is missing or invalid. */
export function parseLicense(text: string): License {
  return new License(decodeLicenseText(text));
}

/** A new V3 licence with random key, salt, contract and signature, and its text. */
export function generateLicense(): { license: License; text: string } {
  const ids = randomBytes(8);
  const license = new License({
    version: LicenseVersion.V3,
    key: randomBytes(32),
    salt: randomBytes(16),
    contract: ids.readUInt32BE(0),
    signature: ids.readUInt32BE(4),
    index: MASTER_ID,
    expires: 0,
    type: 0,
  });
  return { license, text: license.toString() };
}
