/**
 * The boost factors of Li et al. (ALGORITHMS.md §3), with p = g ⊙ Δw:
 *   relative (SGD, momentum):  f = p / max|p|  (0 where max|p| = 0)
 *   sign (AdaGrad):            f = sign(p)
 * Both are computed element by element inside the optimizers' loops; this module only finds the
 * normaliser, the one quantity that needs a pass of its own.
 */
export function maxAbsProduct(g: Float32Array, dw: Float32Array): number {
  let max = 0;
  for (let k = 0; k < g.length; k++) {
    const p = Math.abs(g[k]! * dw[k]!);
    if (p > max) max = p;
  }
  return max;
}
