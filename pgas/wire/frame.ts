/**
 * Frames of the uws transport: one WebSocket binary message is
 *
 *   [uint32 LE header size][Frame header: a FlatBuffers table (frame.fbs)][payload bytes]
 *
 * The encoder builds header and payload into one Buffer (the payload copied once, straight from the
 * segment); the decoder verifies the header's structure against the message before any accessor runs
 * and reports the payload as a range of the message, so that a receiver copies it straight into a
 * segment. Nothing here allocates per frame except the Buffer that is sent.
 */
import * as flatbuffers from 'flatbuffers';
import { Frame } from './generated/pgas/wire/frame.js';
import { FrameOp } from './generated/pgas/wire/frame-op.js';

export { FrameOp };

/** A header larger than this is malformed: the table has 12 scalar fields (at most ~100 bytes). */
export const MAX_HEADER_BYTES = 512;
/** Bytes of the size prefix. */
export const PREFIX_BYTES = 4;

/** Byte width of each field of Frame, in vtable order (frame.fbs). */
const FIELD_WIDTHS = [1, 4, 4, 4, 4, 4, 4, 4, 8, 8, 8, 1];

/** The header's fields after decoding (one instance is reused for every frame). */
export class DecodedFrame {
  op = 0;
  sequence = 0;
  queue = 0;
  segment = 0;
  offset = 0;
  length = 0;
  notificationId = 0;
  notificationValue = 0;
  operandA = 0n;
  operandB = 0n;
  result = 0n;
  status = 0;
  /** where the payload starts in the message, and how many bytes it has */
  payloadOffset = 0;
  payloadLength = 0;
}

/** Why a message is not a frame (undefined: it is one). */
export type DecodeFailure = string | undefined;

/**
 * Check the size-prefixed FlatBuffer at the start of `bytes` field by field (root offset, vtable,
 * every present field inside the table and the header), then read it into `out`. Everything the
 * accessors read lies inside the header, so a hostile message yields an error string, never an
 * exception or a read of the payload as header.
 */
export function decodeFrame(bytes: Uint8Array, out: DecodedFrame): DecodeFailure {
  const total = bytes.byteLength;
  if (total < PREFIX_BYTES + 4) return `message of ${total} bytes is shorter than a header`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, total);
  const size = view.getUint32(0, true);
  if (size < 4 || size > MAX_HEADER_BYTES) return `header size ${size} is outside [4, ${MAX_HEADER_BYTES}]`;
  const end = PREFIX_BYTES + size;
  if (end > total) return `header size ${size} runs past the end of the ${total}-byte message`;
  const root = PREFIX_BYTES + view.getUint32(PREFIX_BYTES, true);
  if (root < PREFIX_BYTES + 4 || root + 4 > end) return 'root table offset outside the header';
  const vtable = root - view.getInt32(root, true);
  if (vtable < PREFIX_BYTES + 4 || vtable + 4 > end) return 'vtable outside the header';
  const vtableBytes = view.getUint16(vtable, true);
  const tableBytes = view.getUint16(vtable + 2, true);
  if (vtableBytes < 4 || vtableBytes % 2 !== 0 || vtable + vtableBytes > end) return 'vtable size is invalid';
  if (tableBytes < 4 || root + tableBytes > end) return 'table size is invalid';
  const fields = (vtableBytes - 4) >>> 1;
  for (let i = 0; i < fields; i++) {
    const at = view.getUint16(vtable + 4 + 2 * i, true);
    if (at === 0) continue;
    const width = i < FIELD_WIDTHS.length ? FIELD_WIDTHS[i]! : 1;
    if (at < 4 || at + width > tableBytes) return `field ${i} lies outside the table`;
  }
  try {
    const bb = new flatbuffers.ByteBuffer(bytes.subarray(0, end));
    const frame = Frame.getSizePrefixedRootAsFrame(bb, reader);
    out.op = frame.op();
    out.sequence = frame.sequence();
    out.queue = frame.queue();
    out.segment = frame.segment();
    out.offset = frame.offset();
    out.length = frame.length();
    out.notificationId = frame.notificationId();
    out.notificationValue = frame.notificationValue();
    out.status = frame.status();
    if (out.op === FrameOp.FetchAdd || out.op === FrameOp.CompareSwap || out.op === FrameOp.AtomicReply) {
      out.operandA = frame.operandA();
      out.operandB = frame.operandB();
      out.result = frame.result();
    } else {
      out.operandA = 0n;
      out.operandB = 0n;
      out.result = 0n;
    }
  } catch (error) {
    return `header does not parse: ${(error as Error).message}`;
  }
  out.payloadOffset = end;
  out.payloadLength = total - end;
  return undefined;
}

const reader = new Frame();

/** Where an encoder puts a frame of `bytes` bytes (a fresh Buffer unless the owner pools them). */
export type FrameAllocator = (bytes: number) => Buffer;

/**
 * Builds frames with one reused FlatBuffers Builder. Each method returns a Buffer (from `allocate`)
 * holding the size-prefixed header followed by `payloadLength` bytes copied from `payload` at
 * `payloadOffset`.
 */
export class FrameEncoder {
  private readonly builder = new flatbuffers.Builder(256);

  constructor(private readonly allocate: FrameAllocator = Buffer.allocUnsafe) {}

  /** PUT, GET, NOTIFY, PUT_NOTIFY (GET and NOTIFY carry no payload). */
  request(
    op: FrameOp, sequence: number, queue: number, segment: number, offset: number, length: number,
    notificationId: number, notificationValue: number,
    payload: Uint8Array | null, payloadOffset: number, payloadLength: number,
  ): Buffer {
    const b = this.start(op, sequence);
    Frame.addQueue(b, queue);
    Frame.addSegment(b, segment);
    Frame.addOffset(b, offset);
    Frame.addLength(b, length);
    if (op === FrameOp.Notify || op === FrameOp.PutNotify) {
      Frame.addNotificationId(b, notificationId);
      Frame.addNotificationValue(b, notificationValue);
    }
    return this.finish(payload, payloadOffset, payloadLength);
  }

  /** FETCH_ADD (a = addend) or COMPARE_SWAP (a = expected, b = new value) on the word at `offset`. */
  atomic(op: FrameOp, sequence: number, segment: number, offset: number, a: bigint, b: bigint): Buffer {
    const builder = this.start(op, sequence);
    Frame.addSegment(builder, segment);
    Frame.addOffset(builder, offset);
    Frame.addLength(builder, 8);
    Frame.addOperandA(builder, a);
    Frame.addOperandB(builder, b);
    return this.finish(null, 0, 0);
  }

  /** Segment announcement: `bytes` is the segment's size, 0 when it was deleted. */
  segment(sequence: number, segment: number, bytes: number): Buffer {
    const b = this.start(FrameOp.Segment, sequence);
    Frame.addSegment(b, segment);
    Frame.addLength(b, bytes);
    return this.finish(null, 0, 0);
  }

  /** Passive message (no sequence: it is not acknowledged). */
  message(payload: Uint8Array): Buffer {
    this.start(FrameOp.Message, 0);
    Frame.addLength(this.builder, payload.byteLength);
    return this.finish(payload, 0, payload.byteLength);
  }

  /** Ack: every request before `sequence` succeeded; the one at `sequence` ended with `status`. */
  ack(sequence: number, status: number): Buffer {
    const b = this.start(FrameOp.Ack, sequence);
    Frame.addStatus(b, status);
    return this.finish(null, 0, 0);
  }

  /** A GET's data: `length` bytes of `payload` at `payloadOffset`. */
  getReply(sequence: number, payload: Uint8Array, payloadOffset: number, length: number): Buffer {
    const b = this.start(FrameOp.GetReply, sequence);
    Frame.addLength(b, length);
    return this.finish(payload, payloadOffset, length);
  }

  atomicReply(sequence: number, status: number, result: bigint): Buffer {
    const b = this.start(FrameOp.AtomicReply, sequence);
    Frame.addStatus(b, status);
    Frame.addResult(b, result);
    return this.finish(null, 0, 0);
  }

  private start(op: FrameOp, sequence: number): flatbuffers.Builder {
    const b = this.builder;
    b.clear();
    Frame.startFrame(b);
    Frame.addOp(b, op);
    Frame.addSequence(b, sequence);
    return b;
  }

  private finish(payload: Uint8Array | null, payloadOffset: number, payloadLength: number): Buffer {
    const b = this.builder;
    Frame.finishSizePrefixedFrameBuffer(b, Frame.endFrame(b));
    const header = b.asUint8Array();
    const out = this.allocate(header.byteLength + payloadLength);
    out.set(header, 0);
    if (payloadLength > 0) {
      // Buffer.copy is a plain memmove; TypedArray.set from shared memory copies element-wise.
      if (Buffer.isBuffer(payload)) payload.copy(out, header.byteLength, payloadOffset, payloadOffset + payloadLength);
      else out.set(payload!.subarray(payloadOffset, payloadOffset + payloadLength), header.byteLength);
    }
    return out;
  }
}
