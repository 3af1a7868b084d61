import type { DenseBatch, DenseDataset } from '../data/dense.js';
import type { Model } from '../model.js';
import type { Rng } from '../rng.js';
import { choleskySolve } from './least-squares.js';

export interface LogisticOptions {
  dim: number;
  /** L2 penalty λ/2·‖w‖² on the weights (not the bias); > 0 makes the optimum unique */
  l2?: number;
  initScale?: number;
}

/**
 * Binary logistic regression, labels 0/1: parameters are `dim` weights then one bias.
 * ℓ = softplus(z) − y·z with z = xᵀw + b (the log-loss, computed without overflow), plus λ/2·‖w‖².
 */
export class LogisticModel implements Model<DenseBatch> {
  readonly paramCount: number;
  private readonly dim: number;
  private readonly l2: number;
  private readonly initScale: number;

  constructor(options: LogisticOptions) {
    this.dim = options.dim;
    this.paramCount = options.dim + 1;
    this.l2 = options.l2 ?? 0;
    this.initScale = options.initScale ?? 0;
  }

  init(params: Float32Array, rng: Rng): void {
    for (let k = 0; k < params.length; k++) params[k] = this.initScale === 0 ? 0 : this.initScale * rng.gaussian();
  }

  gradient(w: Float32Array, batch: DenseBatch, g: Float32Array): number {
    const { x, y, idx, size } = batch;
    const dim = this.dim;
    const stride = batch.dim;
    g.fill(0);
    let loss = 0;
    for (let i = 0; i < size; i++) {
      const row = idx[i]! * stride;
      let z = w[dim]!;
      for (let k = 0; k < dim; k++) z += x[row + k]! * w[k]!;
      const label = y[idx[i]!]!;
      loss += softplus(z) - label * z;
      const r = sigmoid(z) - label;
      for (let k = 0; k < dim; k++) g[k] = g[k]! + r * x[row + k]!;
      g[dim] = g[dim]! + r;
    }
    const inv = 1 / size;
    let penalty = 0;
    for (let k = 0; k < dim; k++) {
      g[k] = g[k]! * inv + this.l2 * w[k]!;
      penalty += w[k]! * w[k]!;
    }
    g[dim] = g[dim]! * inv;
    return loss * inv + 0.5 * this.l2 * penalty;
  }

  loss(w: Float32Array, data: DenseBatch): number {
    const { x, y, idx, size } = data;
    const dim = this.dim;
    let loss = 0;
    for (let i = 0; i < size; i++) {
      const row = idx[i]! * data.dim;
      let z = w[dim]!;
      for (let k = 0; k < dim; k++) z += x[row + k]! * w[k]!;
      loss += softplus(z) - y[idx[i]!]! * z;
    }
    let penalty = 0;
    for (let k = 0; k < dim; k++) penalty += w[k]! * w[k]!;
    return loss / size + 0.5 * this.l2 * penalty;
  }

  /** accuracy: the fraction of samples on the right side of 0.5 */
  score(w: Float32Array, data: DenseBatch): number {
    const { x, y, idx, size } = data;
    const dim = this.dim;
    let right = 0;
    for (let i = 0; i < size; i++) {
      const row = idx[i]! * data.dim;
      let z = w[dim]!;
      for (let k = 0; k < dim; k++) z += x[row + k]! * w[k]!;
      if ((z > 0 ? 1 : 0) === y[idx[i]!]!) right++;
    }
    return right / size;
  }
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/**
 * The exact minimiser (weights then bias) of the mean regularised log-loss over all rows of `data`,
 * by Newton's method in Float64. For tests: needs l2 > 0 or non-separable data.
 */
export function solveLogistic(data: DenseDataset, l2: number, iterations = 50): Float64Array {
  const { x, y, dim, rows } = data;
  const p = dim + 1;
  const w = new Float64Array(p);
  for (let it = 0; it < iterations; it++) {
    const grad = new Float64Array(p);
    const hess = new Float64Array(p * p);
    const feature = new Float64Array(p);
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < dim; k++) feature[k] = x[i * dim + k]!;
      feature[dim] = 1;
      let z = 0;
      for (let k = 0; k < p; k++) z += feature[k]! * w[k]!;
      const s = sigmoid(z);
      const r = s - y[i]!;
      const c = s * (1 - s);
      for (let a = 0; a < p; a++) {
        grad[a] = grad[a]! + r * feature[a]!;
        for (let b = 0; b < p; b++) hess[a * p + b] = hess[a * p + b]! + c * feature[a]! * feature[b]!;
      }
    }
    for (let a = 0; a < p; a++) {
      grad[a] = grad[a]! / rows + (a < dim ? l2 * w[a]! : 0);
      for (let b = 0; b < p; b++) hess[a * p + b] = hess[a * p + b]! / rows;
      if (a < dim) hess[a * p + a] = hess[a * p + a]! + l2;
    }
    const step = choleskySolve(hess, grad, p);
    let size = 0;
    for (let a = 0; a < p; a++) {
      w[a] = w[a]! - step[a]!;
      size = Math.max(size, Math.abs(step[a]!));
    }
    if (size < 1e-13) break;
  }
  return w;
}
