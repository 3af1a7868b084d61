/**
 * The arithmetic of ASGD's merge (ALGORITHMS.md §1), kept free of communication so that it can be
 * checked against hand-computed cases.
 *
 * Parzen window, cheap form: accept w_j iff ⟨Δ, w − w_j⟩ > (ε/2)·‖Δ‖², which is algebraically the
 * same as ‖(w − εΔ) − w_j‖² < ‖w − w_j‖² ("the local step moves towards w_j") and costs one dot
 * product and no temporary vector. With Δ = 0 nothing is accepted (0 > 0 is false). A non-finite
 * dot product means w_j holds a NaN or an infinity (or is absurdly far away): the caller rejects it.
 */

/** ⟨g, w − s⟩ (NaN or ±Infinity when s holds a non-finite value) */
export function windowDot(g: Float32Array, w: Float32Array, s: Float32Array): number {
  let dot = 0;
  for (let k = 0; k < g.length; k++) dot += g[k]! * (w[k]! - s[k]!);
  return dot;
}

export function squaredNorm(g: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < g.length; k++) sum += g[k]! * g[k]!;
  return sum;
}

/** the window decision from the dot product, the step size and ‖g‖² */
export function windowAccepts(dot: number, lr: number, gradNormSq: number): boolean {
  return dot > 0.5 * lr * gradNormSq;
}

/** The literal form, for tests: ‖(w − εg) − s‖² < ‖w − s‖² */
export function windowAcceptsLiteral(g: Float32Array, w: Float32Array, s: Float32Array, lr: number): boolean {
  let stepped = 0;
  let here = 0;
  for (let k = 0; k < g.length; k++) {
    const a = w[k]! - lr * g[k]! - s[k]!;
    const b = w[k]! - s[k]!;
    stepped += a * a;
    here += b * b;
  }
  return stepped < here;
}

/**
 * The in-step mix with plain SGD, one pass: w ← w − ε·[(w − w̄) + g] with w̄ = (w + Σ accepted)/(A+1),
 * `sum` holding Σ accepted. With mixRate ≠ ε the pull uses mixRate: w ← w − mixRate·(w − w̄) − ε·g.
 */
export function mixSgd(w: Float32Array, g: Float32Array, sum: Float32Array, accepted: number, lr: number, mixRate: number): void {
  const inv = 1 / (accepted + 1);
  if (mixRate === lr) {
    for (let k = 0; k < w.length; k++) {
      const wk = w[k]!;
      w[k] = wk - lr * (wk - (wk + sum[k]!) * inv + g[k]!);
    }
  } else {
    for (let k = 0; k < w.length; k++) {
      const wk = w[k]!;
      w[k] = wk - mixRate * (wk - (wk + sum[k]!) * inv) - lr * g[k]!;
    }
  }
}

/**
 * The pull alone (for optimizers other than plain SGD, which then take their own step):
 * inStep: w ← w − mixRate·(w − w̄); replace: w ← w̄. Writes the displacement into `dw` when given
 * (the boosted optimizers' Δw in ASGD).
 */
export function pull(w: Float32Array, sum: Float32Array, accepted: number, mixRate: number, replace: boolean, dw: Float32Array | null): void {
  const inv = 1 / (accepted + 1);
  for (let k = 0; k < w.length; k++) {
    const wk = w[k]!;
    const mean = (wk + sum[k]!) * inv;
    const next = replace ? mean : wk - mixRate * (wk - mean);
    w[k] = next;
    if (dw !== null) dw[k] = next - wk;
  }
}

export function addInto(sum: Float32Array, s: Float32Array): void {
  for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! + s[k]!;
}
