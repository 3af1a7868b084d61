import { IncompatibleOptionsError, InvalidOptionError } from '../errors.js';
import { checkKeys, checkName, checkNumber, checkObject, optionalNumber } from '../validate.js';
import { AdagradOptimizer } from './adagrad.js';
import { AdamOptimizer } from './adam.js';
import { NesterovOptimizer } from './nesterov.js';
import { RmspropOptimizer } from './rmsprop.js';
import { SgdOptimizer } from './sgd.js';
import { OPTIMIZER_NAMES, type Optimizer, type OptimizerConfig, type OptimizerName } from './types.js';

/** Which hyper-parameters each optimizer takes (anything else is an error, not silently ignored). */
const KEYS: Record<OptimizerName, readonly string[]> = {
  sgd: ['weightDecay'],
  momentum: ['momentum', 'weightDecay'],
  nesterov: ['momentum', 'weightDecay'],
  adagrad: ['delta', 'weightDecay', 'initialAccumulator', 'deltaInside'],
  rmsprop: ['rmsDecay', 'delta', 'weightDecay'],
  adam: ['momentum', 'momentum2', 'delta', 'weightDecay'],
  'boosted-sgd': ['weightDecay', 'lambda', 'boostSign'],
  'boosted-momentum': ['momentum', 'weightDecay', 'lambda', 'boostSign'],
  'boosted-adagrad': ['delta', 'weightDecay', 'initialAccumulator', 'deltaInside', 'lambda', 'boostSign'],
};

/** A complete, checked configuration: every default filled in. */
export type ResolvedOptimizerConfig = Required<OptimizerConfig>;

export function isBoosted(name: OptimizerName): boolean {
  return name.startsWith('boosted-');
}

export function validateOptimizerConfig(raw: unknown): ResolvedOptimizerConfig {
  const c = checkObject('optimizer', raw);
  const name = checkName('optimizer', c.name, OPTIMIZER_NAMES);
  checkKeys('optimizer', c, ['name', 'lr', ...KEYS[name]]);
  const lr = checkNumber('optimizer.lr', c.lr, { min: 0, exclusiveMin: true });
  const momentum = optionalNumber('optimizer.momentum', c.momentum, 0.9, { min: 0, max: 1, exclusiveMax: true });
  if ((name === 'momentum' || name === 'boosted-momentum' || name === 'nesterov') && momentum === 0) {
    throw new IncompatibleOptionsError(`optimizer '${name}' with momentum 0 is plain SGD: use '${isBoosted(name) ? 'boosted-sgd' : 'sgd'}'`);
  }
  const boostSign = c.boostSign ?? 1;
  if (boostSign !== 1 && boostSign !== -1) {
    throw new InvalidOptionError('optimizer.boostSign', `must be 1 (the formulas as printed) or -1 (the prose reading), got ${String(boostSign)}`);
  }
  if (c.deltaInside !== undefined && typeof c.deltaInside !== 'boolean') {
    throw new InvalidOptionError('optimizer.deltaInside', `must be a boolean, got ${String(c.deltaInside)}`);
  }
  const resolved: ResolvedOptimizerConfig = {
    name,
    lr,
    momentum,
    momentum2: optionalNumber('optimizer.momentum2', c.momentum2, 0.999, { min: 0, max: 1, exclusiveMax: true }),
    rmsDecay: optionalNumber('optimizer.rmsDecay', c.rmsDecay, 0.99, { min: 0, max: 1, exclusiveMax: true }),
    delta: optionalNumber('optimizer.delta', c.delta, 1e-8, { min: 0 }),
    weightDecay: optionalNumber('optimizer.weightDecay', c.weightDecay, 0, { min: 0 }),
    initialAccumulator: optionalNumber('optimizer.initialAccumulator', c.initialAccumulator, name === 'boosted-adagrad' ? 0.1 : 0, { min: 0 }),
    deltaInside: (c.deltaInside as boolean | undefined) ?? name === 'boosted-adagrad',
    lambda: optionalNumber('optimizer.lambda', c.lambda, 0.3, { min: 0 }),
    boostSign,
  };
  const usesDelta = name === 'adagrad' || name === 'boosted-adagrad' || name === 'rmsprop' || name === 'adam';
  if (usesDelta && resolved.delta === 0 && !(name.endsWith('adagrad') && resolved.initialAccumulator > 0)) {
    throw new IncompatibleOptionsError(`optimizer '${name}' with delta 0 divides by zero where a gradient element is 0: give delta > 0`);
  }
  return resolved;
}

/** A fresh optimizer with state for `size` parameters. The config must come from validateOptimizerConfig. */
export function createOptimizer(config: ResolvedOptimizerConfig, size: number): Optimizer {
  const c = config;
  switch (c.name) {
    case 'sgd':
      return new SgdOptimizer('sgd', size, 0, c.weightDecay, 0, 1);
    case 'momentum':
      return new SgdOptimizer('momentum', size, c.momentum, c.weightDecay, 0, 1);
    case 'boosted-sgd':
      return new SgdOptimizer('boosted-sgd', size, 0, c.weightDecay, c.lambda, c.boostSign);
    case 'boosted-momentum':
      return new SgdOptimizer('boosted-momentum', size, c.momentum, c.weightDecay, c.lambda, c.boostSign);
    case 'nesterov':
      return new NesterovOptimizer(size, c.momentum, c.weightDecay);
    case 'adagrad':
    case 'boosted-adagrad':
      return new AdagradOptimizer(c.name, size, c.initialAccumulator, c.delta, c.deltaInside, c.weightDecay, c.lambda, c.boostSign);
    case 'rmsprop':
      return new RmspropOptimizer(size, c.rmsDecay, c.delta, c.weightDecay);
    case 'adam':
      return new AdamOptimizer(size, c.momentum, c.momentum2, c.delta, c.weightDecay);
  }
}

/** Convenience: validate a raw config and create the optimizer. */
export function optimizer(raw: OptimizerConfig, size: number): Optimizer {
  return createOptimizer(validateOptimizerConfig(raw), size);
}
