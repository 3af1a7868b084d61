import { maxAbsProduct } from './boost.js';
import type { Optimizer, OptimizerName } from './types.js';

/**
 * Caffe's SGD: h ← μ·h + r·g, w ← w − h. With μ = 0 ('sgd') there is no history and the step is
 * w − r·g (computed exactly as plain SGD, so that solvers can be compared bit for bit).
 * Boosted (Li et al.): g' = (1 − s·λ·f)·g with f = (g⊙Δw)/max|g⊙Δw| and s the boostSign.
 */
export class SgdOptimizer implements Optimizer {
  readonly usesDisplacement: boolean;
  iteration = 0;
  readonly buffers: Record<string, Float32Array>;
  private readonly h: Float32Array | null;

  constructor(
    readonly name: OptimizerName,
    size: number,
    private readonly momentum: number,
    private readonly weightDecay: number,
    private readonly lambda: number,
    private readonly boostSign: number,
  ) {
    this.usesDisplacement = name === 'boosted-sgd' || name === 'boosted-momentum';
    this.h = momentum !== 0 ? new Float32Array(size) : null;
    this.buffers = this.h ? { history: this.h } : {};
  }

  step(w: Float32Array, g: Float32Array, lr: number, dw: Float32Array | null): void {
    const n = w.length;
    const wd = this.weightDecay;
    let scale = 0;
    if (this.usesDisplacement && dw) {
      const max = maxAbsProduct(g, dw);
      if (max > 0) scale = (this.boostSign * this.lambda) / max;
    }
    const h = this.h;
    if (h === null) {
      if (scale === 0 && wd === 0) {
        for (let k = 0; k < n; k++) w[k] = w[k]! - lr * g[k]!;
      } else {
        for (let k = 0; k < n; k++) {
          const gk = g[k]!;
          const boosted = scale === 0 ? gk : (1 - scale * gk * dw![k]!) * gk;
          w[k] = w[k]! - lr * (boosted + wd * w[k]!);
        }
      }
    } else {
      const mu = this.momentum;
      for (let k = 0; k < n; k++) {
        const gk = g[k]!;
        const boosted = scale === 0 ? gk : (1 - scale * gk * dw![k]!) * gk;
        const hk = mu * h[k]! + lr * (boosted + wd * w[k]!);
        h[k] = hk;
        w[k] = w[k]! - hk;
      }
    }
    this.iteration++;
  }
}
