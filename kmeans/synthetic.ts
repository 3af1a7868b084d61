/**
 * Synthetic K-Means data of any size, never stored: point `i` of a data set is a pure function of
 * (seed, i), so every rank generates its own partition (or any slice of anyone's) on the fly and a
 * "1 TB" data set is just a point count. ALGORITHMS.md section 5; ALGORITHMS-DETAIL.md §10.2.
 *
 * The mixture: `kTrue` true centres drawn uniformly in [−box, box]^d from the seed (a draw closer than
 * `minSeparation` to an earlier centre is redrawn, so the truth is identifiable); point i belongs to
 * cluster hash(seed, i) mod kTrue (or, with weights, to a cluster drawn from them by the alias method)
 * and is that centre plus isotropic Gaussian noise of standard deviation `spread`.
 *
 * Random numbers: Philox4x32-10 with key = the 64-bit seed and counter = (index lo, index hi, block,
 * stream). Block 0 gives the cluster draw (words 0, 1) and the first Box-Muller pair (words 2, 3); each
 * further block gives two more pairs. Streams keep the training data, the held-out sample and the
 * centres independent of each other.
 */
import { UsageError } from './errors.js';
import { philox4x32 } from './philox.js';

export const STREAM_TRAIN = 0;
export const STREAM_HELDOUT = 1;
const STREAM_CENTRES = 2;

export interface SyntheticSpec {
  /** integer in [0, 2^53): the job seed */
  seed: number;
  /** points in the data set, integer in [1, 2^53] */
  points: number;
  dim: number;
  kTrue: number;
  /** standard deviation of every cluster (default 0.05) */
  spread?: number;
  /** centres are uniform in [−box, box]^dim (default 1) */
  box?: number;
  /** relative cluster proportions, one per cluster (default equal) */
  weights?: readonly number[];
  /** a centre drawn closer than this to an earlier one is redrawn (default 4·spread; 0 disables) */
  minSeparation?: number;
}

export type ResolvedSyntheticSpec = Required<Omit<SyntheticSpec, 'weights'>> & { weights: readonly number[] | undefined };

const TWO_PI = 2 * Math.PI;
const INV_2_32 = 1 / 4294967296;
const MAX_CENTRE_ATTEMPTS = 10000;

export class SyntheticData {
  readonly spec: ResolvedSyntheticSpec;
  readonly dim: number;
  readonly kTrue: number;
  readonly points: number;
  /** the true centres, kTrue × dim, centre-major; every value is exactly a float32 */
  readonly centres: Float32Array;
  /** normalised cluster proportions */
  readonly proportions: Float64Array;
  private readonly mu: Float64Array;
  private readonly sigma: number;
  private readonly key0: number;
  private readonly key1: number;
  /** Vose alias table; unused (balanced mixture) when `balanced` */
  private readonly balanced: boolean;
  private readonly aliasProb: Float64Array;
  private readonly aliasIndex: Int32Array;
  /** Philox output words, reused for every block: no allocation per point */
  private readonly words = new Uint32Array(4);

  constructor(spec: SyntheticSpec) {
    this.spec = validateSpec(spec);
    const { dim, kTrue, points, seed } = this.spec;
    this.dim = dim;
    this.kTrue = kTrue;
    this.points = points;
    this.sigma = this.spec.spread;
    this.key0 = seed >>> 0;
    this.key1 = Math.floor(seed / 4294967296) >>> 0;
    this.centres = this.drawCentres();
    this.mu = Float64Array.from(this.centres);
    const weights = this.spec.weights ?? new Array<number>(kTrue).fill(1);
    const total = weights.reduce((a, b) => a + b, 0);
    this.proportions = Float64Array.from(weights, (w) => w / total);
    this.balanced = this.spec.weights === undefined;
    this.aliasProb = new Float64Array(kTrue);
    this.aliasIndex = new Int32Array(kTrue);
    buildAlias(this.proportions, this.aliasProb, this.aliasIndex);
  }

  /** Bytes the data set would take as raw float32. */
  get bytes(): number {
    return this.points * this.dim * 4;
  }

  /** The true cluster of point `index` of `stream`. */
  clusterOf(index: number, stream = STREAM_TRAIN): number {
    const w = this.words;
    philox4x32(index >>> 0, Math.floor(index / 4294967296), 0, stream, this.key0, this.key1, w);
    return this.pickCluster(w[0]!, w[1]!);
  }

  /** Point `index` of `stream` into out[0..dim). */
  point(index: number, out: Float32Array, stream = STREAM_TRAIN): void {
    this.fill(index, index + 1, out, 0, undefined, 0, stream);
  }

  /**
   * Points [from, to) of `stream` into `out` starting at float `outOffset` (row-major, dim floats a
   * point), and their true clusters into `labels` when given. Indices may exceed `points` (the
   * held-out stream has no size); the caller keeps a partition's range.
   */
  fill(
    from: number, to: number, out: Float32Array, outOffset = 0,
    labels?: Int32Array, labelsOffset = 0, stream = STREAM_TRAIN,
  ): void {
    if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to >= from && to <= Number.MAX_SAFE_INTEGER + 1)) {
      throw new RangeError(`synthetic fill: bad range [${from}, ${to})`);
    }
    const dim = this.dim;
    if (outOffset < 0 || outOffset + (to - from) * dim > out.length) {
      throw new RangeError(`synthetic fill: ${to - from} points of dimension ${dim} do not fit at offset ${outOffset} of ${out.length} floats`);
    }
    const w = this.words;
    const mu = this.mu;
    const sigma = this.sigma;
    const k0 = this.key0;
    const k1 = this.key1;
    let lo = from >>> 0;
    let hi = Math.floor(from / 4294967296);
    let o = outOffset;
    const count = to - from;
    for (let n = 0; n < count; n++) {
      philox4x32(lo, hi, 0, stream, k0, k1, w);
      const c = this.pickCluster(w[0]!, w[1]!);
      if (labels !== undefined) labels[labelsOffset + n] = c;
      const base = c * dim;
      // Box-Muller pairs: pair p covers coordinates 2p, 2p+1. Pair 0 uses block 0's words 2, 3; pair
      // p ≥ 1 uses block (p+1)>>1, words 0, 1 when p is odd and 2, 3 when p is even.
      let wa = w[2]!;
      let wb = w[3]!;
      for (let j = 0, p = 0; j < dim; j += 2, p++) {
        if (p > 0) {
          const half = (p + 1) & 1;
          if (half === 0) philox4x32(lo, hi, (p + 1) >> 1, stream, k0, k1, w);
          wa = w[half * 2]!;
          wb = w[half * 2 + 1]!;
        }
        // u1 in (0, 1] so the log is finite; the angle in [0, 2π). The sine comes from the cosine
        // (its sign from the half of the circle): one transcendental call fewer, and the absolute
        // error (~1e-8·r) is far below a float32 step of the output.
        const r = sigma * Math.sqrt(-2 * Math.log((wa + 1) * INV_2_32));
        const cos = Math.cos(TWO_PI * wb * INV_2_32);
        out[o + j] = mu[base + j]! + r * cos;
        if (j + 1 < dim) {
          const sin = Math.sqrt(Math.max(0, 1 - cos * cos));
          out[o + j + 1] = mu[base + j + 1]! + r * (wb < 0x80000000 ? sin : -sin);
        }
      }
      o += dim;
      lo = (lo + 1) >>> 0;
      if (lo === 0) hi++;
    }
  }

  private pickCluster(w0: number, w1: number): number {
    if (this.balanced) return w0 % this.kTrue;
    const column = Math.floor(w0 * INV_2_32 * this.kTrue);
    return w1 * INV_2_32 < this.aliasProb[column]! ? column : this.aliasIndex[column]!;
  }

  /** Centres uniform in the box from the centre stream; rejection keeps them `minSeparation` apart. */
  private drawCentres(): Float32Array {
    const { dim, kTrue, box, minSeparation } = this.spec;
    const centres = new Float32Array(kTrue * dim);
    const w = this.words;
    const minSq = minSeparation * minSeparation;
    for (let c = 0; c < kTrue; c++) {
      let placed = false;
      for (let attempt = 0; attempt < MAX_CENTRE_ATTEMPTS && !placed; attempt++) {
        for (let j = 0; j < dim; j++) {
          if ((j & 3) === 0) philox4x32(c, attempt, j >> 2, STREAM_CENTRES, this.key0, this.key1, w);
          centres[c * dim + j] = -box + 2 * box * (w[j & 3]! * INV_2_32);
        }
        placed = true;
        for (let e = 0; e < c && placed; e++) {
          let s = 0;
          for (let j = 0; j < dim; j++) {
            const diff = centres[c * dim + j]! - centres[e * dim + j]!;
            s += diff * diff;
          }
          if (s < minSq) placed = false;
        }
      }
      if (!placed) {
        throw new UsageError(
          `cannot place ${kTrue} centres at least ${minSeparation} apart in [−${box}, ${box}]^${dim}: ` +
          'use a larger --box, a smaller --spread, or fewer --k-true',
        );
      }
    }
    return centres;
  }
}

function validateSpec(spec: SyntheticSpec): ResolvedSyntheticSpec {
  const { seed, points, dim, kTrue } = spec;
  const spread = spec.spread ?? 0.05;
  const box = spec.box ?? 1;
  const minSeparation = spec.minSeparation ?? 4 * spread;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`seed must be an integer in [0, 2^53), got ${seed}`);
  if (!Number.isInteger(points) || points < 1 || points > Number.MAX_SAFE_INTEGER) {
    throw new UsageError(`point count must be an integer in [1, 2^53), got ${points}`);
  }
  if (!Number.isInteger(dim) || dim < 1) throw new UsageError(`--dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(kTrue) || kTrue < 1) throw new UsageError(`--k-true must be a positive integer, got ${kTrue}`);
  if (!(Number.isFinite(spread) && spread > 0)) throw new UsageError(`--spread must be a positive number, got ${spread}`);
  if (!(Number.isFinite(box) && box > 0)) throw new UsageError(`--box must be a positive number, got ${box}`);
  if (!(Number.isFinite(minSeparation) && minSeparation >= 0)) {
    throw new UsageError(`minimum centre separation must be a non-negative number, got ${minSeparation}`);
  }
  const weights = spec.weights;
  if (weights !== undefined) {
    if (weights.length !== kTrue) throw new UsageError(`--imbalance: ${weights.length} weights given for ${kTrue} clusters`);
    for (const w of weights) {
      if (!(Number.isFinite(w) && w > 0)) throw new UsageError(`--imbalance: weights must be positive numbers, got ${w}`);
    }
  }
  return { seed, points, dim, kTrue, spread, box, minSeparation, weights: weights ? [...weights] : undefined };
}

/**
 * Cluster weights from `--imbalance`: a single ratio r ≥ 1 gives geometric weights from 1 down to
 * 1/r (the largest cluster r times the smallest); a comma list gives one weight per cluster.
 * Returns undefined for a balanced mixture (r = 1).
 */
export function parseImbalance(text: string, kTrue: number): number[] | undefined {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.some((s) => s === '') || values.some((v) => !(Number.isFinite(v) && v > 0))) {
    throw new UsageError(`--imbalance: '${text}' must be a ratio ≥ 1 (largest/smallest cluster) or ${kTrue} positive weights separated by commas`);
  }
  if (values.length === 1) {
    const r = values[0]!;
    if (r < 1) throw new UsageError(`--imbalance: the ratio must be at least 1, got ${r}`);
    if (r === 1 || kTrue === 1) return undefined;
    return Array.from({ length: kTrue }, (_, c) => r ** (-c / (kTrue - 1)));
  }
  if (values.length !== kTrue) throw new UsageError(`--imbalance: ${values.length} weights given for ${kTrue} clusters (--k-true)`);
  return values;
}

/** Vose's alias method: O(1) draws from a discrete distribution with two uniforms. */
function buildAlias(p: Float64Array, prob: Float64Array, alias: Int32Array): void {
  const k = p.length;
  const scaled = Float64Array.from(p, (v) => v * k);
  const small: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < k; i++) (scaled[i]! < 1 ? small : large).push(i);
  while (small.length && large.length) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s]!;
    alias[s] = l;
    scaled[l] = scaled[l]! + scaled[s]! - 1;
    (scaled[l]! < 1 ? small : large).push(l);
  }
  for (const i of large) {
    prob[i] = 1;
    alias[i] = i;
  }
  for (const i of small) {
    prob[i] = 1; // rounding leftovers: probability ~1
    alias[i] = i;
  }
}

/** [from, to) of partition `part` of `parts` over `n` items: sizes differ by at most one. */
export function partitionRange(n: number, part: number, parts: number): [number, number] {
  // Written so that n·part never overflows 2^53 for n up to 2^53 and thousands of parts.
  const base = Math.floor(n / parts);
  const extra = n - base * parts;
  const from = part * base + Math.min(part, extra);
  return [from, from + base + (part < extra ? 1 : 0)];
}
