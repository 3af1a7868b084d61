import type { Optimizer } from './types.js';

/**
 * Caffe's Adam: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², w ← w − r·c·m/(√v + δ) with
 * c = √(1−β2^t)/(1−β1^t), t = updates so far + 1. (δ sits on the uncorrected √v, as in Caffe.)
 */
export class AdamOptimizer implements Optimizer {
  readonly name = 'adam' as const;
  readonly usesDisplacement = false;
  iteration = 0;
  readonly buffers: Record<string, Float32Array>;
  private readonly m: Float32Array;
  private readonly v: Float32Array;

  constructor(
    size: number,
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly delta: number,
    private readonly weightDecay: number,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
    this.buffers = { m: this.m, v: this.v };
  }

  step(w: Float32Array, g: Float32Array, lr: number): void {
    const { m, v, beta1, beta2, delta, weightDecay: wd } = this;
    const t = this.iteration + 1;
    const correction = Math.sqrt(1 - Math.pow(beta2, t)) / (1 - Math.pow(beta1, t));
    const rate = lr * correction;
    for (let k = 0; k < w.length; k++) {
      const gk = g[k]! + wd * w[k]!;
      m[k] = beta1 * m[k]! + (1 - beta1) * gk;
      v[k] = beta2 * v[k]! + (1 - beta2) * gk * gk;
      w[k] = w[k]! - (rate * m[k]!) / (Math.sqrt(v[k]!) + delta);
    }
    this.iteration++;
  }
}
