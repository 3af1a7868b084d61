/**
 * Rank program of the LeNet strong-scaling benchmark (started by bench/lenet-job.ts, never by hand):
 * one LeNet training run on Fashion-MNIST through the numeric core, configured from the Caffe solver
 * file exactly as `cnn train` under pgas-run configures it (cnn/distributed.ts coreConfig), with a
 * fixed number of steps. Rank 0 copies its state every `traceEvery` steps (a memcpy, on the clock)
 * and measures the test accuracy of the copies after the run (off the clock). Every rank prints
 * `LENETRUN <json>` (bench/lenet-spec.ts LenetRunLine).
 */
import { CnnModel, coreConfig, type CnnProblemArgs } from '../cnn/distributed.js';
import { selectKernels } from '../cnn/math/blas.js';
import { readSolverFile } from '../cnn/solver/solver-config.js';
import { init } from '../pgas/index.js';
import { runSolver } from '../runtime/asgd/index.js';
import { LENET_PROBLEM_MODULE, problemReadyAt } from './lenet-problem.js';
import { parseLenetRunSpec, type LenetRunLine } from './lenet-spec.js';

const spec = parseLenetRunSpec(process.argv[2]);
selectKernels(spec.kernels);
const caffe = readSolverFile(spec.solverFile);
const config = coreConfig(caffe, { parallel: spec.parallel, seed: spec.seed }, spec.batch);
config.stop = { steps: spec.steps };
if (spec.parallel === 'hogwild') config.hogwild = { threads: spec.threads };

const ctx = await init();
const copies: { step: number; at: number; samples: number; params: Float32Array }[] = [];
const args: CnnProblemArgs = { solver: spec.solverFile, kernels: spec.kernels };
const result = await runSolver(ctx, config, { module: LENET_PROBLEM_MODULE, export: 'lenetBenchProblem', args }, {
  onStep(step, params, counters) {
    // hogwild calls this once, at its end; the others after every step
    if (ctx.rank === 0 && step % spec.traceEvery === 0) copies.push({ step, at: performance.now(), samples: counters.samples, params: params.slice() });
  },
});

const line: LenetRunLine = { rank: ctx.rank, size: ctx.size, steps: result.steps, samples: result.samples, seconds: result.seconds, trace: [], finalAccuracy: null };
if (ctx.rank === 0) {
  const model = new CnnModel(caffe, 0, 1, spec.seed);
  const test = model.testSet();
  const count = Math.min(spec.testCount, test.count);
  const subset = { set: test.set, indices: test.indices.slice(0, count), count };
  // hogwild builds its problem in worker threads, so this thread never saw it built: its clock is the run's
  const origin = Number.isFinite(problemReadyAt) ? problemReadyAt : NaN;
  for (const c of copies) {
    line.trace.push({ step: c.step, seconds: Number.isFinite(origin) ? (c.at - origin) / 1000 : result.seconds, samples: c.samples, accuracy: model.evaluate(c.params, subset).accuracy });
  }
  line.finalAccuracy = model.evaluate(result.params, subset).accuracy;
}
console.log(`LENETRUN ${JSON.stringify(line)}`);
await ctx.close();
