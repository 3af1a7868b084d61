/**
 * The numeric core's link to the pgas-run dashboard: every solver's run goes through createSolver, which
 * wraps the caller's hooks here, so one place publishes every solver's samples, steps, state exchange
 * counts (sent / received / accepted by the window) and budget progress. The step's loss reaches the
 * feed from MetricsWriter.addLoss, which every solver calls. Without a dashboard the hooks are returned
 * unchanged and a run costs nothing extra.
 */
import type { PgasContext } from '../../../pgas/index.js';
import { metricsDue, metricsFeedEnabled, publishMetrics } from '../../metrics-feed/index.js';
import type { ResolvedSolverConfig } from '../config.js';
import type { RunHooks } from '../solvers/types.js';
import type { RankCounters } from './metrics.js';

/** Fraction of the step, sample and time budgets used (the largest), or undefined when none is set. */
export function budgetProgress(stop: ResolvedSolverConfig['stop'], steps: number, samples: number, seconds: number): number | undefined {
  const parts: number[] = [];
  if (Number.isFinite(stop.steps)) parts.push(steps / stop.steps);
  if (Number.isFinite(stop.samples)) parts.push(samples / stop.samples);
  if (Number.isFinite(stop.seconds)) parts.push(seconds / stop.seconds);
  return parts.length ? Math.min(1, Math.max(...parts)) : undefined;
}

function deadPeers(ctx: PgasContext): number[] {
  const dead: number[] = [];
  ctx.health().forEach((h, r) => { if (h === 'dead') dead.push(r); });
  return dead;
}

export function withMetricsFeed(ctx: PgasContext, config: ResolvedSolverConfig, hooks: RunHooks = {}): RunHooks {
  if (!metricsFeedEnabled()) return hooks;
  const started = performance.now();
  const user = hooks.onStep;
  const onStep = (step: number, params: Float32Array, counters: Readonly<RankCounters>): void => {
    // Publish before the caller's hook: an application that publishes its own fields from its hook
    // (K-Means: error, progress) merges them into the next record instead of taking this record's turn.
    if (metricsDue()) publishCore(step, counters);
    user?.(step, params, counters);
  };
  const publishCore = (step: number, counters: Readonly<RankCounters>): void => {
    const progress = budgetProgress(config.stop, step, counters.samples, (performance.now() - started) / 1000);
    publishMetrics(ctx.rank, {
      samples: counters.samples,
      steps: step,
      sent: counters.sent,
      received: counters.received,
      accepted: counters.accepted,
      solver: config.solver,
      transport: ctx.transportKind,
      deadPeers: deadPeers(ctx),
      ...(progress === undefined ? {} : { progress }),
    });
  };
  return { ...hooks, onStep };
}
