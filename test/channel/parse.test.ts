import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashLevel } from '../../src/channel/hash.js';
import {
  ChannelKind,
  channelWithOptions,
  normalizeSubscribeTopic,
  parseChannel,
} from '../../src/channel/parse.js';

const KEY = '0TJnt4yZPL73zt35h1UTIFsYBLetyD_g';

test('spec 2.1 valid examples parse with their kind, key and channel', () => {
  const cases: Array<[string, string, string, ChannelKind]> = [
    ['emitter/a/', 'emitter', 'a/', ChannelKind.Static],
    ['emitter/a/b/c/', 'emitter', 'a/b/c/', ChannelKind.Static],
    ['emitter/test-channel/', 'emitter', 'test-channel/', ChannelKind.Static],
    ['emitter/test-channel/+/and-more/', 'emitter', 'test-channel/+/and-more/', ChannelKind.Wildcard],
    ['emitter/a/-/x/', 'emitter', 'a/-/x/', ChannelKind.Static],
    ['emitter/a/b/c/d/', 'emitter', 'a/b/c/d/', ChannelKind.Static],
    ['emitter/a/b/c/+/', 'emitter', 'a/b/c/+/', ChannelKind.Wildcard],
    ['emitter/a/+/c/+/', 'emitter', 'a/+/c/+/', ChannelKind.Wildcard],
    ['emitter/b/+/', 'emitter', 'b/+/', ChannelKind.Wildcard],
    ['emitter/a/#/', 'emitter', 'a/#/', ChannelKind.Wildcard],
    ['emitter/a/*/', 'emitter', 'a/*/', ChannelKind.Wildcard],
    [`${KEY}/emitter/?test=true&something=7`, KEY, 'emitter/', ChannelKind.Static],
    ['emitter/a/b/c/d/?test=true&something=7', 'emitter', 'a/b/c/d/', ChannelKind.Static],
    ['emitter/a/b/c/d/?req=13&something=7', 'emitter', 'a/b/c/d/', ChannelKind.Static],
    ['k/$share/group/a/', 'k', '$share/group/a/', ChannelKind.Static],
    ['k/A-Z.az:09[\\]^_`/', 'k', 'A-Z.az:09[\\]^_`/', ChannelKind.Static],
    ['k@y?#/a/', 'k@y?#', 'a/', ChannelKind.Static], // the key may hold any byte but '/'
  ];
  for (const [topic, key, channel, kind] of cases) {
    const parsed = parseChannel(topic);
    assert.equal(parsed.kind, kind, topic);
    assert.equal(parsed.key, key, topic);
    assert.equal(parsed.channel, channel, topic);
  }
});

test('spec 2.1 invalid examples are rejected', () => {
  const invalid = [
    '',
    'emitter',
    'emitter/',
    '/a/',
    'emitter/a',
    'emitter/a/b/c',
    'emitter/a//b/',
    'emitter/a//////b/c',
    'emitter/*',
    'emitter/+',
    'emitter/a/+',
    'emitter/b/+',
    'emitter/b/*+/',
    'emitter/b/+a/',
    'emitter/b/a+/',
    'emitter/b/##/',
    'emitter/a/@/x/',
    'emitter/a b/',
    'emitter/a%20/',
    'emitter/a?b/',
    'emitter/é/',
    'emitter/a/\u0000/',
    'emitter//',
    'emitter///',
    'emitter/a//',
    'emitter/?a=1',
    'emitter/a/?=true',
    'emitter/a/?test=',
    'emitter/a/?test',
    'emitter/a/b/c/d/?test==true',
    'emitter/a/b/c/d/?te_st==true',
    'emitter/a/b/c/d/?test=true&something=7&more=_',
    'emitter/a/?ttl=-1',
    'emitter/a/?a=b_c',
    'emitter/a/?a=1&&b=2',
    'emitter/a/?&a=1',
    'emitter/a/?&',
    'emitter/a/?a=1&b',
    'emitter/a/?a=1/',
    'emitter/a/??a=1',
  ];
  for (const topic of invalid) {
    const parsed = parseChannel(topic);
    assert.equal(parsed.kind, ChannelKind.Invalid, JSON.stringify(topic));
    assert.equal(parsed.channel, '');
    assert.deepEqual(parsed.levels, []);
  }
});

test('levels and query hold each level and its hash', () => {
  const parsed = parseChannel('key/a/b/c/');
  assert.deepEqual(parsed.levels, ['a', 'b', 'c']);
  assert.deepEqual(parsed.query, [3238259379, 500706888, 1027807523]);
  const wild = parseChannel('key/a/+/#/*/');
  assert.deepEqual(wild.levels, ['a', '+', '#', '*']);
  assert.deepEqual(wild.query, [3238259379, 1815237614, 4285801373, hashLevel('*')]);
  // Emitter's channel test: the first level of a share channel is $share.
  assert.equal(parseChannel('emitter/$share/a/b/c/').query[0], 1480642916);
  assert.equal(parseChannel('emitter/a/?ttl=42&abc=9').query[0], 0xc103eab3);
});

test('options: raw text kept verbatim, bare ? and trailing & accepted (Decision 13)', () => {
  const bare = parseChannel('key/a/?');
  assert.equal(bare.kind, ChannelKind.Static);
  assert.equal(bare.channel, 'a/');
  assert.equal(bare.rawOptions, '');
  assert.deepEqual(bare.options, {});

  const trailing = parseChannel('key/a/b/?ttl=5&');
  assert.equal(trailing.kind, ChannelKind.Static);
  assert.equal(trailing.rawOptions, 'ttl=5&');
  assert.equal(trailing.options.ttl, 5);

  const unknown = parseChannel('key/a/?req=13&ttl=30&x=y');
  assert.equal(unknown.rawOptions, 'req=13&ttl=30&x=y');
  assert.deepEqual(unknown.options, { ttl: 30 });

  const none = parseChannel('key/a/');
  assert.equal(none.rawOptions, '');
  assert.deepEqual(none.options, {});
});

test('options are parsed per spec 2.2', () => {
  const cases: Array<[string, Record<string, number>]> = [
    ['ttl=42&abc=9', { ttl: 42 }],
    ['ttl=1200', { ttl: 1200 }],
    ['ttl=1200a', {}],
    ['ttl=0x10', {}],
    ['ttl=007', { ttl: 7 }],
    ['last=42&abc=9', { last: 42 }],
    ['last=0', { last: 0 }],
    ['last=1200a', {}],
    ['me=0', { me: 0 }],
    ['me=1', { me: 1 }],
    ['me=12000000', { me: 12000000 }],
    ['me=1200a', {}],
    ['ttl=5&ttl=6', { ttl: 5 }], // only the first occurrence counts...
    ['ttl=x&ttl=6', {}], // ...even when it does not parse
    ['from=42&abc=9', {}],
    ['from=1200&until=2550', {}],
    ['from=1514764800&until=1514764900', { from: 1514764800, until: 1514764900 }],
    ['from=1514764800&until=3029529610', { from: 1514764800 }],
    ['until=3029529600', { until: 3029529600 }],
    ['from=1514764799', {}],
    ['from=1514764900&until=1514764800', { from: 1514764900, until: 1514764800 }],
    ['ttl=9223372036854775807', { ttl: Number(9223372036854775807n) }],
    ['ttl=9223372036854775808', {}], // beyond int64, like Go's ParseInt
    ['last=99999999999999999999999', {}],
    ['TTL=5&Me=0', {}], // option names are case-sensitive
    [
      'ttl=5&last=3&me=0&from=1600000000&until=1700000000',
      {
        ttl: 5,
        last: 3,
        me: 0,
        from: 1600000000,
        until: 1700000000,
      },
    ],
  ];
  for (const [raw, expected] of cases) {
    const parsed = parseChannel(`key/a/?${raw}`);
    assert.equal(parsed.kind, ChannelKind.Static, raw);
    assert.deepEqual({ ...parsed.options }, expected, raw);
  }
});

test('channelWithOptions writes options back as Emitter does', () => {
  assert.equal(channelWithOptions(parseChannel('key/a/b/')), 'a/b/');
  assert.equal(channelWithOptions(parseChannel('key/a/b/?')), 'a/b/');
  assert.equal(channelWithOptions(parseChannel('key/a/b/?ttl=5&')), 'a/b/?ttl=5');
  assert.equal(channelWithOptions(parseChannel('key/a/?last=42&abc=9')), 'a/?last=42&abc=9');
});

test('normalizeSubscribeTopic follows spec 2.5', () => {
  const cases: Array<[string, string]> = [
    ['KEY/a/#', 'KEY/a/#/'],
    ['KEY/a/#/', 'KEY/a/#/'],
    ['KEY/a/#?last=5', 'KEY/a/#/?last=5'],
    ['KEY/a/#/?last=5', 'KEY/a/#/?last=5'],
    ['KEY//a/', 'KEY/a/'],
    ['KEY/#', 'KEY/#/'],
    ['KEY/a/b/', 'KEY/a/b/'],
    ['KEY/a///b/', 'KEY/a//b/'], // one left-to-right pass, like Go's bytes.ReplaceAll
  ];
  for (const [input, expected] of cases) assert.equal(normalizeSubscribeTopic(input), expected, input);
  const untouched = 'KEY/a/b/?ttl=5';
  assert.equal(normalizeSubscribeTopic(untouched), untouched);
});

test('Decision 12: SUBSCRIBE KEY/a/# and UNSUBSCRIBE KEY/a/#/ name one subscription', () => {
  const subscribed = parseChannel(normalizeSubscribeTopic('KEY/a/#'));
  const unsubscribed = parseChannel('KEY/a/#/');
  assert.equal(subscribed.kind, ChannelKind.Wildcard);
  assert.equal(unsubscribed.kind, ChannelKind.Wildcard);
  assert.equal(subscribed.channel, 'a/#/');
  assert.deepEqual(subscribed.query, unsubscribed.query);
  // Normalising the UNSUBSCRIBE topic as well changes nothing for either spelling.
  assert.deepEqual(parseChannel(normalizeSubscribeTopic('KEY/a/#/')).query, subscribed.query);
  // Without normalisation the paho spelling stays invalid, as in Emitter.
  assert.equal(parseChannel('KEY/a/#').kind, ChannelKind.Invalid);
  const withOptions = parseChannel(normalizeSubscribeTopic('KEY/a/#?last=5'));
  assert.equal(withOptions.channel, 'a/#/');
  assert.equal(withOptions.options.last, 5);
});

test('parseChannel never throws on arbitrary input', () => {
  let seed = 42;
  const alphabet = 'ab/+#*?=&$-_ é\u0000:@';
  for (let n = 0; n < 2000; n++) {
    let topic = '';
    const length = n % 24;
    for (let i = 0; i < length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      topic += alphabet[seed % alphabet.length];
    }
    const parsed = parseChannel(topic);
    if (parsed.kind !== ChannelKind.Invalid) {
      assert.ok(parsed.channel.endsWith('/'), topic);
      assert.equal(parsed.levels.length, parsed.query.length);
    }
  }
});
