/**
 * A small seeded sequential generator (xoshiro128**, Blackman & Vigna) for the places that draw a
 * stream of numbers in order: shuffling a partition's blocks, k-means++ seeding, held-out sampling.
 * Its state is seeded from Philox over (seed, stream, substream), so that independent uses (every
 * rank, every epoch) get independent streams from one job seed.
 */
import { philox4x32 } from './philox.js';

const INV_2_32 = 1 / 4294967296;
const INV_2_53 = 1 / 9007199254740992;

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * `seed` in [0, 2^53); the ids any uint32 (e.g. a purpose tag, a rank, an epoch, a block). The ids
   * are the Philox counter, so distinct id tuples give independent streams.
   */
  constructor(seed: number, stream = 0, a = 0, b = 0, c = 0x6b6d6e73 /* 'kmns' */) {
    const w = new Uint32Array(4);
    philox4x32(stream, a, b, c, seed >>> 0, Math.floor(seed / 4294967296), w);
    this.s0 = w[0]! | 0;
    this.s1 = w[1]! | 0;
    this.s2 = w[2]! | 0;
    this.s3 = w[3]! | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** uniform uint32 */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** uniform in [0, 1) with 53 random bits */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * INV_2_53;
  }

  /** uniform in [0, 1) with 32 random bits (cheaper; enough for coin flips) */
  nextFloat(): number {
    return this.nextU32() * INV_2_32;
  }

  /** uniform integer in [0, n), n up to 2^53 */
  nextInt(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fisher-Yates shuffle of a typed array in place. */
  shuffle(a: Int32Array | Uint32Array | Float64Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Stream tags of the K-Means application, so that no two purposes share a random stream. */
export const RngStream = {
  Batches: 1,
  BatchRows: 5,
  InitSample: 2,
  Init: 3,
  HeldOut: 4,
} as const;
