import type { DenseBatch, DenseDataset } from '../data/dense.js';
import type { Model } from '../model.js';
import type { Rng } from '../rng.js';

export interface QuadraticOptions {
  dim: number;
  /** per-coordinate curvature a_k > 0 (default all 1); a spread of values makes the problem ill-conditioned */
  curvature?: Float32Array;
  initScale?: number;
}

/**
 * The convex quadratic ℓ(w; x) = ½·Σ_k a_k (w_k − x_k)²: each sample is a point and the optimum of the
 * mean loss is the mean of the points, whatever the curvature. Its gradient costs one pass over the
 * batch rows, so it also serves as a cheap model with a state of any size.
 */
export class QuadraticModel implements Model<DenseBatch> {
  readonly paramCount: number;
  private readonly a: Float32Array;
  private readonly initScale: number;

  constructor(options: QuadraticOptions) {
    this.paramCount = options.dim;
    this.a = options.curvature ?? new Float32Array(options.dim).fill(1);
    if (this.a.length !== options.dim) throw new RangeError(`curvature has ${this.a.length} entries, dim is ${options.dim}`);
    this.initScale = options.initScale ?? 0;
  }

  init(params: Float32Array, rng: Rng): void {
    for (let k = 0; k < params.length; k++) params[k] = this.initScale === 0 ? 0 : this.initScale * rng.gaussian();
  }

  gradient(w: Float32Array, batch: DenseBatch, g: Float32Array): number {
    const { x, dim, idx, size } = batch;
    const a = this.a;
    const d = this.paramCount;
    g.fill(0);
    let loss = 0;
    for (let i = 0; i < size; i++) {
      const row = idx[i]! * dim;
      for (let k = 0; k < d; k++) {
        const r = w[k]! - x[row + k]!;
        g[k] = g[k]! + r;
        loss += a[k]! * r * r;
      }
    }
    const inv = 1 / size;
    for (let k = 0; k < d; k++) g[k] = a[k]! * g[k]! * inv;
    return 0.5 * loss * inv;
  }

  loss(w: Float32Array, data: DenseBatch): number {
    const { x, dim, idx, size } = data;
    const a = this.a;
    let loss = 0;
    for (let i = 0; i < size; i++) {
      const row = idx[i]! * dim;
      for (let k = 0; k < this.paramCount; k++) {
        const r = w[k]! - x[row + k]!;
        loss += a[k]! * r * r;
      }
    }
    return (0.5 * loss) / size;
  }
}

/** The optimum of the quadratic over `rows` (default all) of `data`: the mean point, in Float64. */
export function quadraticOptimum(data: DenseDataset, rows?: Int32Array): Float64Array {
  const { x, dim } = data;
  const list = rows ?? Int32Array.from({ length: data.rows }, (_, i) => i);
  const mean = new Float64Array(dim);
  for (const i of list) for (let k = 0; k < dim; k++) mean[k] = mean[k]! + x[i * dim + k]!;
  for (let k = 0; k < dim; k++) mean[k] = mean[k]! / list.length;
  return mean;
}
