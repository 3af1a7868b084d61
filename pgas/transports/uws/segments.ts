/**
 * The worker's view of this rank's segments: what incoming frames are applied to and outgoing puts
 * read from. Arrays indexed by slot, so that the hot path does no map lookups.
 */
export class SegmentTable {
  readonly bytes: Float64Array;
  /** Buffers (Uint8Arrays) over the segments: Buffer.copy out of shared memory is faster than TypedArray.set */
  readonly u8: (Buffer | undefined)[];
  readonly notifications: (Int32Array | undefined)[];
  /** 64-bit words for atomics (offset / 8); segments shorter than 8 bytes have none */
  readonly words: (BigInt64Array | undefined)[];

  constructor(readonly slots: number) {
    this.bytes = new Float64Array(slots);
    this.u8 = new Array<Buffer | undefined>(slots).fill(undefined);
    this.notifications = new Array<Int32Array | undefined>(slots).fill(undefined);
    this.words = new Array<BigInt64Array | undefined>(slots).fill(undefined);
  }

  /** `byteOffset`: where the segment starts in `data` (a bound region of a program's buffer; 8-aligned) */
  add(slot: number, bytes: number, data: SharedArrayBuffer, notifications: SharedArrayBuffer, byteOffset = 0): void {
    this.bytes[slot] = bytes;
    this.u8[slot] = Buffer.from(data, byteOffset, bytes);
    this.notifications[slot] = new Int32Array(notifications);
    this.words[slot] = bytes >= 8 ? new BigInt64Array(data, byteOffset, Math.floor(bytes / 8)) : undefined;
  }

  remove(slot: number): void {
    this.bytes[slot] = 0;
    this.u8[slot] = undefined;
    this.notifications[slot] = undefined;
    this.words[slot] = undefined;
  }

  /** The segment at `slot`, if `slot` is a valid index and a segment is there (0 bytes: none). */
  has(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && slot < this.slots && this.bytes[slot]! > 0;
  }
}
