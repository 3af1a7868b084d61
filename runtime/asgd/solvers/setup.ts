import type { PgasContext } from '../../../pgas/index.js';
import type { ResolvedSolverConfig } from '../config.js';
import { CheckpointMismatchError, ModelError, PeerFailedError } from '../errors.js';
import type { DataSource, Model, Problem, ProblemFactory } from '../model.js';
import { createOptimizer } from '../optim/factory.js';
import { checkCompatible, checkpointPath, readCheckpoints, type Checkpoint } from '../run/checkpoint.js';
import { agreeOnOutcome } from './agree.js';
import type { ProblemSource } from './types.js';

export async function resolveProblem<B>(source: ProblemSource<B>, part: number, parts: number, seed: number): Promise<Problem<B>> {
  if (typeof source === 'function') return source({ part, parts, seed, args: undefined });
  if ('module' in source) {
    const mod = (await import(source.module)) as Record<string, unknown>;
    const factory = mod[source.export];
    if (typeof factory !== 'function') throw new ModelError(`module ${source.module} has no exported function '${source.export}'`);
    return (factory as ProblemFactory<B>)({ part, parts, seed, args: source.args });
  }
  return source;
}

export function checkModel(model: Model<unknown>, data: DataSource<unknown>): void {
  if (!Number.isInteger(model.paramCount) || model.paramCount < 1) {
    throw new ModelError(`model.paramCount must be a positive integer, got ${String(model.paramCount)}`);
  }
  if (!Number.isInteger(data.size) || data.size < 1) throw new ModelError(`the data partition is empty (size ${String(data.size)})`);
}

/**
 * Run `work` on every rank, then agree: if it failed anywhere, every rank throws (its own error, or
 * PeerFailedError naming the ranks that failed) before anything collective that could hang starts.
 */
export function preflight<T>(ctx: PgasContext, work: () => Promise<T>): Promise<T> {
  return agreeOnOutcome(ctx, work, (ranks) => new PeerFailedError(`rank${ranks.length > 1 ? 's' : ''} ${ranks.join(', ')} failed to set up the run; nothing was trained`));
}

/**
 * The checkpoints this rank may resume from, newest first (the latest and the one before it), each
 * checked against this run; empty when not resuming or when there is none yet.
 */
export function loadCheckpointsFor(ctx: PgasContext, config: ResolvedSolverConfig, paramCount: number): Checkpoint[] {
  const c = config.checkpoint;
  if (c === undefined || !c.resume) return [];
  const found = readCheckpoints(checkpointPath(c.dir, ctx.rank));
  // a throw-away optimizer tells the shapes of the state it keeps
  const buffers = createOptimizer(config.optimizer, paramCount).buffers;
  for (const { file, checkpoint } of found) {
    checkCompatible(checkpoint, file, { solver: config.solver, size: ctx.size, paramCount, optimizer: config.optimizer.name, buffers });
  }
  return found.map((f) => f.checkpoint);
}

/** The newest checkpoint this rank resumes from (null: not resuming, or none yet). */
export function loadCheckpointFor(ctx: PgasContext, config: ResolvedSolverConfig, paramCount: number): Checkpoint | null {
  return loadCheckpointsFor(ctx, config, paramCount)[0] ?? null;
}

export interface Prepared<B> {
  problem: Problem<B>;
  checkpoint: Checkpoint | null;
}

/**
 * Set-up every solver shares, agreed on by all ranks before anything is trained: build the problem
 * for data part `part` of `parts`, check the model, read and check the checkpoint when resuming.
 */
export async function prepare<B>(ctx: PgasContext, config: ResolvedSolverConfig, source: ProblemSource<B>, part = ctx.rank, parts = ctx.size): Promise<Prepared<B>> {
  const prepared = await preflight(ctx, async () => {
    const problem = await resolveProblem(source, part, parts, config.seed);
    checkModel(problem.model as Model<unknown>, problem.data as DataSource<unknown>);
    return { problem, candidates: loadCheckpointsFor(ctx, config, problem.model.paramCount) };
  });
  const checkpoint = await agreeOnResume(ctx, config, prepared.candidates);
  return { problem: prepared.problem, checkpoint };
}

/**
 * A job resumes on all ranks or on none, and the synchronous solvers from one common step: a rank
 * that lost its checkpoint must not silently start over while the others continue. A job killed while
 * its ranks were writing one step's checkpoints has that step on some ranks only; every rank then
 * goes back to the newest step all of them have (the latest or the one before it).
 */
async function agreeOnResume(ctx: PgasContext, config: ResolvedSolverConfig, candidates: Checkpoint[]): Promise<Checkpoint | null> {
  const newest = candidates[0] ?? null;
  if (ctx.size === 1 || !config.checkpoint?.resume) return newest;
  const mine = new Float64Array([newest ? 1 : 0, newest ? newest.meta.step : -1]);
  const low = mine.slice();
  const high = mine.slice();
  await ctx.allreduce(low, low, 'min');
  await ctx.allreduce(high, high, 'max');
  if (low[0] !== high[0]) {
    throw new CheckpointMismatchError(`some ranks have a checkpoint in ${config.checkpoint.dir} and some do not: resume all ranks or none (this rank ${newest ? 'has one' : 'has none'})`);
  }
  const synchronous = config.solver === 'sync' || config.solver === 'distnewton';
  if (!synchronous || low[1] === high[1]) return newest;
  const common = candidates.find((c) => c.meta.step === low[1]) ?? null;
  const have = new Float64Array([common ? 1 : 0]);
  await ctx.allreduce(have, have, 'min');
  if (have[0] !== 1) {
    throw new CheckpointMismatchError(`the ranks' checkpoints are from different steps (${low[1]} to ${high[1]}) and not every rank kept step ${low[1]}; solver '${config.solver}' needs them from one step`);
  }
  return common;
}
