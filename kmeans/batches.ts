/**
 * Mini-batches over one rank's PointSource, seeded and reproducible, in memory bounded by one block.
 *
 * Synthetic data are independent draws already, so batches simply walk the partition in order. File
 * data may be sorted (all of cluster 0 first, say), so each epoch visits fixed-size blocks of rows in a
 * seeded random order and the rows of each block in a seeded random order: a two-level shuffle that
 * needs one block in memory, not the partition. A batch that runs past the end of an epoch continues
 * in the next one. `all()` is not materialised: it is a range that readers stream in chunks, so a
 * full-batch (Lloyd) pass over a terabyte partition stays in bounded memory.
 *
 * Implements the numeric core's DataSource for the K-Means model.
 */
import { readEpochCursor, type DataCursor, type DataSource } from '../runtime/asgd/index.js';
import { Rng, RngStream } from './rng.js';
import type { PointSource } from './source.js';

/**
 * A batch: either rows [0, n) of `x` (in memory), or, when `source` is set, rows [from, to) of the
 * source (to be streamed by whoever reads it; n = to − from).
 */
export interface KmeansBatch {
  x: Float32Array;
  n: number;
  source: PointSource | null;
  from: number;
  to: number;
}

export interface BatchOptions {
  /** job seed */
  seed: number;
  /** this rank (seeds its own shuffles) */
  part?: number;
  /** rows per shuffled block for non-iid sources (default 4096) */
  blockRows?: number;
}

export class KmeansDataSource implements DataSource<KmeansBatch> {
  readonly size: number;
  readonly dim: number;
  private readonly source: PointSource;
  private readonly seed: number;
  private readonly part: number;
  private readonly batch: KmeansBatch;
  private readonly whole: KmeansBatch;
  // non-iid: the block order of this epoch, the current block's rows and their order
  private readonly blockRows: number;
  private readonly blockCount: number;
  private readonly blockOrder: Int32Array | null;
  private readonly blockBuf: Float32Array | null;
  private readonly rowOrder: Int32Array | null;
  private blockIndex = -1; // position in blockOrder of the loaded block
  private blockStart = 0; // stream position of the loaded block's first row
  private blockLength = 0;
  private epoch = 0;
  /** position in the epoch: rows handed out since it began */
  private pos = 0;
  private served = 0;

  constructor(source: PointSource, options: BatchOptions) {
    if (source.count < 1) throw new RangeError('a data partition must hold at least one point');
    this.source = source;
    this.size = source.count;
    this.dim = source.dim;
    this.seed = options.seed;
    this.part = options.part ?? 0;
    this.batch = { x: new Float32Array(0), n: 0, source: null, from: 0, to: 0 };
    this.whole = { x: new Float32Array(0), n: this.size, source, from: 0, to: this.size };
    this.blockRows = Math.max(1, Math.min(options.blockRows ?? 4096, this.size));
    this.blockCount = Math.ceil(this.size / this.blockRows);
    if (source.iid) {
      this.blockOrder = this.blockBuf = this.rowOrder = null;
    } else {
      this.blockOrder = new Int32Array(this.blockCount);
      this.blockBuf = new Float32Array(this.blockRows * this.dim);
      this.rowOrder = new Int32Array(this.blockRows);
      this.startEpoch(0);
    }
  }

  get samples(): number {
    return this.served;
  }

  next(batchSize: number): KmeansBatch {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
    const d = this.dim;
    if (this.batch.x.length < batchSize * d) this.batch.x = new Float32Array(batchSize * d);
    const x = this.batch.x;
    let filled = 0;
    while (filled < batchSize) {
      if (this.pos === this.size) this.startEpoch(this.epoch + 1);
      if (this.blockOrder === null) {
        const n = Math.min(batchSize - filled, this.size - this.pos);
        this.source.read(this.pos, this.pos + n, x, filled * d);
        this.pos += n;
        filled += n;
      } else {
        filled += this.takeShuffled(x, filled, batchSize - filled);
      }
    }
    this.batch.n = batchSize;
    this.served += batchSize;
    return this.batch;
  }

  all(): KmeansBatch {
    return this.whole;
  }

  saveCursor(): DataCursor {
    return { samples: this.served, epoch: this.epoch, pos: this.pos };
  }

  restoreCursor(cursor: DataCursor): void {
    const { epoch, pos } = readEpochCursor(cursor, this.size);
    this.startEpoch(epoch);
    if (this.blockOrder !== null && pos < this.size) {
      // Walk this epoch's block order to the block holding `pos`, and enter it.
      let start = 0;
      for (let index = 0; index < this.blockCount; index++) {
        const length = this.lengthOf(this.blockOrder[index]!);
        if (start + length > pos) {
          this.loadBlock(index, start);
          break;
        }
        start += length;
      }
    }
    this.pos = pos;
    this.served = cursor.samples;
  }

  private startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.pos = 0;
    this.blockIndex = -1;
    if (this.blockOrder === null) return;
    for (let i = 0; i < this.blockCount; i++) this.blockOrder[i] = i;
    new Rng(this.seed, RngStream.Batches, this.part, epoch).shuffle(this.blockOrder);
  }

  private lengthOf(block: number): number {
    return Math.min(this.size, (block + 1) * this.blockRows) - block * this.blockRows;
  }

  /** Read block blockOrder[index], which begins at stream position `start`, and shuffle its rows. */
  private loadBlock(index: number, start: number): void {
    const block = this.blockOrder![index]!;
    const from = block * this.blockRows;
    const to = from + this.lengthOf(block);
    this.source.read(from, to, this.blockBuf!, 0);
    this.blockLength = to - from;
    this.blockStart = start;
    const order = this.rowOrder!.subarray(0, this.blockLength);
    for (let i = 0; i < this.blockLength; i++) order[i] = i;
    // Its own stream per (rank, epoch, position in the epoch).
    new Rng(this.seed, RngStream.BatchRows, this.part, this.epoch, index).shuffle(order);
    this.blockIndex = index;
  }

  /** Copy up to `want` rows of the current epoch's shuffled stream into x at row `at`. */
  private takeShuffled(x: Float32Array, at: number, want: number): number {
    const d = this.dim;
    if (this.blockIndex < 0 || this.pos >= this.blockStart + this.blockLength) {
      const next = this.blockIndex + 1;
      this.loadBlock(next, next === 0 ? 0 : this.blockStart + this.blockLength);
    }
    const within = this.pos - this.blockStart;
    const n = Math.min(want, this.blockLength - within);
    const order = this.rowOrder!;
    const buf = this.blockBuf!;
    // An explicit copy: subarray() per row would allocate a view per sample.
    for (let i = 0; i < n; i++) {
      const src = order[within + i]! * d;
      const dst = (at + i) * d;
      for (let j = 0; j < d; j++) x[dst + j] = buf[src + j]!;
    }
    this.pos += n;
    return n;
  }
}
