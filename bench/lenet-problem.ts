/**
 * The problem the LeNet scaling runs give the numeric core: the CNN's own (cnn/distributed.ts, as
 * `cnn train` under pgas-run uses it) with a small evaluation set, because the core evaluates the
 * final state on its clock and a pass over the whole test file would be most of a short run. The
 * benchmark measures accuracy itself, off the clock (bench/lenet-rank.ts).
 */
import { cnnProblem, type CnnBatch, type CnnProblemArgs } from '../cnn/distributed.js';
import type { Problem, ProblemContext } from '../runtime/asgd/index.js';

export const LENET_PROBLEM_MODULE = import.meta.url;

/** images in the core's own (on-the-clock) final evaluation */
const CORE_EVAL_IMAGES = 64;

/** When this thread's problem was last built: the core's training clock starts right after. */
export let problemReadyAt = NaN;

export function lenetBenchProblem(context: ProblemContext): Problem<CnnBatch> {
  const problem = cnnProblem({ ...context, args: context.args as CnnProblemArgs });
  const all = problem.evalData!;
  const count = Math.min(CORE_EVAL_IMAGES, all.count);
  problemReadyAt = performance.now();
  return { ...problem, evalData: { set: all.set, indices: all.indices.slice(0, count), count } };
}
