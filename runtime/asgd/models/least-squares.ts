import type { DenseBatch, DenseDataset } from '../data/dense.js';
import type { Model } from '../model.js';
import type { Rng } from '../rng.js';

export interface LeastSquaresOptions {
  dim: number;
  /** L2 penalty λ/2·‖w‖² (makes the optimum unique when the data do not) */
  l2?: number;
  /** initial weights ~ N(0, initScale²); 0 (default) starts at the origin */
  initScale?: number;
}

/**
 * Linear least squares: ℓ(w; x, y) = ½(xᵀw − y)², plus λ/2·‖w‖². A convex quadratic whose optimum is
 * the solution of the normal equations (solveLeastSquares), so tests know exactly where every solver
 * must end up.
 */
export class LeastSquaresModel implements Model<DenseBatch> {
  readonly paramCount: number;
  private readonly l2: number;
  private readonly initScale: number;

  constructor(options: LeastSquaresOptions) {
    this.paramCount = options.dim;
    this.l2 = options.l2 ?? 0;
    this.initScale = options.initScale ?? 0;
  }

  init(params: Float32Array, rng: Rng): void {
    for (let k = 0; k < params.length; k++) params[k] = this.initScale === 0 ? 0 : this.initScale * rng.gaussian();
  }

  gradient(w: Float32Array, batch: DenseBatch, g: Float32Array): number {
    const { x, y, dim, idx, size } = batch;
    g.fill(0);
    let loss = 0;
    for (let i = 0; i < size; i++) {
      const row = idx[i]! * dim;
      let z = 0;
      for (let k = 0; k < dim; k++) z += x[row + k]! * w[k]!;
      const r = z - y[idx[i]!]!;
      loss += 0.5 * r * r;
      for (let k = 0; k < dim; k++) g[k] = g[k]! + r * x[row + k]!;
    }
    const inv = 1 / size;
    const l2 = this.l2;
    let penalty = 0;
    for (let k = 0; k < dim; k++) {
      const wk = w[k]!;
      g[k] = g[k]! * inv + l2 * wk;
      penalty += wk * wk;
    }
    return loss * inv + 0.5 * l2 * penalty;
  }

  loss(w: Float32Array, data: DenseBatch): number {
    const { dim, size } = data;
    let penalty = 0;
    for (let k = 0; k < dim; k++) penalty += w[k]! * w[k]!;
    // ½ Σ r² equals Σ ½ r² bit for bit: halving is exact in binary floating point
    return (0.5 * squaredResiduals(w, data)) / size + 0.5 * this.l2 * penalty;
  }

  /** negative root-mean-square residual (higher is better) */
  score(w: Float32Array, data: DenseBatch): number {
    return -Math.sqrt(squaredResiduals(w, data) / data.size);
  }
}

/** Σ (xᵀw − y)² over the batch's rows. */
function squaredResiduals(w: Float32Array, data: DenseBatch): number {
  const { x, y, dim, idx, size } = data;
  let sq = 0;
  for (let i = 0; i < size; i++) {
    const row = idx[i]! * dim;
    let z = 0;
    for (let k = 0; k < dim; k++) z += x[row + k]! * w[k]!;
    const r = z - y[idx[i]!]!;
    sq += r * r;
  }
  return sq;
}

/**
 * The exact minimiser of the mean least-squares loss over `rows` (default: all) of `data`:
 * (XᵀX/n + λI) w = Xᵀy/n, solved in Float64 by Cholesky. For tests and small dimensions.
 */
export function solveLeastSquares(data: DenseDataset, l2 = 0, rows?: Int32Array): Float64Array {
  const { x, y, dim } = data;
  const list = rows ?? Int32Array.from({ length: data.rows }, (_, i) => i);
  const n = list.length;
  const a = new Float64Array(dim * dim);
  const b = new Float64Array(dim);
  for (const i of list) {
    const row = i * dim;
    for (let p = 0; p < dim; p++) {
      b[p] = b[p]! + x[row + p]! * y[i]!;
      for (let q = 0; q < dim; q++) a[p * dim + q] = a[p * dim + q]! + x[row + p]! * x[row + q]!;
    }
  }
  for (let p = 0; p < dim * dim; p++) a[p] = a[p]! / n;
  for (let p = 0; p < dim; p++) {
    b[p] = b[p]! / n;
    a[p * dim + p] = a[p * dim + p]! + l2;
  }
  return choleskySolve(a, b, dim);
}

/** Solve A z = b for symmetric positive definite A (row-major, dim × dim), in Float64. */
export function choleskySolve(a: Float64Array, b: Float64Array, dim: number): Float64Array {
  const l = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * dim + j]!;
      for (let k = 0; k < j; k++) s -= l[i * dim + k]! * l[j * dim + k]!;
      if (i === j) {
        if (!(s > 0)) throw new RangeError('matrix is not positive definite');
        l[i * dim + i] = Math.sqrt(s);
      } else {
        l[i * dim + j] = s / l[j * dim + j]!;
      }
    }
  }
  const z = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * dim + k]! * z[k]!;
    z[i] = s / l[i * dim + i]!;
  }
  for (let i = dim - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < dim; k++) s -= l[k * dim + i]! * z[k]!;
    z[i] = s / l[i * dim + i]!;
  }
  return z;
}
