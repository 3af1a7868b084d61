import { Rng } from '../../runtime/asgd/rng.js';

/** Where a sampler is: which pass over the partition, and how far into it. */
export interface SamplerCursor {
  epoch: number;
  position: number;
}

/** The stream id of data shuffling, distinct from the numeric core's streams. */
const SHUFFLE_STREAM = 0x636e6e; // "cnn"

/**
 * The order in which a partition [start, end) of a dataset is read: in file order (Caffe's Data layer)
 * or, with shuffling, a permutation drawn per epoch from (seed, part, epoch) alone, so that a resumed
 * run sees the same order and no two ranks share a stream.
 */
export class EpochSampler {
  readonly order: Int32Array;
  epoch = 0;
  position = 0;

  constructor(readonly start: number, readonly end: number, readonly shuffle: boolean, readonly seed: number, readonly part: number) {
    if (end <= start) throw new RangeError(`empty partition [${start}, ${end})`);
    this.order = new Int32Array(end - start);
    this.arrange();
  }

  get size(): number {
    return this.end - this.start;
  }

  private arrange(): void {
    for (let i = 0; i < this.order.length; i++) this.order[i] = this.start + i;
    if (this.shuffle) new Rng(this.seed, SHUFFLE_STREAM, this.part, this.epoch).shuffle(this.order);
  }

  /** the next sample index (wraps into the next epoch) */
  next(): number {
    if (this.position >= this.order.length) {
      this.epoch++;
      this.position = 0;
      this.arrange();
    }
    return this.order[this.position++]!;
  }

  /** skip `n` samples (Caffe's rand_skip) */
  skip(n: number): void {
    for (let i = 0; i < n; i++) this.next();
  }

  save(): SamplerCursor {
    return { epoch: this.epoch, position: this.position };
  }

  restore(c: SamplerCursor): void {
    this.epoch = c.epoch;
    this.position = c.position;
    this.arrange();
  }
}
