import type { LocalSegment } from './transport.js';

/**
 * A segment as the user sees it: views over memory the transport allocated. `f32` covers the whole
 * segment (its byte size is a multiple of 4); offsets in one-sided calls are in bytes, as in GASPI.
 */
export class Segment {
  readonly id: number;
  readonly bytes: number;
  readonly buffer: SharedArrayBuffer;
  /** where the segment starts in `buffer` (non-zero only for a segment bound over a region) */
  readonly byteOffset: number;
  readonly f32: Float32Array;
  readonly u8: Uint8Array;
  /** notification words (ids, then the change counter) */
  readonly notifications: Int32Array;

  constructor(id: number, memory: LocalSegment) {
    this.id = id;
    this.bytes = memory.bytes;
    this.buffer = memory.data;
    this.byteOffset = memory.byteOffset ?? 0;
    this.f32 = new Float32Array(memory.data, this.byteOffset, memory.bytes >>> 2);
    this.u8 = new Uint8Array(memory.data, this.byteOffset, memory.bytes);
    this.notifications = new Int32Array(memory.notifications);
  }

  /** A Float64Array view of the segment (its length rounded down to whole elements). */
  f64(): Float64Array {
    return new Float64Array(this.buffer, this.byteOffset, Math.floor(this.bytes / 8));
  }
}
