import type { PgasContext } from '../../../pgas/index.js';
import type { ResolvedSolverConfig } from '../config.js';
import { prepare } from './setup.js';
import { Trainer } from './trainer.js';
import type { ProblemSource, RunHooks } from './types.js';

/**
 * The start the solvers that keep the whole state in one segment share (sync, SimuParallelSGD,
 * DistNewton): the agreed set-up (problem, checkpoint to resume from), the rank's state in segment
 * `segmentBase`, a trainer over it holding initial or restored parameters, then a barrier, so that no
 * rank takes a step before every rank's state exists.
 */
export async function startOnStateSegment<B>(ctx: PgasContext, config: ResolvedSolverConfig, source: ProblemSource<B>, hooks: RunHooks): Promise<Trainer<B>> {
  const { problem, checkpoint } = await prepare(ctx, config, source);
  const state = await ctx.createSegment(config.segmentBase, 4 * problem.model.paramCount);
  const trainer = new Trainer(ctx, config, problem, state.f32, checkpoint !== null);
  trainer.hooks = hooks;
  trainer.initParams();
  if (checkpoint) trainer.restore(checkpoint);
  await ctx.barrier();
  return trainer;
}
