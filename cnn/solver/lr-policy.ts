import { SolverError } from '../errors.js';

export const LR_POLICIES = ['fixed', 'step', 'exp', 'inv', 'multistep', 'poly', 'sigmoid'] as const;
export type LrPolicy = (typeof LR_POLICIES)[number];

/** The fields of a SolverParameter that the learning-rate policies read (Caffe's names). */
export interface LrSettings {
  lr_policy: LrPolicy;
  base_lr: number;
  gamma: number;
  power: number;
  stepsize: number;
  stepvalue: readonly number[];
  max_iter: number;
}

/**
 * Caffe's SGDSolver::GetLearningRate at iteration `iter` (updates done so far). Caffe's multistep keeps
 * a counter that moves past at most one step value per call; counting the step values already passed
 * is the same when called every iteration, and stays right after a resume.
 */
export function learningRate(s: LrSettings, iter: number): number {
  switch (s.lr_policy) {
    case 'fixed':
      return s.base_lr;
    case 'step':
      return s.base_lr * Math.pow(s.gamma, Math.floor(iter / s.stepsize));
    case 'exp':
      return s.base_lr * Math.pow(s.gamma, iter);
    case 'inv':
      return s.base_lr * Math.pow(1 + s.gamma * iter, -s.power);
    case 'multistep': {
      let step = 0;
      while (step < s.stepvalue.length && iter >= s.stepvalue[step]!) step++;
      return s.base_lr * Math.pow(s.gamma, step);
    }
    case 'poly':
      return s.base_lr * Math.pow(1 - iter / s.max_iter, s.power);
    case 'sigmoid':
      return s.base_lr * (1 / (1 + Math.exp(-s.gamma * (iter - s.stepsize))));
  }
}

/** The fields each policy needs (checked when the solver definition is read). */
export const POLICY_FIELDS: Readonly<Record<LrPolicy, readonly string[]>> = {
  fixed: [],
  step: ['gamma', 'stepsize'],
  exp: ['gamma'],
  inv: ['gamma', 'power'],
  multistep: ['gamma', 'stepvalue'],
  poly: ['power'],
  sigmoid: ['gamma', 'stepsize'],
};

export function checkPolicy(policy: string): LrPolicy {
  if (!(LR_POLICIES as readonly string[]).includes(policy)) {
    throw new SolverError(`unknown lr_policy '${policy}'; known: ${LR_POLICIES.join(', ')}`);
  }
  return policy as LrPolicy;
}
