import type { Optimizer } from './types.js';

/** Caffe's Nesterov: h_old = h; h ← μ·h + r·g; w ← w − [(1+μ)·h − μ·h_old]. */
export class NesterovOptimizer implements Optimizer {
  readonly name = 'nesterov' as const;
  readonly usesDisplacement = false;
  iteration = 0;
  readonly buffers: Record<string, Float32Array>;
  private readonly h: Float32Array;

  constructor(size: number, private readonly momentum: number, private readonly weightDecay: number) {
    this.h = new Float32Array(size);
    this.buffers = { history: this.h };
  }

  step(w: Float32Array, g: Float32Array, lr: number): void {
    const { h, momentum: mu, weightDecay: wd } = this;
    for (let k = 0; k < w.length; k++) {
      const old = h[k]!;
      const hk = mu * old + lr * (g[k]! + wd * w[k]!);
      h[k] = hk;
      w[k] = w[k]! - ((1 + mu) * hk - mu * old);
    }
    this.iteration++;
  }
}
