export const OPTIMIZER_NAMES = [
  'sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam',
  'boosted-sgd', 'boosted-momentum', 'boosted-adagrad',
] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/**
 * Hyper-parameters of every optimizer, Caffe's names where Caffe has the rule (ALGORITHMS.md §3, §6).
 * Only those that apply to the chosen optimizer may be given (validateOptimizerConfig).
 */
export interface OptimizerConfig {
  name: OptimizerName;
  /** base learning rate (the schedule scales it) */
  lr: number;
  /** momentum μ (momentum, nesterov, boosted-momentum; default 0.9) or Adam's β1 (default 0.9) */
  momentum?: number;
  /** Adam's β2 (default 0.999) */
  momentum2?: number;
  /** RMSProp's ρ (default 0.99) */
  rmsDecay?: number;
  /** the δ of AdaGrad/RMSProp/Adam (default 1e-8) */
  delta?: number;
  /** L2 weight decay added to the gradient before the update (default 0) */
  weightDecay?: number;
  /** AdaGrad: initial accumulator (default 0; boosted-adagrad 0.1 as in Li et al.) */
  initialAccumulator?: number;
  /** AdaGrad: δ inside the square root, w −= η·g/√(s+δ) (Li et al.), instead of /(√s + δ) (Caffe) */
  deltaInside?: boolean;
  /** boosted: λ (default 0.3) */
  lambda?: number;
  /** boosted: 1 = the formulas as printed in Li et al. (default), −1 = the reading of their prose */
  boostSign?: 1 | -1;
}

/**
 * One optimizer instance owns its per-parameter state. `step` updates `w` in place, element by
 * element (Hogwild relies on that: it is applied straight to the shared state).
 */
export interface Optimizer {
  readonly name: OptimizerName;
  /** uses the displacement Δw = w_now − w_read (boosted optimizers) */
  readonly usesDisplacement: boolean;
  /** updates applied so far (Adam's bias correction uses it) */
  iteration: number;
  /**
   * w ← update(w, g) at learning rate `lr`. `dw` is how far w moved since g was taken (boosted
   * optimizers; null means zero, and then every boosted rule is exactly its plain one).
   */
  step(w: Float32Array, g: Float32Array, lr: number, dw: Float32Array | null): void;
  /** named state buffers, for checkpoints (restored by writing into them) */
  readonly buffers: Readonly<Record<string, Float32Array>>;
}
