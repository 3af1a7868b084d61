import { Worker } from 'node:worker_threads';
import type { PgasContext } from '../../../pgas/index.js';
import type { ResolvedSolverConfig } from '../config.js';
import { IncompatibleOptionsError } from '../errors.js';
import type { ProblemRef } from '../model.js';
import { sleep } from './pace.js';
import { prepare, preflight } from './setup.js';
import { Trainer } from './trainer.js';
import type { ProblemSource, RunHooks, RunResult } from './types.js';
import { C_SAMPLES, C_STOP, C_UPDATES, CONTROL_WORDS, type HogwildWorkerData } from './hogwild-shared.js';

/**
 * Hogwild / AsySG-incon (ALGORITHMS.md §2): `threads` worker threads of this rank update the rank's
 * state segment (one SharedArrayBuffer) without locks. Thread t of rank r trains on part r·T + t of
 * size·T (together exactly the rank's partition). The run's `steps` counts the updates of all threads;
 * this thread watches the budgets and targets and raises a stop flag. With one thread the updates are
 * those of plain SGD, bit for bit. On several ranks each rank runs its own Hogwild and one allreduce
 * averages the states at the end (as SimuParallelSGD does).
 *
 * The threads must build the model themselves, so the problem must be a ProblemRef.
 */
export async function runHogwild<B>(ctx: PgasContext, config: ResolvedSolverConfig, source: ProblemSource<B>, hooks: RunHooks = {}): Promise<RunResult> {
  const threads = config.hogwild.threads;
  await preflight(ctx, async () => {
    if (typeof source === 'function' || !('module' in source)) {
      throw new IncompatibleOptionsError("solver 'hogwild' builds the model in worker threads: give the problem as a ProblemRef { module, export, args }, not as an object or a function");
    }
  });
  const ref = source as ProblemRef;
  const { problem } = await prepare(ctx, config, source);
  const d = problem.model.paramCount;
  const state = await ctx.createSegment(config.segmentBase, 4 * d);
  const trainer = new Trainer(ctx, config, problem, state.f32, false);
  trainer.hooks = hooks;
  trainer.initParams();
  await ctx.barrier();

  const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  const losses = new Float64Array(new SharedArrayBuffer(16 * threads));
  const workers = Array.from({ length: threads }, (_, t) => {
    const workerData: HogwildWorkerData = {
      state: state.buffer, control: control.buffer as SharedArrayBuffer, losses: losses.buffer as SharedArrayBuffer,
      ref, config, thread: t, part: ctx.rank * threads + t, parts: ctx.size * threads,
    };
    return new Worker(new URL('./hogwild-worker.js', import.meta.url), { workerData });
  });
  const exited = workers.map((worker) => new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a hogwild thread exited with code ${code}`))));
  }));
  let running = threads;
  const all = Promise.all(exited).finally(() => (running = 0));
  all.catch(() => Atomics.store(control, C_STOP, 1));

  // watch: budgets, targets and metrics from this thread while the workers run
  let nextLine = config.metrics.every;
  let lossSeen = 0;
  let countSeen = 0;
  let nextEval = config.stop.evalEvery;
  const sync = (): void => {
    trainer.step = Math.min(Atomics.load(control, C_UPDATES), config.stop.steps);
    trainer.counters.steps = trainer.step;
    trainer.counters.samples = Atomics.load(control, C_SAMPLES);
  };
  while (running > 0) {
    await Promise.race([all.catch(() => undefined), sleep(5)]);
    sync();
    if (nextEval > 0 && trainer.step >= nextEval) {
      nextEval += config.stop.evalEvery;
      trainer.evaluate();
      trainer.stopReason ??= trainer.stop.target(trainer.lastEvalLoss, trainer.lastEvalScore);
    }
    if (trainer.metrics.enabled && trainer.step >= nextLine) {
      nextLine += config.metrics.every;
      let sum = 0;
      let count = 0;
      for (let t = 0; t < threads; t++) {
        sum += losses[2 * t]!;
        count += losses[2 * t + 1]!;
      }
      // the mean loss of the updates since the last line
      if (count > countSeen) trainer.metrics.addLoss((sum - lossSeen) / (count - countSeen));
      lossSeen = sum;
      countSeen = count;
      trainer.writeLine(false);
    }
    trainer.stopReason ??= trainer.stop.budget(trainer.step, trainer.counters.samples);
    if (trainer.stopReason !== null) Atomics.store(control, C_STOP, 1);
  }
  await all;
  sync();
  trainer.stopReason ??= trainer.stop.budget(trainer.step, trainer.counters.samples) ?? 'steps';
  hooks.onStep?.(trainer.step, trainer.params, trainer.counters);
  await ctx.barrier();
  if (ctx.size > 1) {
    const w = trainer.params;
    await ctx.allreduce(w, w, 'sum');
    for (let k = 0; k < d; k++) w[k] = w[k]! / ctx.size;
  }
  const result = await trainer.finish(trainer.params);
  await ctx.deleteSegment(config.segmentBase);
  return result;
}
