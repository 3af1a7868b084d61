/**
 * Caffe's ComputeUpdateValue of each solver type, element-wise on the range [from, to) of the
 * contiguous gradient array `g` (ALGORITHMS-DETAIL §9.2). Each writes the update into `g`; the net then
 * applies w ← w − g. `h` and `h2` are the histories (same layout as the parameters), `r` the local rate
 * (rate · lr_mult), `t` the iteration about to be completed (Adam's bias correction uses t + 1).
 */
export const SOLVER_TYPES = ['SGD', 'Nesterov', 'AdaGrad', 'RMSProp', 'AdaDelta', 'Adam'] as const;
export type SolverType = (typeof SOLVER_TYPES)[number];

/** how many history arrays each type keeps */
export const HISTORY_COUNT: Readonly<Record<SolverType, number>> = { SGD: 1, Nesterov: 1, AdaGrad: 1, RMSProp: 1, AdaDelta: 2, Adam: 2 };

export interface RuleParams {
  momentum: number;
  momentum2: number;
  delta: number;
  rms_decay: number;
}

export function sgdUpdate(g: Float32Array, h: Float32Array, from: number, to: number, r: number, mu: number): void {
  for (let i = from; i < to; i++) {
    const v = mu * h[i]! + r * g[i]!;
    h[i] = v;
    g[i] = v;
  }
}

export function nesterovUpdate(g: Float32Array, h: Float32Array, from: number, to: number, r: number, mu: number): void {
  for (let i = from; i < to; i++) {
    const old = h[i]!;
    const v = mu * old + r * g[i]!;
    h[i] = v;
    g[i] = (1 + mu) * v - mu * old;
  }
}

export function adagradUpdate(g: Float32Array, h: Float32Array, from: number, to: number, r: number, delta: number): void {
  for (let i = from; i < to; i++) {
    const gi = g[i]!;
    const acc = h[i]! + gi * gi;
    h[i] = acc;
    g[i] = (r * gi) / (Math.sqrt(acc) + delta);
  }
}

export function rmspropUpdate(g: Float32Array, h: Float32Array, from: number, to: number, r: number, rho: number, delta: number): void {
  for (let i = from; i < to; i++) {
    const gi = g[i]!;
    const acc = rho * h[i]! + (1 - rho) * gi * gi;
    h[i] = acc;
    g[i] = (r * gi) / (Math.sqrt(acc) + delta);
  }
}

export function adadeltaUpdate(g: Float32Array, h: Float32Array, h2: Float32Array, from: number, to: number, r: number, mu: number, delta: number): void {
  for (let i = from; i < to; i++) {
    const gi = g[i]!;
    const acc = mu * h[i]! + (1 - mu) * gi * gi;
    h[i] = acc;
    const scaled = gi * Math.sqrt((h2[i]! + delta) / (acc + delta));
    h2[i] = mu * h2[i]! + (1 - mu) * scaled * scaled;
    g[i] = r * scaled;
  }
}

export function adamUpdate(g: Float32Array, m: Float32Array, v: Float32Array, from: number, to: number, r: number, b1: number, b2: number, delta: number, t: number): void {
  const correction = Math.sqrt(1 - Math.pow(b2, t + 1)) / (1 - Math.pow(b1, t + 1));
  for (let i = from; i < to; i++) {
    const gi = g[i]!;
    const mi = b1 * m[i]! + (1 - b1) * gi;
    const vi = b2 * v[i]! + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    g[i] = (r * correction * mi) / (Math.sqrt(vi) + delta);
  }
}

/** Dispatch on the solver type for one parameter range. */
export function computeUpdate(type: SolverType, p: RuleParams, g: Float32Array, h: Float32Array, h2: Float32Array | null, from: number, to: number, r: number, iter: number): void {
  switch (type) {
    case 'SGD': return sgdUpdate(g, h, from, to, r, p.momentum);
    case 'Nesterov': return nesterovUpdate(g, h, from, to, r, p.momentum);
    case 'AdaGrad': return adagradUpdate(g, h, from, to, r, p.delta);
    case 'RMSProp': return rmspropUpdate(g, h, from, to, r, p.rms_decay, p.delta);
    case 'AdaDelta': return adadeltaUpdate(g, h, h2!, from, to, r, p.momentum, p.delta);
    case 'Adam': return adamUpdate(g, h, h2!, from, to, r, p.momentum, p.momentum2, p.delta, iter);
  }
}
