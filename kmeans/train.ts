/**
 * Training with the chosen solver, from the same initial centres whichever it is:
 * - asgd, sync, simuparallel, hogwild, paramserver: the numeric core's solvers (runtime/asgd) running
 *   the K-Means model on this rank's mini-batches;
 * - lloyd: distributed Lloyd over full partitions (lloyd-dist.ts);
 * - minibatch: Sculley's algorithm on one rank, the scikit-learn MiniBatchKMeans baseline.
 * The monitor sees every step (the core's onStep hook, or the loops here).
 */
import type { PgasContext } from '../pgas/index.js';
import { runSolver, type ProblemSource, type SolverConfig } from '../runtime/asgd/index.js';
import { KmeansDataSource, type KmeansBatch } from './batches.js';
import { resolveLr, type KmeansConfig } from './cli-args.js';
import { distributedLloyd } from './lloyd-dist.js';
import type { KmeansModel } from './model.js';
import type { RunMonitor } from './monitor.js';
import { KMEANS_PROBLEM_MODULE, type KmeansProblemArgs } from './problem.js';
import { sculleyStep } from './reference.js';
import type { SharedData } from './shared-data.js';
import type { PointSource } from './source.js';

export interface Trained {
  /** this rank's final centres */
  centres: Float32Array;
  stopReason: string;
  /** lloyd only */
  iterations: number | undefined;
  converged: boolean | undefined;
}

export async function trainWith(
  ctx: PgasContext, config: KmeansConfig, setup: SharedData, initial: Float32Array, probe: Float32Array,
  model: KmeansModel, monitor: RunMonitor,
): Promise<Trained> {
  if (config.solver === 'lloyd') return trainLloyd(ctx, config, setup.source, initial, monitor);
  if (config.solver === 'minibatch') {
    const centres = initial.slice();
    const stopReason = trainMinibatch(config, setup.source, centres, monitor);
    return { centres, stopReason, iterations: undefined, converged: undefined };
  }
  return trainCore(ctx, config, setup, initial, probe, model, monitor);
}

async function trainLloyd(ctx: PgasContext, config: KmeansConfig, source: PointSource, initial: Float32Array, monitor: RunMonitor): Promise<Trained> {
  const centres = initial.slice();
  let stopReason = 'steps';
  const result = await distributedLloyd(ctx, source, centres, config.k, {
    maxIterations: config.stop.steps ?? 300,
    // Every rank decides alike: the centres and `it` are identical on every rank after the allreduce.
    onIteration: (it, c) => {
      monitor.samples += source.count;
      monitor.steps++;
      const error = monitor.record(c);
      if (config.stop.targetError !== undefined && error <= config.stop.targetError) {
        stopReason = 'targetError';
        return true;
      }
      if (config.stop.seconds !== undefined && it.elapsed >= config.stop.seconds) {
        stopReason = 'seconds';
        return true;
      }
      return false;
    },
  });
  return { centres, stopReason: result.converged ? 'converged' : stopReason, iterations: result.iterations, converged: result.converged };
}

/** Sculley's mini-batch K-Means on this (single) rank until the stop rule says so. */
function trainMinibatch(config: KmeansConfig, source: PointSource, centres: Float32Array, monitor: RunMonitor): string {
  const { k, batch, stop } = config;
  const d = source.dim;
  const data = new KmeansDataSource(source, { seed: config.seed, part: 0 });
  const counts = new Float64Array(k);
  const scratch = { norms: new Float64Array(k), labels: new Int32Array(batch) };
  const maxSamples = Math.min(stop.samples ?? Infinity, stop.epochs !== undefined ? stop.epochs * source.count : Infinity);
  for (;;) {
    if (monitor.steps >= (stop.steps ?? Infinity)) return 'steps';
    if (monitor.samples >= maxSamples) return stop.samples !== undefined && monitor.samples >= stop.samples ? 'samples' : 'epochs';
    if (stop.seconds !== undefined && monitor.elapsed() >= stop.seconds) return 'seconds';
    if (stop.targetError !== undefined && monitor.lastError <= stop.targetError) return 'targetError';
    sculleyStep(data.next(batch), d, centres, k, counts, scratch);
    monitor.step(centres, batch);
  }
}

async function trainCore(
  ctx: PgasContext, config: KmeansConfig, setup: SharedData, initial: Float32Array, probe: Float32Array,
  model: KmeansModel, monitor: RunMonitor,
): Promise<Trained> {
  const d = setup.source.dim;
  const lr = resolveLr(config, ctx.size);
  const data = new KmeansDataSource(setup.source, { seed: config.seed, part: ctx.rank });
  const evalData: KmeansBatch = { x: probe, n: probe.length / d, source: null, from: 0, to: 0 };
  const stop: SolverConfig['stop'] = {};
  if (config.stop.steps !== undefined) stop.steps = config.stop.steps;
  if (config.stop.samples !== undefined) stop.samples = config.stop.samples;
  if (config.stop.epochs !== undefined) stop.epochs = config.stop.epochs;
  if (config.stop.seconds !== undefined) stop.seconds = config.stop.seconds;
  if (config.stop.targetError !== undefined) {
    // The model's score is minus the error: evaluate about every 50,000 samples.
    stop.targetScore = -config.stop.targetError;
    stop.evalEvery = Math.max(1, Math.round(50000 / config.batch));
  }
  const solverConfig: SolverConfig = {
    solver: config.solver as SolverConfig['solver'],
    optimizer: { name: 'sgd', lr },
    batchSize: config.batch,
    seed: config.seed,
    stop,
    // ASGD's pull towards the mean of itself and the accepted states is scaled by the step size in
    // the paper's form. A constant K-Means step is typically well above 1 (each centre sees ~b/k of
    // a batch: the default is 0.1·k), and from ε ≈ 4 on the pull overshoots the mean and the run
    // diverges (measured at k = 50 and 100). So the pull rate is capped at 1 (1 = move to the mean).
    ...(config.solver === 'asgd' ? {
      asgd: { exchangeEvery: config.exchangeEvery, window: config.window ? 'parzen' : 'off', ...(lr > 1 ? { mixRate: 1 } : {}) },
    } : {}),
    ...(config.solver === 'hogwild' ? { hogwild: { threads: config.threads } } : {}),
  };
  // Hogwild builds the model in its worker threads: it needs the problem as a module reference
  // with JSON arguments (the same initial centres and evaluation points as everyone else).
  const args: KmeansProblemArgs = {
    data: config.data, k: config.k, step: config.step, init: config.init, initial: Array.from(initial),
    ...(setup.truth ? {} : { evalPoints: Array.from(probe) }),
  };
  const problem: ProblemSource<KmeansBatch> = config.solver === 'hogwild' ? { module: KMEANS_PROBLEM_MODULE, export: 'kmeansProblem', args } : { model, data, evalData };
  const result = await runSolver<KmeansBatch>(ctx, solverConfig, problem, {
    onStep: (_step: number, params: Float32Array) => monitor.step(params, config.batch),
  });
  // The solver's own counts: hogwild reports its threads' steps only at the end.
  monitor.samples = result.samples;
  monitor.steps = result.steps;
  return { centres: result.params, stopReason: result.stopReason, iterations: undefined, converged: undefined };
}
