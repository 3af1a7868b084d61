/**
 * The frame decoder (pgas/wire) against generated input: arbitrary bytes, valid frames of every op
 * with byte-level mutations, and lying size prefixes. It must return a reason or a frame, never throw;
 * a frame it accepts must describe a payload inside the message; valid frames round-trip exactly.
 */
import test from 'ava';
import fc from 'fast-check';
import { DecodedFrame, decodeFrame, FrameEncoder, FrameOp } from '../pgas/wire/index.js';
import { checkParser, mutatedBytes } from './fixtures/property-lib.js';

const out = new DecodedFrame();
const encoder = new FrameEncoder();

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const request = fc.record({
  op: fc.constantFrom(FrameOp.Put, FrameOp.Get, FrameOp.Notify, FrameOp.PutNotify, FrameOp.Message, FrameOp.Segment),
  sequence: fc.integer({ min: 0, max: 0xffffffff }),
  queue: int32, segment: int32, offset: int32, length: int32, id: int32, value: int32,
  payload: fc.uint8Array({ maxLength: 64 }),
});
const atomic = fc.record({
  op: fc.constantFrom(FrameOp.FetchAdd, FrameOp.CompareSwap),
  sequence: fc.integer({ min: 0, max: 0xffffffff }), segment: int32, offset: int32, a: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), b: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
});
const validFrame = fc.oneof(
  request.map((r) => new Uint8Array(encoder.request(r.op, r.sequence, r.queue, r.segment, r.offset, r.length, r.id, r.value, r.payload, 0, r.payload.length))),
  atomic.map((r) => new Uint8Array(encoder.atomic(r.op, r.sequence, r.segment, r.offset, r.a, r.b))),
);

/** Decode, and when accepted check that the payload lies inside the message. */
function decode(bytes: Uint8Array): void {
  const failure = decodeFrame(bytes, out);
  if (failure !== undefined) {
    if (typeof failure !== 'string' || failure.length === 0) throw new Error('a failure without a reason');
    throw new DecodeRejected(failure);
  }
  if (out.payloadOffset < 0 || out.payloadOffset + out.payloadLength !== bytes.length) {
    throw new Error(`accepted frame with payload [${out.payloadOffset}, +${out.payloadLength}) in ${bytes.length} bytes`);
  }
}
class DecodeRejected extends Error {}
const typed = (e: unknown): boolean => e instanceof DecodeRejected;

test('decodeFrame: arbitrary bytes', (t) => {
  checkParser(t, 'wire.decodeFrame/random', fc.uint8Array({ maxLength: 700 }), decode, typed);
  t.pass();
});

test('decodeFrame: mutated valid frames of every op', (t) => {
  const tally = checkParser(t, 'wire.decodeFrame/mutated', mutatedBytes(validFrame), decode, typed);
  t.true(tally.accepted > 0 && tally.typed > 0, 'the generator should produce both kinds');
});

test('decodeFrame: valid frames round-trip field by field', (t) => {
  checkParser(t, 'wire.decodeFrame/roundtrip', request, (r) => {
    const bytes = encoder.request(r.op, r.sequence, r.queue, r.segment, r.offset, r.length, r.id, r.value, r.payload, 0, r.payload.length);
    const failure = decodeFrame(bytes, out);
    if (failure !== undefined) throw new Error(`a valid frame was refused: ${failure}`);
    if (out.op !== r.op || out.sequence !== r.sequence || out.payloadLength !== r.payload.length) throw new Error('fields differ after decoding');
    if (Buffer.compare(bytes.subarray(out.payloadOffset), Buffer.from(r.payload)) !== 0) throw new Error('payload differs');
  }, () => false);
  t.pass();
});
