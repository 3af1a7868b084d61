/**
 * K-Means as a model of the numeric core (ALGORITHMS.md section 5): the state is k centres of
 * dimension d, one Float32Array of k·d (centre-major), and a mini-batch gradient moves each centre
 * towards the points assigned to it.
 *
 * Step rules:
 * - 'constant': the true gradient of the mean loss ½·min_c‖x − c‖² over the batch,
 *   Δ_c = (1/b)·Σ_{x→c}(w_c − x); the solver's learning rate ε is the step (Zinkevich's constant step).
 * - 'per-centre': Sculley's rule, each centre stepping by 1/N_c with N_c the running count of points
 *   ever assigned to it on this rank. The gradient is returned already scaled, g_c = (1/N_c)·Σ(w_c − x),
 *   so that with ε = 1 a step is exactly Sculley's batch update (each centre the running mean of its
 *   points) and ε < 1 damps it. The counts are this rank's own: states merged from other ranks carry
 *   none (ALGORITHMS-DETAIL.md §10.1).
 *
 * A batch may be in memory or a range of a PointSource (a full partition for Lloyd-style full-batch
 * steps); ranges are streamed through a bounded chunk buffer.
 */
import type { Model } from '../runtime/asgd/index.js';
import type { KmeansBatch } from './batches.js';
import { UsageError } from './errors.js';
import { centreError } from './hungarian.js';
import { initialCentres, type InitMethod, type Uniform01 } from './init.js';
import { assign, assignAccumulate, batchGradient, centreNorms } from './kernels.js';
import { accumulateRange } from './reference.js';

export type StepRule = 'constant' | 'per-centre';
export const STEP_RULES: readonly StepRule[] = ['constant', 'per-centre'];

export interface KmeansModelOptions {
  k: number;
  dim: number;
  step: StepRule;
  init: InitMethod;
  /** the initialisation sample, m × dim, identical on every rank (k-means++ runs on it) */
  sample: Float32Array;
  /**
   * initial centres computed beforehand (the same on every rank): init() copies them instead of
   * running the initialiser, so that every solver of a comparison starts from the same centres
   */
  initial?: Float32Array;
  /** the true centres (synthetic data): then `score` is minus the matched centre error */
  truth?: Float32Array;
  /** rows per chunk when a batch is a range of a source (default 8192) */
  chunkRows?: number;
}

export class KmeansModel implements Model<KmeansBatch> {
  readonly paramCount: number;
  readonly k: number;
  readonly dim: number;
  readonly step: StepRule;
  /** per-centre step rule: points assigned to each centre on this rank so far */
  readonly counts: Float64Array;
  private readonly initMethod: InitMethod;
  private readonly sample: Float32Array;
  private readonly initial: Float32Array | undefined;
  private readonly truth: Float32Array | undefined;
  private readonly norms: Float64Array;
  private readonly sums: Float64Array;
  private readonly batchCounts: Float64Array;
  private readonly chunk: Float32Array;

  constructor(options: KmeansModelOptions) {
    const { k, dim } = options;
    if (!Number.isInteger(k) || k < 1) throw new UsageError(`--k must be a positive integer, got ${k}`);
    if (!Number.isInteger(dim) || dim < 1) throw new UsageError(`--dim must be a positive integer, got ${dim}`);
    if (!STEP_RULES.includes(options.step)) throw new UsageError(`--step must be one of ${STEP_RULES.join(', ')}, got '${options.step}'`);
    const m = Math.floor(options.sample.length / dim);
    if (k > m) throw new UsageError(`--k ${k} is larger than the ${m} points of the initialisation sample: use a smaller --k or more data`);
    if (options.truth !== undefined && options.truth.length % dim !== 0) throw new RangeError('truth must be whole centres of dimension dim');
    this.k = k;
    this.dim = dim;
    this.paramCount = k * dim;
    this.step = options.step;
    this.initMethod = options.init;
    this.sample = options.sample;
    this.initial = options.initial;
    if (this.initial !== undefined && this.initial.length !== k * dim) throw new RangeError(`initial centres must be k·dim = ${k * dim} floats, got ${this.initial.length}`);
    this.truth = options.truth;
    this.counts = new Float64Array(k);
    this.norms = new Float64Array(k);
    this.sums = new Float64Array(k * dim);
    this.batchCounts = new Float64Array(k);
    this.chunk = new Float32Array((options.chunkRows ?? 8192) * dim);
  }

  init(params: Float32Array, rng: Uniform01): void {
    this.counts.fill(0);
    if (this.initial !== undefined) {
      params.set(this.initial);
      return;
    }
    initialCentres(this.initMethod, this.sample, this.sample.length / this.dim, this.dim, this.k, rng, params);
  }

  gradient(params: Float32Array, batch: KmeansBatch, gradOut: Float32Array): number {
    const { k, dim } = this;
    const total = this.accumulate(params, batch);
    const b = batch.n;
    if (this.step === 'constant') {
      batchGradient(params, k, dim, this.sums, this.batchCounts, b, gradOut);
    } else {
      for (let c = 0; c < k; c++) {
        const added = this.batchCounts[c]!;
        const n = (this.counts[c] = this.counts[c]! + added);
        const base = c * dim;
        if (added === 0) {
          for (let j = 0; j < dim; j++) gradOut[base + j] = 0;
          continue;
        }
        const inv = 1 / n;
        for (let j = 0; j < dim; j++) gradOut[base + j] = (added * params[base + j]! - this.sums[base + j]!) * inv;
      }
    }
    return b === 0 ? 0 : (0.5 * total) / b;
  }

  /** mean loss ½·min_c‖x − c‖² over the data (half the inertia per point) */
  loss(params: Float32Array, data: KmeansBatch): number {
    return 0.5 * this.inertiaPerPoint(params, data);
  }

  /** minus the centre error against the truth when it is known, else minus the inertia per point */
  score(params: Float32Array, data: KmeansBatch): number {
    if (this.truth !== undefined) return -centreError(this.truth, this.truth.length / this.dim, params, this.k, this.dim).mean;
    return -this.inertiaPerPoint(params, data);
  }

  inertiaPerPoint(params: Float32Array, data: KmeansBatch): number {
    const { k, dim } = this;
    centreNorms(params, k, dim, this.norms);
    if (data.source === null) return data.n === 0 ? 0 : assign(data.x, 0, data.n, dim, params, k, this.norms, null, null) / data.n;
    // A streamed range: accumulate into scratch sums (discarded) to reuse the chunked reader.
    this.sums.fill(0);
    this.batchCounts.fill(0);
    const total = accumulateRange(data.source, data.from, data.to, params, k, this.norms, this.sums, this.batchCounts, this.chunk);
    return data.to === data.from ? 0 : total / (data.to - data.from);
  }

  /** The map step of a batch: per-centre sums and counts into this.sums / this.batchCounts; returns Σ distance². */
  private accumulate(params: Float32Array, batch: KmeansBatch): number {
    const { k, dim } = this;
    centreNorms(params, k, dim, this.norms);
    this.sums.fill(0);
    this.batchCounts.fill(0);
    if (batch.source === null) return assignAccumulate(batch.x, 0, batch.n, dim, params, k, this.norms, this.sums, this.batchCounts);
    return accumulateRange(batch.source, batch.from, batch.to, params, k, this.norms, this.sums, this.batchCounts, this.chunk);
  }
}
