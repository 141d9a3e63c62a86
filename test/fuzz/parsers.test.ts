import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { ChannelKind, normalizeSubscribeTopic, parseChannel } from '../../src/channel/index.js';
import { EmitterError } from '../../src/errors.js';
import { MqttConnection } from '../../src/mqtt/index.js';
import { generateLicense, KeyAuthority, Permission } from '../../src/security/index.js';
import { parseHistoryRequest } from '../../src/services/history/wire.js';
import { parseKeyBanRequest } from '../../src/services/keyban/wire.js';
import { parseKeygenRequest } from '../../src/services/keygen/wire.js';
import { parseLinkRequest } from '../../src/services/link/wire.js';
import { parsePresenceRequest } from '../../src/services/presence/wire.js';

// Bounded runs for CI; `FUZZ_RUNS=100000 npm run fuzz` goes longer.
const runs = Number(process.env.FUZZ_RUNS ?? 2000);
const topicChars = fc.constantFrom(...'ab/+#*?=&$_-.:é \u0000'.split(''));
const topics = fc.oneof(fc.string(), fc.string({ unit: topicChars, maxLength: 80 }));

test('parseChannel never throws, and a valid channel ends with / and has no empty level', () => {
  fc.assert(
    fc.property(topics, (topic) => {
      for (const input of [topic, normalizeSubscribeTopic(topic)]) {
        const parsed = parseChannel(input);
        if (parsed.kind === ChannelKind.Invalid) continue;
        assert.ok(parsed.channel.endsWith('/'));
        assert.ok(!parsed.channel.includes('//'));
        assert.equal(parsed.levels.length, parsed.query.length);
      }
    }),
    { numRuns: runs },
  );
});

test('key decoding and authorisation never throw and never authorise random keys', () => {
  const authority = new KeyAuthority(generateLicense().license);
  const keyText = fc.oneof(
    fc.string(),
    fc.string({ minLength: 32, maxLength: 32, unit: fc.constantFrom(...'ABCxyz019-_'.split('')) }),
  );
  fc.assert(
    fc.property(keyText, topics, (key, channel) => {
      authority.decrypt(key);
      const result = authority.authorize(key, channel, Permission.Read);
      assert.ok(result instanceof EmitterError);
    }),
    { numRuns: runs },
  );
});

test('every JSON request parser takes any bytes and any JSON without throwing', () => {
  const parsers = [
    parseKeygenRequest,
    parsePresenceRequest,
    parseLinkRequest,
    parseKeyBanRequest,
    parseHistoryRequest,
  ];
  const payloads = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
    fc
      .record({
        key: fc.anything(),
        channel: fc.anything(),
        type: fc.anything(),
        ttl: fc.anything(),
        name: fc.anything(),
      })
      .map((value) => Buffer.from(JSON.stringify(value) ?? '{}')),
  );
  fc.assert(
    fc.property(payloads, (payload) => {
      for (const parse of parsers) parse(payload);
    }),
    { numRuns: runs },
  );
});

test('the MQTT connection survives random bytes: it either parses them or closes, never throws', () => {
  const connect = Buffer.from('101000044d5154540402003c0004746573740000', 'hex').subarray(0, 18);
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
      fc.boolean(),
      (chunks, withConnect) => {
        const stream = new PassThrough();
        const connection = new MqttConnection(stream, { maxPacketSize: 4096, connectTimeout: 0 });
        connection.on('error', () => {});
        if (withConnect) stream.write(connect);
        for (const chunk of chunks) stream.write(Buffer.from(chunk));
        connection.destroy();
      },
    ),
    { numRuns: runs },
  );
});
