import type { PgasContext } from '../../../pgas/index.js';
import type { ResolvedSolverConfig } from '../config.js';
import { Breather, yieldNow } from './pace.js';
import { startOnStateSegment } from './start.js';
import type { ProblemSource, RunHooks, RunResult } from './types.js';

/**
 * SimuParallelSGD (Zinkevich et al., ALGORITHMS.md §2): every rank runs SGD on its own partition with
 * no communication at all, then one allreduce averages the states; every rank returns the average.
 * With one rank it is plain SGD. (The rank's state before the average is in `local` of the result.)
 */
export async function runSimuParallel<B>(ctx: PgasContext, config: ResolvedSolverConfig, source: ProblemSource<B>, hooks: RunHooks = {}): Promise<RunResult & { local: Float32Array }> {
  const trainer = await startOnStateSegment(ctx, config, source, hooks);
  const d = trainer.model.paramCount;

  const w = trainer.params;
  const breather = new Breather();
  let stop = trainer.stop.budget(trainer.step, trainer.counters.samples) !== null;
  while (!stop) {
    const lr = trainer.lr();
    trainer.gradientStep();
    trainer.optimizer.step(w, trainer.grad, lr, null);
    stop = trainer.afterStep();
    if (trainer.checkpointDueBySteps() || trainer.checkpointDueByTime()) trainer.saveCheckpoint();
    if (!stop && breather.due()) await yieldNow();
  }
  // the checkpoint holds the rank's own state, so that a resumed run averages the same way
  if (config.checkpoint?.atEnd) trainer.saveCheckpoint();
  const local = w.slice();
  if (ctx.size > 1) {
    await ctx.allreduce(w, w, 'sum');
    const inv = 1 / ctx.size;
    for (let k = 0; k < d; k++) w[k] = w[k]! * inv;
  }
  const result = await trainer.finish(w, undefined, false);
  await ctx.deleteSegment(config.segmentBase);
  return { ...result, local };
}
