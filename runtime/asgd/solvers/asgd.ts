import type { PgasContext } from '../../../pgas/index.js';
import type { ResolvedSolverConfig } from '../config.js';
import type { Rng } from '../rng.js';
import { Breather, yieldNow } from './pace.js';
import { prepare } from './setup.js';
import { Trainer } from './trainer.js';
import type { ProblemSource, RunHooks, RunResult } from './types.js';
import { AsgdExchange } from './exchange.js';
import { mixSgd, pull } from './window.js';
import { withSurvivors } from './survivors.js';

/** The end of a run waits at most this long for the other survivors (a bound, not an expected time). */
const END_TIMEOUT_MS = 120_000;

/**
 * ASGD (ALGORITHMS.md §1), one rank's loop: gradient of a local mini-batch; take the states that
 * arrived and window them; update with the mix; every `exchangeEvery` steps put the state into a
 * random other rank's inbox slot. With one rank, or exchangeEvery = ∞, nothing is exchanged and the
 * loop is plain mini-batch SGD (the same optimizer call, so bit for bit).
 *
 * Segments: base = state, base+1 = outbox, base+2 = inbox.
 */
export async function runAsgd<B>(ctx: PgasContext, config: ResolvedSolverConfig, source: ProblemSource<B>, hooks: RunHooks = {}): Promise<RunResult> {
  const { problem, checkpoint } = await prepare(ctx, config, source);
  const d = problem.model.paramCount;
  const base = config.segmentBase;
  const state = await ctx.createSegment(base, 4 * d);
  const trainer = new Trainer(ctx, config, problem, state.f32, checkpoint !== null);
  trainer.hooks = hooks;
  const communicate = ctx.size > 1 && config.asgd.exchangeEvery !== Infinity;
  const exchange = communicate
    ? await AsgdExchange.create(ctx, d, { outboxSegment: base + 1, inboxSegment: base + 2, queue: config.queue, seed: config.seed, counters: trainer.counters })
    : null;
  const rngs: Record<string, Rng> = exchange ? { exchange: exchange.rng } : {};
  trainer.initParams();
  if (checkpoint) trainer.restore(checkpoint, rngs);
  await ctx.barrier();

  const w = trainer.params;
  const g = trainer.grad;
  const optimizer = trainer.optimizer;
  const dw = optimizer.usesDisplacement ? new Float32Array(d) : null;
  const fusedSgd = optimizer.name === 'sgd' && config.optimizer.weightDecay === 0 && config.asgd.mix === 'inStep';
  const replace = config.asgd.mix === 'replace';
  const windowOn = config.asgd.window === 'parzen';
  const every = config.asgd.exchangeEvery;
  const skipWhenBusy = config.asgd.busyOutbox === 'skip';
  const breather = new Breather();
  let stop = trainer.stop.budget(trainer.step, trainer.counters.samples) !== null;
  while (!stop) {
    const lr = trainer.lr();
    trainer.gradientStep();
    let accepted = 0;
    if (exchange) {
      const t0 = performance.now();
      accepted = exchange.collect(w, g, lr, windowOn);
      trainer.counters.exchangeSeconds += (performance.now() - t0) / 1000;
    }
    const mixRate = config.asgd.mixRate ?? lr;
    if (accepted === 0) {
      optimizer.step(w, g, lr, null);
    } else if (fusedSgd) {
      mixSgd(w, g, exchange!.sum, accepted, lr, mixRate);
    } else {
      pull(w, exchange!.sum, accepted, mixRate, replace, dw);
      optimizer.step(w, g, lr, dw);
    }
    stop = trainer.afterStep();
    if (exchange && trainer.step % every === 0) {
      const t0 = performance.now();
      if (skipWhenBusy && exchange.busy()) trainer.counters.sendSkipped++;
      else {
        if (!exchange.sendReady()) {
          if (exchange.busy()) trainer.counters.sendWaits++;
          await exchange.drain();
        }
        exchange.send(w);
      }
      trainer.counters.exchangeSeconds += (performance.now() - t0) / 1000;
    }
    if (trainer.checkpointDueBySteps() || trainer.checkpointDueByTime()) trainer.saveCheckpoint(rngs);
    if (!stop && breather.due()) await yieldNow();
  }
  if (exchange) await exchange.drain();
  // the rank's own state (and exchange generator) is what a resumed run continues from
  if (config.checkpoint?.atEnd) trainer.saveCheckpoint(rngs);
  // The end is collective over the ranks still alive: asgd is the solver that survives lost ranks.
  // Every survivor has stopped sending before any state is averaged or a segment goes away.
  const own = config.asgd.finalState === 'average' ? w.slice() : null;
  const result = await withSurvivors(ctx, END_TIMEOUT_MS, async (group) => {
    if (own) w.set(own); // a retry after a death mid-average starts again from this rank's own state
    await ctx.barrier(group, END_TIMEOUT_MS);
    if (own && group.size > 1) {
      await ctx.allreduce(w, w, 'sum', group, END_TIMEOUT_MS);
      const inv = 1 / group.size;
      for (let k = 0; k < d; k++) w[k] = w[k]! * inv;
    }
    return trainer.finish(w, undefined, false, group);
  });
  if (exchange) {
    await ctx.deleteSegment(base + 1);
    if (ctx.size > 1) await ctx.deleteSegment(base + 2);
  }
  await ctx.deleteSegment(base);
  return result;
}
