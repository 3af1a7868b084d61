import type { Optimizer } from './types.js';

/** Caffe's RMSProp: h ← ρ·h + (1−ρ)·g², w ← w − r·g/(√h + δ). */
export class RmspropOptimizer implements Optimizer {
  readonly name = 'rmsprop' as const;
  readonly usesDisplacement = false;
  iteration = 0;
  readonly buffers: Record<string, Float32Array>;
  private readonly h: Float32Array;

  constructor(size: number, private readonly rho: number, private readonly delta: number, private readonly weightDecay: number) {
    this.h = new Float32Array(size);
    this.buffers = { history: this.h };
  }

  step(w: Float32Array, g: Float32Array, lr: number): void {
    const { h, rho, delta, weightDecay: wd } = this;
    for (let k = 0; k < w.length; k++) {
      const gk = g[k]! + wd * w[k]!;
      h[k] = rho * h[k]! + (1 - rho) * gk * gk;
      w[k] = w[k]! - (lr * gk) / (Math.sqrt(h[k]!) + delta);
    }
    this.iteration++;
  }
}
