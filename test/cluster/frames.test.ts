import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeFrames,
  encodeFrameHeader,
  FrameBatch,
  FrameKind,
  type Frame,
} from '../../src/cluster/redis/frames.js';

const frameArbitrary = fc.record({
  kind: fc.constantFrom(FrameKind.Direct, FrameKind.Targeted),
  contract: fc.nat({ max: 0xffffffff }),
  levels: fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 40 }),
  storedId: fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 }), { nil: undefined }),
  target: fc.stringMatching(/^[A-Z2-7]{0,26}$/),
  packet: fc.uint8Array({ maxLength: 300 }),
  qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
  properties: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }),
  publishedRetain: fc.boolean(),
});

test('frames: a batch of frames decodes to exactly what was encoded, in order', () => {
  fc.assert(
    fc.property(fc.array(frameArbitrary, { maxLength: 20 }), (frames) => {
      const parts: Buffer[] = [];
      for (const f of frames) {
        const packet = Buffer.from(f.packet);
        const storedId = f.storedId ? Buffer.from(f.storedId) : undefined;
        parts.push(
          encodeFrameHeader(
            f.kind,
            { contract: f.contract, levels: f.levels },
            storedId,
            f.target,
            packet.length,
            f.qos,
            f.properties ? Buffer.from(f.properties) : undefined,
            f.publishedRetain,
          ),
          packet,
        );
      }
      const decoded: Frame[] = [];
      assert.equal(
        decodeFrames(Buffer.concat(parts), (frame) => decoded.push(frame)),
        true,
      );
      assert.equal(decoded.length, frames.length);
      decoded.forEach((frame, i) => {
        const f = frames[i];
        assert.equal(frame.kind, f.kind);
        assert.equal(frame.route.contract, f.contract);
        assert.deepEqual(frame.route.levels, f.levels);
        assert.deepEqual(
          frame.storedId ? [...frame.storedId] : undefined,
          f.storedId ? [...f.storedId] : undefined,
        );
        assert.equal(frame.target, f.target);
        assert.deepEqual([...frame.packet], [...f.packet]);
        assert.equal(frame.qos, f.qos);
        assert.deepEqual(
          frame.properties ? [...frame.properties] : undefined,
          f.properties ? [...f.properties] : undefined,
        );
        assert.equal(frame.publishedRetain, f.publishedRetain);
      });
    }),
  );
});

test('frames: a truncated or garbled batch is reported, never read past its end', () => {
  const packet = Buffer.from('packet bytes');
  const whole = Buffer.concat([
    encodeFrameHeader(FrameKind.Direct, { contract: 7, levels: [1, 2] }, undefined, '', packet.length),
    packet,
  ]);
  for (let cut = 1; cut < whole.length; cut++) {
    let frames = 0;
    assert.equal(
      decodeFrames(whole.subarray(0, cut), () => frames++),
      false,
    );
    assert.equal(frames, 0);
  }
  const garbled = Buffer.from(whole);
  garbled.writeUInt32BE(3, 0); // shorter than any header
  assert.equal(
    decodeFrames(garbled, () => assert.fail('no frame from garbage')),
    false,
  );
});

test('frames: a FrameBatch encodes what was added as the same bytes as headers and packets, and empties', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ frame: frameArbitrary, qos: fc.constantFrom(0, 1, 2) }), {
        minLength: 1,
        maxLength: 20,
      }),
      (entries) => {
        const batch = new FrameBatch();
        const parts: Buffer[] = [];
        for (const { frame: f, qos } of entries) {
          const packet = Buffer.from(f.packet);
          const storedId = f.storedId ? Buffer.from(f.storedId) : undefined;
          const route = { contract: f.contract, levels: f.levels };
          const properties = f.properties ? Buffer.from(f.properties) : undefined;
          batch.add(
            f.kind,
            route,
            storedId,
            f.target,
            packet,
            qos as 0 | 1 | 2,
            properties,
            f.publishedRetain,
          );
          parts.push(
            encodeFrameHeader(
              f.kind,
              route,
              storedId,
              f.target,
              packet.length,
              qos as 0 | 1 | 2,
              properties,
              f.publishedRetain,
            ),
            packet,
          );
        }
        assert.equal(batch.size, entries.length);
        const body = batch.take();
        assert.deepEqual(body, Buffer.concat(parts));
        assert.equal(batch.size, 0);
        const qos: number[] = [];
        assert.equal(
          decodeFrames(body, (frame) => qos.push(frame.qos)),
          true,
        );
        assert.deepEqual(
          qos,
          entries.map((e) => e.qos),
        );
        assert.equal(batch.take().length, 0);
      },
    ),
  );
});

test('frames: a message without MQTT 5 properties or RETAIN costs not a byte more than before they existed', () => {
  const route = { contract: 7, levels: [1, 2, 3] };
  const plain = encodeFrameHeader(FrameKind.Direct, route, undefined, '', 10, 1);
  // length, kind|qos, levels, contract, 3 levels, id length, target length.
  assert.equal(plain.length, 4 + 1 + 1 + 4 + 12 + 1 + 1);
  assert.equal(plain[4], FrameKind.Direct | (1 << 4));
  const block = Buffer.from([0x03, 0x00, 0x01, 0x78]);
  const v5 = encodeFrameHeader(FrameKind.Direct, route, undefined, '', 10, 1, block, true);
  assert.equal(v5.length, plain.length + 4 + block.length);
});
