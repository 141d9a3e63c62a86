/**
 * The MQTT 5 PUBLISH properties a message keeps beyond one connection (stored, queued, sent to another
 * cluster node), as their wire encoding: the property block of a PUBLISH without its length prefix. It
 * is compact (a few bytes per property), encoded once per message and decoded only when the message
 * goes to a v5 client again. Topic Alias and Subscription Identifier are left out: they belong to one
 * connection and one subscription.
 */

import type { PublishProperties } from './delivery.js';
import { readPublishProperties } from './decode-publish.js';

const PAYLOAD_FORMAT = 0x01;
const MESSAGE_EXPIRY = 0x02;
const CONTENT_TYPE = 0x03;
const RESPONSE_TOPIC = 0x08;
const CORRELATION_DATA = 0x09;
const USER_PROPERTY = 0x26;

/**
 * The property block of `properties` (without Topic Alias and Subscription Identifier), or undefined
 * when nothing is left to keep. User properties keep their order and repeated names.
 */
export function encodePublishProperties(properties: PublishProperties | undefined): Buffer | undefined {
  if (properties === undefined) return undefined;
  const { payloadFormatIndicator, messageExpiryInterval, contentType, responseTopic, correlationData } =
    properties;
  const users = properties.userProperties;
  let size = 0;
  if (payloadFormatIndicator !== undefined) size += 2;
  if (messageExpiryInterval !== undefined) size += 5;
  if (contentType !== undefined) size += 3 + Buffer.byteLength(contentType);
  if (responseTopic !== undefined) size += 3 + Buffer.byteLength(responseTopic);
  if (correlationData !== undefined) size += 3 + correlationData.length;
  if (users !== undefined) {
    for (const name of Object.keys(users)) {
      const nameSize = 5 + Buffer.byteLength(name);
      for (const value of valuesOf(users[name])) size += nameSize + Buffer.byteLength(value);
    }
  }
  if (size === 0) return undefined;
  const block = Buffer.allocUnsafe(size);
  let at = 0;
  const string = (text: string): void => {
    const length = block.write(text, at + 2, 'utf8');
    block.writeUInt16BE(length, at);
    at += 2 + length;
  };
  if (payloadFormatIndicator !== undefined) {
    block[at++] = PAYLOAD_FORMAT;
    block[at++] = payloadFormatIndicator ? 1 : 0;
  }
  if (messageExpiryInterval !== undefined) {
    block[at++] = MESSAGE_EXPIRY;
    at = block.writeUInt32BE(messageExpiryInterval >>> 0, at);
  }
  if (contentType !== undefined) {
    block[at++] = CONTENT_TYPE;
    string(contentType);
  }
  if (responseTopic !== undefined) {
    block[at++] = RESPONSE_TOPIC;
    string(responseTopic);
  }
  if (correlationData !== undefined) {
    block[at++] = CORRELATION_DATA;
    at = block.writeUInt16BE(correlationData.length, at);
    at += correlationData.copy(block, at);
  }
  if (users !== undefined) {
    for (const name of Object.keys(users)) {
      for (const value of valuesOf(users[name])) {
        block[at++] = USER_PROPERTY;
        string(name);
        string(value);
      }
    }
  }
  return block;
}

/** The properties of a block made by `encodePublishProperties` (or any PUBLISH property block). */
export function decodePublishProperties(block: Buffer): PublishProperties | Error {
  return readPublishProperties(block, 0, block.length) as PublishProperties | Error;
}

function valuesOf(value: string | string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
