/**
 * The security layer: licences v1/v2/v3 and their key ciphers, channel keys and permissions, and the
 * key authority the services authorise with.
 */

export {
  KeyAuthority,
  type AuthorizeOptions,
  type CreateKeyRequest,
  type CreatedKey,
  type KeygenRequest,
  type KeyAuthorityOptions,
} from './authority.js';
export { ChannelKey, encodeTarget, KEY_EPOCH, MAX_TARGET_LEVELS, type TargetEncoding } from './key.js';
export { License, parseLicense, generateLicense, MASTER_ID } from './license.js';
export { LicenseVersion, NO_LICENSE_MESSAGE, type LicenseFields } from './license-codec.js';
export { formatPermissions, parsePermissions, Permission } from './permissions.js';
export { SecurityError, SecurityErrorCode } from './security-error.js';
export { decodeKeyText, encodeKeyText, KEY_LENGTH, KEY_TEXT_LENGTH } from './base64.js';
export { ShuffleKeyCipher, XSalsa20KeyCipher, XteaKeyCipher, type KeyCipher } from './cipher/index.js';
