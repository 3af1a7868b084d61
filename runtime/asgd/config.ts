import { IncompatibleOptionsError, InvalidOptionError } from './errors.js';
import { isBoosted, validateOptimizerConfig, type ResolvedOptimizerConfig } from './optim/factory.js';
import type { OptimizerConfig } from './optim/types.js';
import { validateScheduleConfig, type ScheduleConfig } from './schedule.js';
import { checkKeys, checkName, checkNumber, checkObject, optionalNumber } from './validate.js';

export const SOLVER_NAMES = ['asgd', 'simuparallel', 'sync', 'hogwild', 'paramserver', 'distnewton'] as const;
export type SolverName = (typeof SOLVER_NAMES)[number];

/** When a run ends: the first condition reached. At least one must be given. */
export interface StopConfig {
  /** local steps of this rank (sync/distnewton: global steps or rounds; hogwild: updates of all threads; paramserver: server updates) */
  steps?: number;
  /** samples this rank has drawn */
  samples?: number;
  /** passes over this rank's partition */
  epochs?: number;
  /** wall-clock budget from the start of training */
  seconds?: number;
  /** stop once the evaluation loss is ≤ this */
  targetLoss?: number;
  /** stop once the model's score (higher is better) is ≥ this */
  targetScore?: number;
  /** steps between evaluations (default 100 when a target is set, else only at the end) */
  evalEvery?: number;
}

export interface AsgdOptions {
  /** 'parzen' (default): merge only states that pass the window; 'off': merge every state (--no-window) */
  window?: 'parzen' | 'off';
  /** 'inStep' (default, the paper's): w ← w − ε[(w − w̄) + Δ]; 'replace': w ← w̄ − εΔ */
  mix?: 'inStep' | 'replace';
  /** send a state every this many steps (default 1); Infinity: never communicate */
  exchangeEvery?: number;
  /** the rate of the pull towards w̄ (default: the step size ε, as in the paper) */
  mixRate?: number;
  /** 'own' (default): each rank ends with its own state; 'average': one allreduce averages them at the end */
  finalState?: 'own' | 'average';
  /**
   * when a send is due while the previous put from the outbox is still in flight: 'wait' (default, as
   * ALGORITHMS.md says) until it has completed, or 'skip' this send (counted as sendSkipped), which
   * never stalls the step on a slow network (ALGORITHMS-DETAIL §1.4's default)
   */
  busyOutbox?: 'wait' | 'skip';
}

export interface SyncOptions {
  /** nothing yet; reserved so that a misplaced option group is reported */
  [key: string]: never;
}

export interface HogwildOptions {
  /** worker threads sharing this rank's state (default 2) */
  threads?: number;
}

export interface ParamServerOptions {
  /**
   * how many more gradients a worker may have applied than the slowest worker before the server holds
   * its acknowledgement (default 0: staleness ≤ workers − 1; Infinity: never hold, staleness unbounded)
   */
  maxClockGap?: number;
}

export interface DistNewtonOptions {
  /** SGD steps each worker takes from the common θ before its gradient (default 1; 0 = 'samepoint') */
  localSteps?: number;
  /** keep eigenpairs with σ_k ≥ λ·σ_1 (default 0.1) */
  lambda?: number;
  /** the Newton step length τ (default: the optimizer's learning rate) */
  tau?: number;
  /** batch of the gradient g_k: a size or 'full' (default: the solver's batch size) */
  gradientBatch?: number | 'full';
  /** bound τ by 1/σ_max (LeCun et al.'s suggestion; default false) */
  boundStep?: boolean;
}

export interface MetricsConfig {
  /** directory of the per-rank JSON-lines files and the run summary (default: none written) */
  dir?: string;
  /** steps between metric lines (default 100) */
  every?: number;
}

export interface CheckpointConfig {
  dir: string;
  /** write every this many steps */
  everySteps?: number;
  /** write every this many seconds */
  everySeconds?: number;
  /** write once more when the run ends (default true) */
  atEnd?: boolean;
  /** continue from the checkpoint in `dir` if there is one (default false) */
  resume?: boolean;
}

export interface SolverConfig {
  solver: SolverName;
  optimizer: OptimizerConfig;
  schedule?: ScheduleConfig;
  /** mini-batch size per rank (per thread for hogwild), or 'full' for the whole local partition (BATCH) */
  batchSize?: number | 'full';
  /** seeds everything: initial state, partitions, batch order, exchange targets (default 1) */
  seed?: number;
  stop: StopConfig;
  asgd?: AsgdOptions;
  sync?: SyncOptions;
  hogwild?: HogwildOptions;
  paramserver?: ParamServerOptions;
  distnewton?: DistNewtonOptions;
  metrics?: MetricsConfig;
  checkpoint?: CheckpointConfig;
  /** first of the segment ids the solver creates (it uses up to 4 from here; default 0) */
  segmentBase?: number;
  /** the queue the solver posts to (default 0) */
  queue?: number;
}

export interface ResolvedSolverConfig {
  solver: SolverName;
  optimizer: ResolvedOptimizerConfig;
  schedule: Required<ScheduleConfig>;
  batchSize: number | 'full';
  seed: number;
  stop: Required<Omit<StopConfig, 'targetLoss' | 'targetScore'>> & { targetLoss: number | undefined; targetScore: number | undefined };
  asgd: Required<Omit<AsgdOptions, 'mixRate'>> & { mixRate: number | undefined };
  hogwild: Required<HogwildOptions>;
  paramserver: Required<ParamServerOptions>;
  distnewton: Required<Omit<DistNewtonOptions, 'tau'>> & { tau: number };
  metrics: { dir: string | undefined; every: number };
  checkpoint: Required<Omit<CheckpointConfig, 'everySteps' | 'everySeconds'>> & { everySteps: number; everySeconds: number } | undefined;
  segmentBase: number;
  queue: number;
}

const TOP_KEYS = ['solver', 'optimizer', 'schedule', 'batchSize', 'seed', 'stop', 'asgd', 'sync', 'hogwild', 'paramserver', 'distnewton', 'metrics', 'checkpoint', 'segmentBase', 'queue'];
const GROUPS: Record<string, SolverName> = { asgd: 'asgd', sync: 'sync', hogwild: 'hogwild', paramserver: 'paramserver', distnewton: 'distnewton' };

/**
 * Check a solver configuration completely and fill in every default. Pure: a launcher or CLI can call
 * it before any rank starts, and every rank calls it again (so they agree on the result).
 */
export function validateSolverConfig(raw: unknown): ResolvedSolverConfig {
  const c = checkObject('solver config', raw);
  checkKeys('config', c, TOP_KEYS);
  const solver = checkName('solver', c.solver, SOLVER_NAMES);
  for (const [group, owner] of Object.entries(GROUPS)) {
    if (c[group] !== undefined && owner !== solver) {
      throw new IncompatibleOptionsError(`options '${group}' apply to solver '${owner}', but the solver is '${solver}'`);
    }
  }
  const optimizer = validateOptimizerConfig(c.optimizer);
  if (isBoosted(optimizer.name) && (solver === 'sync' || solver === 'simuparallel' || solver === 'distnewton')) {
    throw new IncompatibleOptionsError(`optimizer '${optimizer.name}' needs the displacement of the state between read and update, which solver '${solver}' never has (it would silently be plain ${optimizer.name.slice(8)}); use asgd, hogwild or paramserver`);
  }
  if (solver === 'distnewton' && optimizer.name !== 'sgd') {
    throw new IncompatibleOptionsError(`solver 'distnewton' makes its own Newton step (its local steps are plain SGD): use optimizer 'sgd', not '${optimizer.name}'`);
  }
  const schedule = validateScheduleConfig(c.schedule);
  const batchSize = c.batchSize === 'full' ? 'full' : optionalNumber('batchSize', c.batchSize, 32, { min: 1, integer: true });
  if (batchSize === 'full' && solver === 'hogwild') throw new IncompatibleOptionsError("hogwild takes mini-batches: batchSize 'full' makes no sense for it");
  const seed = optionalNumber('seed', c.seed, 1, { min: 0, integer: true });
  const stop = validateStop(c.stop);
  const asgd = validateAsgd(c.asgd);
  const hogwildRaw = checkObject('hogwild', c.hogwild ?? {});
  checkKeys('hogwild', hogwildRaw, ['threads']);
  const hogwild = { threads: optionalNumber('hogwild.threads', hogwildRaw.threads, 2, { min: 1, max: 256, integer: true }) };
  const psRaw = checkObject('paramserver', c.paramserver ?? {});
  checkKeys('paramserver', psRaw, ['maxClockGap']);
  const paramserver = { maxClockGap: optionalNumber('paramserver.maxClockGap', psRaw.maxClockGap, 0, { min: 0, integer: true, allowInfinity: true }) };
  const distnewton = validateDistNewton(c.distnewton, optimizer.lr);
  if (c.sync !== undefined) checkKeys('sync', checkObject('sync', c.sync), []);
  const metricsRaw = checkObject('metrics', c.metrics ?? {});
  checkKeys('metrics', metricsRaw, ['dir', 'every']);
  if (metricsRaw.dir !== undefined && typeof metricsRaw.dir !== 'string') throw new InvalidOptionError('metrics.dir', 'must be a path');
  const metrics = { dir: metricsRaw.dir as string | undefined, every: optionalNumber('metrics.every', metricsRaw.every, 100, { min: 1, integer: true }) };
  const checkpoint = validateCheckpoint(c.checkpoint, solver);
  return {
    solver, optimizer, schedule, batchSize, seed, stop, asgd, hogwild, paramserver, distnewton, metrics, checkpoint,
    segmentBase: optionalNumber('segmentBase', c.segmentBase, 0, { min: 0, integer: true }),
    queue: optionalNumber('queue', c.queue, 0, { min: 0, integer: true }),
  };
}

function validateStop(raw: unknown): ResolvedSolverConfig['stop'] {
  const s = checkObject('stop', raw);
  checkKeys('stop', s, ['steps', 'samples', 'epochs', 'seconds', 'targetLoss', 'targetScore', 'evalEvery']);
  const limit = (key: string): number => optionalNumber(`stop.${key}`, s[key], Infinity, { min: 0, exclusiveMin: true, allowInfinity: true });
  const steps = limit('steps');
  if (Number.isFinite(steps) && !Number.isInteger(steps)) throw new InvalidOptionError('stop.steps', `must be an integer, got ${steps}`);
  const samples = limit('samples');
  const epochs = limit('epochs');
  const seconds = limit('seconds');
  const targetLoss = s.targetLoss === undefined ? undefined : checkNumber('stop.targetLoss', s.targetLoss);
  const targetScore = s.targetScore === undefined ? undefined : checkNumber('stop.targetScore', s.targetScore);
  if (![steps, samples, epochs, seconds].some(Number.isFinite) && targetLoss === undefined && targetScore === undefined) {
    throw new InvalidOptionError('stop', 'give at least one of steps, samples, epochs, seconds, targetLoss, targetScore (the run would never end)');
  }
  const targeted = targetLoss !== undefined || targetScore !== undefined;
  const evalEvery = optionalNumber('stop.evalEvery', s.evalEvery, targeted ? 100 : 0, { min: 0, integer: true });
  if (targeted && evalEvery === 0) throw new IncompatibleOptionsError('a target loss or score needs evaluations: stop.evalEvery must be ≥ 1');
  return { steps, samples, epochs, seconds, targetLoss, targetScore, evalEvery };
}

function validateAsgd(raw: unknown): ResolvedSolverConfig['asgd'] {
  const a = checkObject('asgd', raw ?? {});
  checkKeys('asgd', a, ['window', 'mix', 'exchangeEvery', 'mixRate', 'finalState', 'busyOutbox']);
  const window = a.window ?? 'parzen';
  if (window !== 'parzen' && window !== 'off') throw new InvalidOptionError('asgd.window', `must be 'parzen' or 'off', got ${String(window)}`);
  const mix = a.mix ?? 'inStep';
  if (mix !== 'inStep' && mix !== 'replace') throw new InvalidOptionError('asgd.mix', `must be 'inStep' or 'replace', got ${String(mix)}`);
  const finalState = a.finalState ?? 'own';
  if (finalState !== 'own' && finalState !== 'average') throw new InvalidOptionError('asgd.finalState', `must be 'own' or 'average', got ${String(finalState)}`);
  const busyOutbox = a.busyOutbox ?? 'wait';
  if (busyOutbox !== 'wait' && busyOutbox !== 'skip') throw new InvalidOptionError('asgd.busyOutbox', `must be 'wait' or 'skip', got ${String(busyOutbox)}`);
  return {
    window, mix, finalState, busyOutbox,
    exchangeEvery: optionalNumber('asgd.exchangeEvery', a.exchangeEvery, 1, { min: 1, integer: true, allowInfinity: true }),
    mixRate: a.mixRate === undefined ? undefined : checkNumber('asgd.mixRate', a.mixRate, { min: 0, max: 1 }),
  };
}

function validateDistNewton(raw: unknown, lr: number): ResolvedSolverConfig['distnewton'] {
  const d = checkObject('distnewton', raw ?? {});
  checkKeys('distnewton', d, ['localSteps', 'lambda', 'tau', 'gradientBatch', 'boundStep']);
  const gradientBatch = d.gradientBatch === undefined || d.gradientBatch === 'full' ? (d.gradientBatch as 'full' | undefined) ?? 0 : checkNumber('distnewton.gradientBatch', d.gradientBatch, { min: 1, integer: true });
  if (d.boundStep !== undefined && typeof d.boundStep !== 'boolean') throw new InvalidOptionError('distnewton.boundStep', 'must be a boolean');
  return {
    localSteps: optionalNumber('distnewton.localSteps', d.localSteps, 1, { min: 0, integer: true }),
    lambda: optionalNumber('distnewton.lambda', d.lambda, 0.1, { min: 0, exclusiveMin: true }),
    tau: optionalNumber('distnewton.tau', d.tau, lr, { min: 0, exclusiveMin: true }),
    gradientBatch,
    boundStep: (d.boundStep as boolean | undefined) ?? false,
  };
}

function validateCheckpoint(raw: unknown, solver: SolverName): ResolvedSolverConfig['checkpoint'] {
  if (raw === undefined) return undefined;
  const k = checkObject('checkpoint', raw);
  checkKeys('checkpoint', k, ['dir', 'everySteps', 'everySeconds', 'atEnd', 'resume']);
  if (typeof k.dir !== 'string' || k.dir === '') throw new InvalidOptionError('checkpoint.dir', 'must be a directory path');
  if (solver === 'hogwild') {
    throw new IncompatibleOptionsError("checkpoints are not implemented for solver 'hogwild' (its threads hold their optimizer state and data positions); every other solver has them");
  }
  for (const key of ['atEnd', 'resume']) {
    if (k[key] !== undefined && typeof k[key] !== 'boolean') throw new InvalidOptionError(`checkpoint.${key}`, 'must be a boolean');
  }
  return {
    dir: k.dir,
    everySteps: optionalNumber('checkpoint.everySteps', k.everySteps, Infinity, { min: 1, integer: true, allowInfinity: true }),
    everySeconds: optionalNumber('checkpoint.everySeconds', k.everySeconds, Infinity, { min: 0, exclusiveMin: true, allowInfinity: true }),
    atEnd: (k.atEnd as boolean | undefined) ?? true,
    resume: (k.resume as boolean | undefined) ?? false,
  };
}
