import { IncompatibleOptionsError, InvalidOptionError } from './errors.js';
import { checkKeys, checkName, checkNumber, checkObject } from './validate.js';

export const SCHEDULE_POLICIES = ['fixed', 'step', 'exp', 'inv', 'multistep', 'poly', 'sigmoid'] as const;
export type SchedulePolicy = (typeof SCHEDULE_POLICIES)[number];

/** Caffe's learning-rate policies (ALGORITHMS-DETAIL §9.3), with Caffe's parameter names. */
export interface ScheduleConfig {
  policy: SchedulePolicy;
  gamma?: number;
  power?: number;
  stepsize?: number;
  stepvalues?: number[];
  maxIter?: number;
}

const KEYS: Record<SchedulePolicy, readonly string[]> = {
  fixed: [],
  step: ['gamma', 'stepsize'],
  exp: ['gamma'],
  inv: ['gamma', 'power'],
  multistep: ['gamma', 'stepvalues'],
  poly: ['power', 'maxIter'],
  sigmoid: ['gamma', 'stepsize'],
};

/**
 * The learning rate at iteration `iter` (updates done so far) for base rate `base`. A pure function of
 * the iteration, so a resumed run continues the schedule exactly. (Caffe's multistep advances one
 * step value per call; counting the passed values gives the same rate when called every iteration.)
 */
export class Schedule {
  constructor(readonly config: Required<ScheduleConfig>) {}

  rate(base: number, iter: number): number {
    const { policy, gamma, power, stepsize, stepvalues, maxIter } = this.config;
    switch (policy) {
      case 'fixed':
        return base;
      case 'step':
        return base * Math.pow(gamma, Math.floor(iter / stepsize));
      case 'exp':
        return base * Math.pow(gamma, iter);
      case 'inv':
        return base * Math.pow(1 + gamma * iter, -power);
      case 'multistep': {
        let passed = 0;
        while (passed < stepvalues.length && iter >= stepvalues[passed]!) passed++;
        return base * Math.pow(gamma, passed);
      }
      case 'poly':
        return base * Math.pow(Math.max(0, 1 - iter / maxIter), power);
      case 'sigmoid':
        return base / (1 + Math.exp(-gamma * (iter - stepsize)));
    }
  }
}

export function validateScheduleConfig(raw: unknown): Required<ScheduleConfig> {
  const c = checkObject('schedule', raw ?? { policy: 'fixed' });
  const policy = checkName('schedule policy', c.policy, SCHEDULE_POLICIES);
  checkKeys('schedule', c, ['policy', ...KEYS[policy]]);
  const need = (key: string): unknown => {
    if (c[key] === undefined) throw new InvalidOptionError(`schedule.${key}`, `is required by policy '${policy}'`);
    return c[key];
  };
  const uses = (key: string): boolean => KEYS[policy].includes(key);
  const out: Required<ScheduleConfig> = { policy, gamma: 0, power: 0, stepsize: 0, stepvalues: [], maxIter: 0 };
  if (uses('gamma')) out.gamma = checkNumber('schedule.gamma', need('gamma'));
  if (uses('power')) out.power = checkNumber('schedule.power', need('power'));
  if (uses('stepsize')) out.stepsize = checkNumber('schedule.stepsize', need('stepsize'), policy === 'step' ? { min: 1, integer: true } : {});
  if (uses('maxIter')) out.maxIter = checkNumber('schedule.maxIter', need('maxIter'), { min: 1, integer: true });
  if (uses('stepvalues')) {
    const values = need('stepvalues');
    if (!Array.isArray(values)) throw new InvalidOptionError('schedule.stepvalues', 'must be an array of iterations');
    out.stepvalues = values.map((v, i) => checkNumber(`schedule.stepvalues[${i}]`, v, { min: 0, integer: true }));
    for (let i = 1; i < out.stepvalues.length; i++) {
      if (out.stepvalues[i]! <= out.stepvalues[i - 1]!) throw new IncompatibleOptionsError('schedule.stepvalues must increase strictly');
    }
  }
  return out;
}
