import type { Optimizer, OptimizerName } from './types.js';

/**
 * AdaGrad. Caffe's form (defaults): s ← s + g², w ← w − r·g/(√s + δ), s starting at 0.
 * Li et al.'s boosted AdaGrad: s ← s + (1 + b·λ·sign(g⊙Δw))·g², w ← w − r·g/√(s + δ), s starting at
 * 0.1 (b = boostSign). Both placements of δ and any initial s are options of either, so that the
 * boosted rule with Δw = 0 can be checked against the plain one with the same settings.
 */
export class AdagradOptimizer implements Optimizer {
  readonly usesDisplacement: boolean;
  iteration = 0;
  readonly buffers: Record<string, Float32Array>;
  private readonly s: Float32Array;

  constructor(
    readonly name: OptimizerName,
    size: number,
    initialAccumulator: number,
    private readonly delta: number,
    private readonly deltaInside: boolean,
    private readonly weightDecay: number,
    private readonly lambda: number,
    private readonly boostSign: number,
  ) {
    this.usesDisplacement = name === 'boosted-adagrad';
    this.s = new Float32Array(size).fill(initialAccumulator);
    this.buffers = { accumulator: this.s };
  }

  step(w: Float32Array, g: Float32Array, lr: number, dw: Float32Array | null): void {
    const { s, delta, weightDecay: wd } = this;
    const boost = this.usesDisplacement && dw ? this.boostSign * this.lambda : 0;
    for (let k = 0; k < w.length; k++) {
      const gk = g[k]! + wd * w[k]!;
      let factor = 1;
      if (boost !== 0) {
        const p = g[k]! * dw![k]!;
        factor = p > 0 ? 1 + boost : p < 0 ? 1 - boost : 1;
      }
      const sk = s[k]! + factor * gk * gk;
      s[k] = sk;
      const denominator = this.deltaInside ? Math.sqrt(s[k]! + delta) : Math.sqrt(s[k]!) + delta;
      w[k] = w[k]! - (lr * gk) / denominator;
    }
    this.iteration++;
  }
}
