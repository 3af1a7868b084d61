/**
 * The uws wire format and the target's checks, in one process: frames round-trip, the decoder refuses
 * malformed headers without throwing, and the target never applies a frame it rejects (not even part
 * of it). Also the origin's bookkeeping: the pending FIFO across sequence wrap-around, buffer reuse.
 */
import test from 'ava';
import { resolveConfig } from '../pgas/config.js';
import { WireStatus } from '../pgas/errors.js';
import { SharedState } from '../pgas/shared-state.js';
import { BufferPool, POOL_MIN_BYTES } from '../pgas/transports/uws/buffers.js';
import { FINAL, K_GET, K_PUT, nextSequence, PendingFifo } from '../pgas/transports/uws/pending.js';
import { SegmentTable } from '../pgas/transports/uws/segments.js';
import { CLOSE, NO_REPLY, REPLIED, Target } from '../pgas/transports/uws/target.js';
import { DecodedFrame, decodeFrame, FrameEncoder, FrameOp } from '../pgas/wire/index.js';
import { rng } from './fixtures/uws-lib.js';

const enc = new FrameEncoder();

test('frames round-trip: requests, atomics, segments, messages, answers', (t) => {
  const f = new DecodedFrame();
  const payload = new Uint8Array(100).map((_, i) => i);
  let frame = enc.request(FrameOp.PutNotify, 0xfffffffe, 3, 7, 123, 50, 9, -5, payload, 10, 50);
  t.is(decodeFrame(frame, f), undefined);
  t.like(f, { op: FrameOp.PutNotify, sequence: 0xfffffffe, queue: 3, segment: 7, offset: 123, length: 50, notificationId: 9, notificationValue: -5, payloadLength: 50 });
  t.deepEqual([...frame.subarray(f.payloadOffset)], [...payload.subarray(10, 60)]);
  frame = enc.atomic(FrameOp.CompareSwap, 4, 1, 64, -3n, 2n ** 62n);
  t.is(decodeFrame(frame, f), undefined);
  t.like(f, { op: FrameOp.CompareSwap, sequence: 4, segment: 1, offset: 64, operandA: -3n, operandB: 2n ** 62n, payloadLength: 0 });
  t.is(decodeFrame(enc.segment(5, 2, 4096), f), undefined);
  t.like(f, { op: FrameOp.Segment, sequence: 5, segment: 2, length: 4096 });
  t.is(decodeFrame(enc.message(payload), f), undefined);
  t.like(f, { op: FrameOp.Message, sequence: 0, payloadLength: 100 });
  t.is(decodeFrame(enc.ack(6, WireStatus.OUT_OF_RANGE), f), undefined);
  t.like(f, { op: FrameOp.Ack, sequence: 6, status: WireStatus.OUT_OF_RANGE });
  t.is(decodeFrame(enc.atomicReply(7, 0, -1n), f), undefined);
  t.like(f, { op: FrameOp.AtomicReply, sequence: 7, result: -1n });
  t.is(decodeFrame(enc.getReply(8, payload, 90, 10), f), undefined);
  t.like(f, { op: FrameOp.GetReply, sequence: 8, length: 10, payloadLength: 10 });
});

test('the decoder refuses malformed headers and never throws', (t) => {
  const f = new DecodedFrame();
  const good = enc.request(FrameOp.Put, 1, 0, 0, 0, 4, 0, 0, new Uint8Array(4), 0, 4);
  t.regex(decodeFrame(new Uint8Array(3), f)!, /shorter than a header/);
  const lying = Buffer.from(good);
  lying.writeUInt32LE(good.length, 0);
  t.regex(decodeFrame(lying, f)!, /runs past the end/);
  lying.writeUInt32LE(100000, 0);
  t.regex(decodeFrame(lying, f)!, /outside \[4, 512\]/);
  const badRoot = Buffer.from(good);
  badRoot.writeUInt32LE(1000, 4);
  t.regex(decodeFrame(badRoot, f)!, /root table offset/);
  const random = rng(5);
  for (let i = 0; i < 20000; i++) {
    const frame = Buffer.from(good);
    const flips = 1 + Math.floor(random() * 6);
    for (let k = 0; k < flips; k++) frame[Math.floor(random() * frame.length)] = Math.floor(random() * 256);
    const cut = random() < 0.3 ? frame.subarray(0, Math.floor(random() * frame.length)) : frame;
    t.notThrows(() => decodeFrame(cut, f));
  }
});

function target(): { tgt: Target; segs: SegmentTable; shared: SharedState; delivered: [number, Uint8Array][] } {
  const config = resolveConfig({ notificationsPerSegment: 16, maxPassiveBytes: 1000 });
  const shared = SharedState.create(2, config);
  const segs = new SegmentTable(shared.slots);
  segs.add(1, 256, new SharedArrayBuffer(256), new SharedArrayBuffer(17 * 4));
  const delivered: [number, Uint8Array][] = [];
  const tgt = new Target(segs, shared, config, new FrameEncoder(), (from, data) => delivered.push([from, data]));
  return { tgt, segs, shared, delivered };
}

test('the target applies valid requests: put, putNotify, get, atomics, segment, message', (t) => {
  const { tgt, segs, shared, delivered } = target();
  const data = new Uint8Array(8).fill(9);
  t.is(tgt.handle(enc.request(FrameOp.PutNotify, 1, 0, 1, 8, 8, 3, 77, data, 0, 8), 1), WireStatus.OK);
  t.deepEqual([...segs.u8[1]!.subarray(8, 16)], [...data]);
  t.is(segs.notifications[1]![3], 77);
  t.is(segs.notifications[1]![16], 1, 'the change counter was bumped');
  t.is(tgt.handle(enc.request(FrameOp.Get, 2, 0, 1, 6, 4, 0, 0, null, 0, 0), 1), REPLIED);
  const f = new DecodedFrame();
  t.is(decodeFrame(tgt.reply!, f), undefined);
  t.like(f, { op: FrameOp.GetReply, sequence: 2, payloadLength: 4 });
  t.deepEqual([...tgt.reply!.subarray(f.payloadOffset)], [0, 0, 9, 9]);
  t.is(tgt.handle(enc.atomic(FrameOp.FetchAdd, 3, 1, 248, 5n, 0n), 1), REPLIED);
  t.is(tgt.handle(enc.atomic(FrameOp.CompareSwap, 4, 1, 248, 5n, 11n), 1), REPLIED);
  decodeFrame(tgt.reply!, f);
  t.like(f, { op: FrameOp.AtomicReply, sequence: 4, status: 0, result: 5n });
  t.is(segs.words[1]![31], 11n);
  t.is(tgt.handle(enc.segment(5, 3, 4096), 1), WireStatus.OK);
  t.is(shared.remoteBytes(1, 3), 4096);
  t.is(tgt.handle(enc.message(new Uint8Array([1, 2, 3])), 1), NO_REPLY);
  t.deepEqual(delivered.map(([r, d]) => [r, [...d]]), [[1, [1, 2, 3]]]);
});

test('the target rejects every bad field without changing a byte, and closes on what it cannot answer', (t) => {
  const { tgt, segs } = target();
  segs.u8[1]!.fill(0x11);
  const before = Buffer.from(segs.u8[1]!).toString('hex') + Buffer.from(new Uint8Array(segs.notifications[1]!.buffer)).toString('hex');
  const p8 = new Uint8Array(8).fill(0xee);
  const cases: [string, Buffer, number][] = [
    ['past the end', enc.request(FrameOp.Put, 1, 0, 1, 250, 8, 0, 0, p8, 0, 8), WireStatus.OUT_OF_RANGE],
    ['negative offset', enc.request(FrameOp.Put, 1, 0, 1, -8, 8, 0, 0, p8, 0, 8), WireStatus.OUT_OF_RANGE],
    ['negative length', enc.request(FrameOp.Get, 1, 0, 1, 0, -1, 0, 0, null, 0, 0), WireStatus.OUT_OF_RANGE],
    ['huge length', enc.request(FrameOp.Get, 1, 0, 1, 8, 2 ** 31 - 1, 0, 0, null, 0, 0), WireStatus.OUT_OF_RANGE],
    ['payload shorter than length', enc.request(FrameOp.Put, 1, 0, 1, 0, 16, 0, 0, p8, 0, 8), WireStatus.PROTOCOL],
    ['get with a payload', enc.request(FrameOp.Get, 1, 0, 1, 0, 8, 0, 0, p8, 0, 8), WireStatus.PROTOCOL],
    ['unknown segment', enc.request(FrameOp.Put, 1, 0, 2, 0, 8, 0, 0, p8, 0, 8), WireStatus.UNKNOWN_SEGMENT],
    ['segment id out of range', enc.request(FrameOp.Put, 1, 0, 1 << 20, 0, 8, 0, 0, p8, 0, 8), WireStatus.UNKNOWN_SEGMENT],
    ['negative segment id', enc.request(FrameOp.Put, 1, 0, -1, 0, 8, 0, 0, p8, 0, 8), WireStatus.UNKNOWN_SEGMENT],
    ['putNotify, id out of range (data must not land)', enc.request(FrameOp.PutNotify, 1, 0, 1, 0, 8, 16, 1, p8, 0, 8), WireStatus.OUT_OF_RANGE],
    ['putNotify, value 0 (data must not land)', enc.request(FrameOp.PutNotify, 1, 0, 1, 0, 8, 2, 0, p8, 0, 8), WireStatus.INVALID],
    ['notify, negative id', enc.request(FrameOp.Notify, 1, 0, 1, 0, 0, -1, 5, null, 0, 0), WireStatus.OUT_OF_RANGE],
    ['segment announcement out of range', enc.segment(1, 10000, 8), WireStatus.INVALID],
    ['an answer sent as a request', enc.ack(1, 0), WireStatus.PROTOCOL],
  ];
  for (const [what, frame, status] of cases) t.is(tgt.handle(frame, 1), status, what);
  t.is(tgt.handle(enc.atomic(FrameOp.FetchAdd, 1, 1, 4, 1n, 0n), 1), REPLIED);
  const f = new DecodedFrame();
  decodeFrame(tgt.reply!, f);
  t.is(f.status, WireStatus.OUT_OF_RANGE, 'misaligned atomic');
  t.is(tgt.handle(enc.atomic(FrameOp.FetchAdd, 1, 1, 256, 1n, 0n), 1), REPLIED);
  decodeFrame(tgt.reply!, f);
  t.is(f.status, WireStatus.OUT_OF_RANGE, 'atomic past the end');
  // No sequence to answer, an oversized passive message, an unparseable header: close.
  t.is(tgt.handle(enc.request(FrameOp.Put, 0, 0, 1, 250, 8, 0, 0, p8, 0, 8), 1), CLOSE);
  t.is(tgt.handle(enc.message(new Uint8Array(1001)), 1), CLOSE);
  t.regex(tgt.reason, /exceeds maxPassiveBytes/);
  t.is(tgt.handle(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), 1), CLOSE);
  const after = Buffer.from(segs.u8[1]!).toString('hex') + Buffer.from(new Uint8Array(segs.notifications[1]!.buffer)).toString('hex');
  t.is(after, before);
});

test('the pending FIFO finds entries by sequence across the wrap from 2^32-1 to 1, and grows', (t) => {
  const fifo = new PendingFifo(2);
  let seq = 0xfffffffd;
  const seqs: number[] = [];
  for (let i = 0; i < 6; i++) {
    fifo.push(seq, i % 2 ? K_GET : K_PUT | FINAL, i, i, i * 10, i * 100, 0);
    seqs.push(seq);
    seq = nextSequence(seq);
  }
  t.deepEqual(seqs, [0xfffffffd, 0xfffffffe, 0xffffffff, 1, 2, 3]);
  t.is(fifo.indexOf(0xfffffffd), 0);
  t.is(fifo.indexOf(1), 3);
  t.is(fifo.indexOf(3), 5);
  t.is(fifo.indexOf(4), -1);
  t.is(fifo.indexOf(0), -1);
  t.is(fifo.indexOf(0xfffffffc), -1);
  fifo.shift();
  fifo.shift();
  fifo.shift();
  t.is(fifo.headSequence, 1);
  t.like({ q: fifo.queue, o: fifo.offset, l: fifo.length, k: fifo.kind }, { q: 3, o: 30, l: 300, k: K_GET });
  t.is(fifo.indexOf(3), 2);
  t.is(fifo.indexOf(0xffffffff), -1);
});

test('large frame buffers are reused once released', (t) => {
  const pool = new BufferPool();
  const a = pool.take(4 << 20);
  t.is(a.byteLength, 4 << 20);
  const ab = a.buffer;
  pool.release(a);
  const b = pool.take((4 << 20) - 100);
  t.is(b.buffer, ab, 'same memory for a slightly smaller frame of the same class');
  t.true(pool.take(4 << 20).buffer !== ab, 'taken memory is not handed out twice');
  t.true(pool.take(POOL_MIN_BYTES - 1).byteLength === POOL_MIN_BYTES - 1);
});
