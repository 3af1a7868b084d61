import type { PgasContext } from '../../../pgas/index.js';
import type { ResolvedSolverConfig } from '../config.js';
import { STOP_REASONS, type StopReason } from '../run/control.js';
import { startOnStateSegment } from './start.js';
import type { Trainer } from './trainer.js';
import type { ProblemSource, RunHooks, RunResult } from './types.js';
import { distNewtonStep } from './distnewton-math.js';

/**
 * DistNewton (Arnold & Wang; ALGORITHMS.md §4), synchronous rounds over all ranks. In a round every
 * rank starts from the common θ, takes `localSteps` SGD steps on its own data to reach θ_k, and
 * takes a gradient g_k at θ_k on a fresh batch. An allreduce over a zeroed table in which each rank
 * filled its own row gathers every (θ_k, g_k) exactly (x + 0 = x), so every rank computes the same
 * Newton step from the same numbers and all hold the same θ after every round. A "step" of the run
 * control is a round.
 */
export async function runDistNewton<B>(ctx: PgasContext, config: ResolvedSolverConfig, source: ProblemSource<B>, hooks: RunHooks = {}): Promise<RunResult> {
  const trainer = await startOnStateSegment(ctx, config, source, hooks);
  const d = trainer.model.paramCount;
  const m = ctx.size;

  const opts = config.distnewton;
  const theta = trainer.params;
  const local = new Float32Array(d);
  const g = trainer.grad;
  const row = 2 * d;
  const control = m * row;
  const table = new Float64Array(control + STOP_REASONS.length);
  const thetas = Array.from({ length: m }, (_, k) => table.subarray(k * row, k * row + d));
  const grads = Array.from({ length: m }, (_, k) => table.subarray(k * row + d, (k + 1) * row));
  const gradientBatch = opts.gradientBatch === 'full' ? trainer.data.size : opts.gradientBatch === 0 ? trainer.batchSize : opts.gradientBatch;
  let lastKept = 0;

  const already = new Float64Array([trainer.stop.budget(trainer.step, trainer.counters.samples) === null ? 0 : 1]);
  if (m > 1) await ctx.allreduce(already, already, 'sum');
  if (already[0]! > 0) trainer.stopReason = trainer.stop.budget(trainer.step, trainer.counters.samples) ?? 'steps';
  while (trainer.stopReason === null) {
    const lr = trainer.lr();
    local.set(theta);
    for (let s = 0; s < opts.localSteps; s++) {
      trainer.gradientStep(local);
      for (let k = 0; k < d; k++) local[k] = local[k]! - lr * g[k]!;
    }
    const batch = opts.gradientBatch === 'full' ? trainer.data.all() : trainer.data.next(gradientBatch);
    trainer.counters.samples += gradientBatch;
    trainer.metrics.addLoss(trainer.model.gradient(local, batch, g));
    table.fill(0);
    const mine = ctx.rank * row;
    for (let k = 0; k < d; k++) {
      table[mine + k] = local[k]!;
      table[mine + d + k] = g[k]!;
    }
    const own = trainer.stop.budget(trainer.step + 1, trainer.counters.samples);
    if (own !== null) table[control + STOP_REASONS.indexOf(own)] = 1;
    if (m > 1) await ctx.allreduce(table, table, 'sum');
    const step = distNewtonStep(thetas, grads, opts.lambda);
    lastKept = step.kept;
    let tau = opts.tau;
    if (opts.boundStep && step.curvature.length > 0) tau = Math.min(tau, 1 / Math.max(...step.curvature));
    for (let k = 0; k < d; k++) theta[k] = step.thetaBar[k]! - tau * step.direction[k]!;
    trainer.step++;
    trainer.counters.steps = trainer.step;
    trainer.hooks.onStep?.(trainer.step, theta, trainer.counters);
    if (trainer.stop.evalDue(trainer.step)) {
      // every rank holds the same θ; each evaluates on its own data and may stop on its own, so the
      // decision is shared in the next round's table (a target is met by the mean over ranks)
      trainer.evaluate();
    }
    if (trainer.metrics.enabled && trainer.step % config.metrics.every === 0) trainer.writeLine(false, () => ({ kept: lastKept }));
    if (trainer.checkpointDueBySteps()) trainer.saveCheckpoint();
    let reason: StopReason | null = null;
    for (let i = 0; i < STOP_REASONS.length; i++) if (table[control + i]! > 0) reason ??= STOP_REASONS[i]!;
    if (reason === null && trainer.stop.evalDue(trainer.step)) reason = await sharedTarget(ctx, trainer);
    trainer.stopReason = reason;
  }
  await ctx.barrier();
  const result = await trainer.finish(theta);
  await ctx.deleteSegment(config.segmentBase);
  return result;
}

/** the mean evaluation over ranks decides a target for everyone */
async function sharedTarget<B>(ctx: PgasContext, trainer: Trainer<B>): Promise<StopReason | null> {
  const values = new Float64Array([trainer.lastEvalLoss, trainer.lastEvalScore ?? 0]);
  if (ctx.size > 1) await ctx.allreduce(values, values, 'sum');
  const loss = values[0]! / ctx.size;
  const score = trainer.lastEvalScore === undefined ? undefined : values[1]! / ctx.size;
  return trainer.stop.target(loss, score);
}
