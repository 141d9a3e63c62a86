/** Checks a message before a provider stores it, so a bad one fails alone rather than its whole batch. */

import { MESSAGE_ID_LENGTH, type StoredMessage } from './message.js';
import { StorageError, StorageErrorCode } from './storage-error.js';

/** Throws a `StorageError` (InvalidMessage) unless the message has a 16-byte id and an SSID of uint32s with a level. */
export function checkMessage(message: StoredMessage): void {
  const { ssid, id, payload } = message;
  if (!Buffer.isBuffer(id) || id.length !== MESSAGE_ID_LENGTH) fail('the id is not a 16-byte message id');
  if (!Buffer.isBuffer(payload)) fail('the payload is not a Buffer');
  if (ssid.length < 2) fail('the SSID needs a contract and at least one channel level');
  for (let i = 0; i < ssid.length; i++) {
    const value = ssid[i];
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      fail(`SSID element ${i} is not an unsigned 32-bit integer`);
    }
  }
  if (!Number.isSafeInteger(message.expires) || message.expires < 0)
    fail('expires must be unix seconds or 0');
}

function fail(reason: string): never {
  throw new StorageError(StorageErrorCode.InvalidMessage, `cannot store message: ${reason}`);
}
