/**
 * Reuse of large frame buffers. Allocating a fresh multi-megabyte Buffer per put costs far more than
 * the copy into it (first-touch page faults, external-memory GC pressure), so the origin takes large
 * frames from a pool and returns them once the socket has written them; the target builds its answers
 * in one scratch buffer, since uWS copies whatever it cannot write at once.
 */

/** Frames smaller than this are ordinary allocations (Node's slab or malloc serve them cheaply). */
export const POOL_MIN_BYTES = 16 << 10;
/** Idle pooled memory is capped; buffers beyond it are left to the garbage collector. */
const MAX_IDLE_BYTES = 128 << 20;

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private idleBytes = 0;

  /** A Buffer of exactly `bytes` bytes, pooled when large. */
  readonly take = (bytes: number): Buffer => {
    if (bytes < POOL_MIN_BYTES) return Buffer.allocUnsafe(bytes);
    const capacity = classOf(bytes);
    const list = this.free.get(capacity);
    const ab = list?.pop();
    if (ab) {
      this.idleBytes -= capacity;
      return Buffer.from(ab, 0, bytes);
    }
    return Buffer.from(new ArrayBuffer(capacity), 0, bytes);
  };

  /** Give back a Buffer from `take` once nothing reads it any more (small ones are ignored). */
  release(buffer: Buffer): void {
    if (buffer.byteLength < POOL_MIN_BYTES) return;
    const ab = buffer.buffer as ArrayBuffer;
    const capacity = ab.byteLength;
    if (capacity !== classOf(capacity) || this.idleBytes + capacity > MAX_IDLE_BYTES) return;
    let list = this.free.get(capacity);
    if (!list) this.free.set(capacity, (list = []));
    list.push(ab);
    this.idleBytes += capacity;
  }
}

/** One scratch buffer, reused for every frame: valid only until the next call. */
export function scratchAllocator(): (bytes: number) => Buffer {
  let scratch = new ArrayBuffer(64 << 10);
  return (bytes) => {
    if (scratch.byteLength < bytes) scratch = new ArrayBuffer(classOf(bytes));
    return Buffer.from(scratch, 0, bytes);
  };
}

/** Size classes at most 1/16 apart (a 4 MiB put's frame takes 4.25 MiB, not 8). */
function classOf(bytes: number): number {
  const step = 2 ** Math.max(12, Math.floor(Math.log2(bytes)) - 4);
  return Math.ceil(bytes / step) * step;
}
