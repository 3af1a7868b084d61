import { symmetricEigen } from '../linalg/jacobi.js';

/**
 * DistNewton's step (Arnold & Wang; ALGORITHMS.md §4), in Float64, from m workers' parameters θ_k and
 * gradients g_k. With G, Θ the n×m matrices of g_k − ḡ and θ_k − θ̄:
 *   GᵀG = V·diag(σ²)·Vᵀ;  keep the j pairs with σ_k ≥ λ·σ_1;  u_k = G·v_k/σ_k,  y_k = Θ·v_k;
 *   H⁻¹z = z − Σ_k (u_kᵀz)·u_k + Σ_k (u_kᵀz)·y_k/σ_k     (secant: G = HΘ gives H⁻¹u_k = y_k/σ_k)
 * and the update is θ ← θ̄ − τ·H⁻¹ḡ. With j = 0 it is an SGD step from θ̄.
 */
export interface NewtonStep {
  thetaBar: Float64Array;
  gBar: Float64Array;
  /** H⁻¹ḡ */
  direction: Float64Array;
  /** pairs kept */
  kept: number;
  /** all σ_k, descending */
  sigma: Float64Array;
  /** the kept u_k (orthonormal), for inspection */
  u: Float64Array[];
  /** the kept y_k */
  y: Float64Array[];
  /** curvature estimates σ_k/‖y_k‖ of the kept pairs (for the 1/σ_max bound on τ) */
  curvature: number[];
}

/** `thetas[k]`, `grads[k]`: worker k's vectors (length n each). */
export function distNewtonStep(thetas: ArrayLike<number>[], grads: ArrayLike<number>[], lambda: number): NewtonStep {
  const m = thetas.length;
  const n = thetas[0]!.length;
  const thetaBar = new Float64Array(n);
  const gBar = new Float64Array(n);
  for (let k = 0; k < m; k++) {
    const th = thetas[k]!;
    const g = grads[k]!;
    for (let i = 0; i < n; i++) {
      thetaBar[i] = thetaBar[i]! + th[i]! / m;
      gBar[i] = gBar[i]! + g[i]! / m;
    }
  }
  // C = GᵀG, with G's columns formed on the fly
  const c = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    for (let b = a; b < m; b++) {
      let s = 0;
      const ga = grads[a]!;
      const gb = grads[b]!;
      for (let i = 0; i < n; i++) s += (ga[i]! - gBar[i]!) * (gb[i]! - gBar[i]!);
      c[a * m + b] = s;
      c[b * m + a] = s;
    }
  }
  const { values, vectors } = symmetricEigen(c, m);
  const sigma = Float64Array.from(values, (mu) => Math.sqrt(Math.max(mu, 0)));
  let kept = 0;
  if (sigma[0]! > 0) while (kept < m && sigma[kept]! >= lambda * sigma[0]! && sigma[kept]! > 0) kept++;
  const direction = Float64Array.from(gBar);
  const u: Float64Array[] = [];
  const y: Float64Array[] = [];
  const curvature: number[] = [];
  for (let k = 0; k < kept; k++) {
    const uk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let a = 0; a < m; a++) {
      const va = vectors[a * m + k]!;
      const ga = grads[a]!;
      const ta = thetas[a]!;
      for (let i = 0; i < n; i++) {
        uk[i] = uk[i]! + (ga[i]! - gBar[i]!) * va;
        yk[i] = yk[i]! + (ta[i]! - thetaBar[i]!) * va;
      }
    }
    const sk = sigma[k]!;
    let alpha = 0;
    let yNorm = 0;
    for (let i = 0; i < n; i++) {
      uk[i] = uk[i]! / sk;
      alpha += uk[i]! * gBar[i]!;
      yNorm += yk[i]! * yk[i]!;
    }
    for (let i = 0; i < n; i++) direction[i] = direction[i]! - alpha * uk[i]! + (alpha / sk) * yk[i]!;
    u.push(uk);
    y.push(yk);
    curvature.push(yNorm > 0 ? sk / Math.sqrt(yNorm) : Infinity);
  }
  return { thetaBar, gBar, direction, kept, sigma, u, y, curvature };
}

/** H⁻¹z with the approximation of `step`: z − Σ (u_kᵀz)·u_k + Σ (u_kᵀz)·y_k/σ_k. */
export function applyInverseHessian(step: NewtonStep, z: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(z);
  for (let k = 0; k < step.kept; k++) {
    const uk = step.u[k]!;
    const yk = step.y[k]!;
    let alpha = 0;
    for (let i = 0; i < uk.length; i++) alpha += uk[i]! * z[i]!;
    const s = step.sigma[k]!;
    for (let i = 0; i < uk.length; i++) out[i] = out[i]! - alpha * uk[i]! + (alpha / s) * yk[i]!;
  }
  return out;
}
