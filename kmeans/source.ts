/**
 * Where a rank's points come from: its partition of a synthetic data set or of a file. Every source
 * gives random access to its rows by index, filling a caller-provided Float32Array, so the batch
 * sampler, the held-out sample and Lloyd's full passes all read the same way with bounded memory.
 */
import { SyntheticData, STREAM_HELDOUT, partitionRange } from './synthetic.js';

export interface PointSource {
  /** one line for people: what the data are and which part of them this rank holds */
  readonly description: string;
  readonly dim: number;
  /** points in this rank's partition */
  readonly count: number;
  /** true when consecutive rows are independent draws (synthetic data), so batches need no shuffling */
  readonly iid: boolean;
  /** rows [from, to) of this partition, row-major, into out starting at float `outOffset` */
  read(from: number, to: number, out: Float32Array, outOffset?: number): void;
  close(): void;
}

/** One rank's partition of a synthetic data set. */
export class SyntheticSource implements PointSource {
  readonly description: string;
  readonly dim: number;
  readonly count: number;
  /** points in the whole data set (all ranks) */
  readonly totalCount: number;
  /** index of this partition's first point in the whole data set */
  readonly offset: number;
  readonly iid = true;
  readonly data: SyntheticData;

  constructor(data: SyntheticData, rank = 0, ranks = 1) {
    this.data = data;
    this.dim = data.dim;
    this.totalCount = data.points;
    const [from, to] = partitionRange(data.points, rank, ranks);
    this.offset = from;
    this.count = to - from;
    this.description = `synthetic: ${data.points} points, d=${data.dim}, ${data.kTrue} true clusters, ` +
      `spread ${data.spec.spread}, seed ${data.spec.seed}; rank ${rank} holds [${from}, ${to})`;
  }

  read(from: number, to: number, out: Float32Array, outOffset = 0): void {
    if (from < 0 || to > this.count || from > to) throw new RangeError(`rows [${from}, ${to}) outside this partition of ${this.count}`);
    this.data.fill(this.offset + from, this.offset + to, out, outOffset);
  }

  close(): void {}
}

/** The held-out sample of synthetic data: a separate stream, the same for every rank. */
export function syntheticHeldOut(data: SyntheticData, n: number): Float32Array {
  const out = new Float32Array(n * data.dim);
  data.fill(0, n, out, 0, undefined, 0, STREAM_HELDOUT);
  return out;
}
