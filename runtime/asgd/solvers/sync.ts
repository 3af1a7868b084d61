import type { PgasContext } from '../../../pgas/index.js';
import type { ResolvedSolverConfig } from '../config.js';
import { STOP_REASONS, type StopReason } from '../run/control.js';
import { startOnStateSegment } from './start.js';
import type { ProblemSource, RunHooks, RunResult } from './types.js';

/** control words after the gradient in the allreduced buffer */
const SAMPLES = 0;
const CHECKPOINT = 1;
const EVALUATED = 2;
const EVAL_LOSS = 3;
const EVAL_SCORE = 4;
const REASONS = 5;
const CONTROL = REASONS + STOP_REASONS.length;

/**
 * Synchronous SGD (the BATCH baseline with batchSize 'full'): each step every rank computes its
 * gradient, one allreduce sums them weighted by batch size, and every rank applies the same update
 * to the same state, so all ranks hold identical states after every step (the allreduce gives
 * bit-identical sums on every rank). Stop, evaluation and checkpoint decisions ride in the same
 * allreduce, so every rank stops and checkpoints at the same step. With one rank it is plain SGD.
 */
export async function runSync<B>(ctx: PgasContext, config: ResolvedSolverConfig, source: ProblemSource<B>, hooks: RunHooks = {}): Promise<RunResult> {
  const trainer = await startOnStateSegment(ctx, config, source, hooks);
  const d = trainer.model.paramCount;

  const w = trainer.params;
  const g = trainer.grad;
  const buffer = new Float32Array(d + CONTROL);
  const control = buffer.subarray(d);
  const shared = ctx.size > 1;
  // a resumed run may already be at its budget: agree on that before the first step
  const already = new Float32Array([trainer.stop.budget(trainer.step, trainer.counters.samples) === null ? 0 : 1]);
  if (shared) await ctx.allreduce(already, already, 'sum');
  if (already[0]! > 0) trainer.stopReason = trainer.stop.budget(trainer.step, trainer.counters.samples) ?? 'steps';
  while (trainer.stopReason === null) {
    const lr = trainer.lr();
    const evaluate = trainer.step > 0 && trainer.stop.evalDue(trainer.step);
    if (evaluate) trainer.evaluate();
    trainer.gradientStep();
    const own = trainer.stop.budget(trainer.step + 1, trainer.counters.samples);
    let target: StopReason | null = null;
    let reason: StopReason | null = own;
    let checkpointNow = false;
    if (shared) {
      const n = trainer.batchSize;
      for (let k = 0; k < d; k++) buffer[k] = g[k]! * n;
      control.fill(0);
      control[SAMPLES] = n;
      control[CHECKPOINT] = trainer.checkpointDueByTime() ? 1 : 0;
      if (evaluate) {
        control[EVALUATED] = 1;
        control[EVAL_LOSS] = trainer.lastEvalLoss;
        control[EVAL_SCORE] = trainer.lastEvalScore ?? 0;
      }
      if (own !== null) control[REASONS + STOP_REASONS.indexOf(own)] = 1;
      await ctx.allreduce(buffer, buffer, 'sum');
      const inv = 1 / control[SAMPLES]!;
      for (let k = 0; k < d; k++) g[k] = buffer[k]! * inv;
      if (control[EVALUATED]! > 0) {
        // the mean over ranks of each rank's evaluation: every rank takes the same decision
        trainer.lastEvalLoss = control[EVAL_LOSS]! / control[EVALUATED]!;
        if (trainer.lastEvalScore !== undefined) trainer.lastEvalScore = control[EVAL_SCORE]! / control[EVALUATED]!;
        target = trainer.stop.target(trainer.lastEvalLoss, trainer.lastEvalScore);
      }
      reason = null;
      for (let i = 0; i < STOP_REASONS.length; i++) if (control[REASONS + i]! > 0) reason ??= STOP_REASONS[i]!;
      checkpointNow = control[CHECKPOINT]! > 0;
    } else {
      if (evaluate) target = trainer.stop.target(trainer.lastEvalLoss, trainer.lastEvalScore);
      checkpointNow = trainer.checkpointDueByTime();
    }
    if (target !== null) {
      // the state evaluated before this step already meets the target: keep it
      trainer.stopReason = target;
      break;
    }
    trainer.optimizer.step(w, g, lr, null);
    trainer.step++;
    trainer.counters.steps = trainer.step;
    trainer.hooks.onStep?.(trainer.step, w, trainer.counters);
    if (trainer.metrics.enabled && trainer.step % config.metrics.every === 0) trainer.writeLine(false);
    if (checkpointNow || trainer.checkpointDueBySteps()) trainer.saveCheckpoint();
    if (reason !== null) {
      trainer.stopReason = reason;
      break;
    }
  }
  await ctx.barrier();
  const result = await trainer.finish(w);
  await ctx.deleteSegment(config.segmentBase);
  return result;
}
