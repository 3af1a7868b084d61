/**
 * What one run of the LeNet strong-scaling benchmark is, as the suite hands it to the rank program
 * (bench/lenet-rank.ts) on its command line, and how a fixed total amount of training is divided over
 * the ranks of each solver. Kept free of heavy imports so that tests and the suite load it cheaply.
 */
import { SCALING_SOLVERS } from './scaling-solvers.js';

export type LenetSolver = (typeof SCALING_SOLVERS)[number];

export interface LenetRunSpec {
  /** absolute path of the Caffe solver prototxt (its net reads Fashion-MNIST) */
  solverFile: string;
  kernels: 'typescript' | 'native';
  /** the numeric core's solver, as `cnn train --parallel` takes it */
  parallel: LenetSolver;
  /** the core's stop.steps: local steps per rank (sync: global steps; paramserver: server updates; hogwild: updates of all threads) */
  steps: number;
  /** hogwild: worker threads of its one rank (1 for every other solver) */
  threads: number;
  /** mini-batch of the net's training Data layer */
  batch: number;
  seed: number;
  /** rank 0 keeps a copy of its state every this many steps (evaluated after the run, off the clock) */
  traceEvery: number;
  /** test images the accuracy is measured on (the first ones of the test file) */
  testCount: number;
}

/** What each rank prints (`LENETRUN <json>`) at the end of a run. */
export interface LenetRunLine {
  rank: number;
  size: number;
  steps: number;
  samples: number;
  /** the core's training clock of this rank (its start to its end, before the final collective) */
  seconds: number;
  /** rank 0 only: test accuracy of its state at trace points (seconds on its training clock) */
  trace: { step: number; seconds: number; samples: number; accuracy: number }[];
  /** rank 0 only: test accuracy of the state the solver returns (simuparallel: the average) */
  finalAccuracy: number | null;
}

export class LenetSpecError extends Error {
  override name = 'LenetSpecError';
}

/**
 * The core's `stop.steps` for `totalSteps` mini-batches of training in all, on `ranks` ranks (hogwild:
 * threads). asgd and simuparallel count each rank's own steps and sync its global steps (one
 * mini-batch per rank each), so each of those gets an equal share; paramserver counts the server's
 * updates and hogwild the updates of all its threads, which are the total already.
 */
export function lenetSteps(solver: LenetSolver, ranks: number, totalSteps: number): number {
  if (!Number.isInteger(ranks) || ranks < 1) throw new LenetSpecError(`ranks must be a positive whole number, got ${ranks}`);
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new LenetSpecError(`total steps must be a positive whole number, got ${totalSteps}`);
  if (solver === 'paramserver' || solver === 'hogwild') return totalSteps;
  if (totalSteps < ranks) throw new LenetSpecError(`${totalSteps} total steps cannot be shared by ${ranks} ranks`);
  return Math.ceil(totalSteps / ranks);
}

/** The job that runs `solver` at scale `r`: hogwild is one rank with r threads (AsySG-incon), the others r ranks. */
export function jobShape(solver: string, r: number): { ranks: number; threads: number } {
  return solver === 'hogwild' ? { ranks: 1, threads: r } : { ranks: r, threads: 1 };
}

function positiveInt(spec: Record<string, unknown>, key: string): number {
  const v = spec[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new LenetSpecError(`LeNet run spec: ${key} must be a positive whole number, got ${JSON.stringify(v)}`);
  return v;
}

/** Parse and check the rank program's argument; anything missing or out of range is a LenetSpecError. */
export function parseLenetRunSpec(text: string | undefined): LenetRunSpec {
  if (text === undefined) throw new LenetSpecError('LeNet run spec missing: the rank program takes one JSON argument');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new LenetSpecError(`LeNet run spec is not JSON: ${text.slice(0, 80)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new LenetSpecError('LeNet run spec must be a JSON object');
  const spec = raw as Record<string, unknown>;
  const known = ['solverFile', 'kernels', 'parallel', 'steps', 'threads', 'batch', 'seed', 'traceEvery', 'testCount'];
  const unknown = Object.keys(spec).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new LenetSpecError(`LeNet run spec: unknown key(s) ${unknown.join(', ')}`);
  if (typeof spec.solverFile !== 'string' || spec.solverFile === '') throw new LenetSpecError('LeNet run spec: solverFile must name the solver prototxt');
  if (spec.kernels !== 'typescript' && spec.kernels !== 'native') throw new LenetSpecError(`LeNet run spec: kernels must be typescript or native, got ${JSON.stringify(spec.kernels)}`);
  if (!(SCALING_SOLVERS as readonly unknown[]).includes(spec.parallel)) {
    throw new LenetSpecError(`LeNet run spec: parallel must be one of ${SCALING_SOLVERS.join(', ')}, got ${JSON.stringify(spec.parallel)}`);
  }
  const seed = spec.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) throw new LenetSpecError(`LeNet run spec: seed must be a whole number ≥ 0, got ${JSON.stringify(seed)}`);
  const out: LenetRunSpec = {
    solverFile: spec.solverFile, kernels: spec.kernels, parallel: spec.parallel as LenetSolver, seed,
    steps: positiveInt(spec, 'steps'), threads: positiveInt(spec, 'threads'), batch: positiveInt(spec, 'batch'),
    traceEvery: positiveInt(spec, 'traceEvery'), testCount: positiveInt(spec, 'testCount'),
  };
  if (out.threads > 1 && out.parallel !== 'hogwild') throw new LenetSpecError(`LeNet run spec: threads ${out.threads} applies to hogwild only, not ${out.parallel}`);
  return out;
}
