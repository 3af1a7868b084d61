import type { DataCursor, DataSource } from '../model.js';
import { Rng, Stream } from '../rng.js';
import { readEpochCursor } from './cursor.js';

/** Samples as rows of a dense matrix, with one target value per row. */
export interface DenseDataset {
  /** rows × dim, row-major */
  x: Float32Array;
  /** one target per row (regression value, or class label 0/1) */
  y: Float32Array;
  rows: number;
  dim: number;
}

/**
 * A batch refers to rows of the dataset by index: no row is copied, which matters when a row is a
 * million floats. `idx` may be longer than `size` (its storage is reused).
 */
export interface DenseBatch {
  x: Float32Array;
  y: Float32Array;
  dim: number;
  idx: Int32Array;
  size: number;
}

/**
 * Indices of part `part` of `parts`: a seeded global permutation of all rows, cut into contiguous,
 * disjoint pieces whose sizes differ by at most one. Every rank computes the same permutation.
 */
export function partitionIndices(rows: number, part: number, parts: number, seed: number): Int32Array {
  if (!Number.isInteger(parts) || parts < 1 || !Number.isInteger(part) || part < 0 || part >= parts) {
    throw new RangeError(`part must be in [0, ${parts - 1}], got ${part}`);
  }
  const all = new Int32Array(rows);
  for (let i = 0; i < rows; i++) all[i] = i;
  new Rng(seed, Stream.Partition).shuffle(all);
  const start = Math.floor((part * rows) / parts);
  const end = Math.floor(((part + 1) * rows) / parts);
  return all.slice(start, end);
}

/**
 * Seeded mini-batches over a fixed set of rows. Epoch `e` visits the rows in a permutation that
 * depends only on (seed, part, e), so a cursor of (epoch, position) restores the stream exactly.
 * A batch that runs past the end of an epoch continues in the next one.
 */
export class DenseDataSource implements DataSource<DenseBatch> {
  readonly size: number;
  private readonly base: Int32Array;
  private readonly perm: Int32Array;
  private readonly batch: DenseBatch;
  private readonly whole: DenseBatch;
  private readonly rng: Rng;
  private epoch = 0;
  private pos = 0;
  private served = 0;

  constructor(
    readonly dataset: DenseDataset,
    indices: Int32Array,
    private readonly seed: number,
    private readonly part: number,
  ) {
    if (indices.length === 0) throw new RangeError('a data partition must hold at least one sample');
    this.size = indices.length;
    this.base = indices.slice();
    this.perm = new Int32Array(this.size);
    this.rng = new Rng(seed, Stream.Data, part, 0);
    this.batch = { x: dataset.x, y: dataset.y, dim: dataset.dim, idx: new Int32Array(0), size: 0 };
    this.whole = { x: dataset.x, y: dataset.y, dim: dataset.dim, idx: this.base, size: this.size };
    this.shuffleFor(0);
  }

  get samples(): number {
    return this.served;
  }

  next(batchSize: number): DenseBatch {
    if (this.batch.idx.length < batchSize) this.batch.idx = new Int32Array(batchSize);
    const idx = this.batch.idx;
    for (let i = 0; i < batchSize; i++) {
      if (this.pos === this.size) this.shuffleFor(this.epoch + 1);
      idx[i] = this.perm[this.pos++]!;
    }
    this.batch.size = batchSize;
    this.served += batchSize;
    return this.batch;
  }

  all(): DenseBatch {
    return this.whole;
  }

  saveCursor(): DataCursor {
    return { samples: this.served, epoch: this.epoch, pos: this.pos };
  }

  restoreCursor(cursor: DataCursor): void {
    const { epoch, pos } = readEpochCursor(cursor, this.size);
    this.shuffleFor(epoch);
    this.pos = pos;
    this.served = cursor.samples;
  }

  private shuffleFor(epoch: number): void {
    this.epoch = epoch;
    this.pos = 0;
    this.perm.set(this.base);
    this.rng.reseed(this.seed, Stream.Data, this.part, epoch);
    this.rng.shuffle(this.perm);
  }
}
