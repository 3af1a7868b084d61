/**
 * Rank program of the solver benchmarks (started by bench/solver-job.ts, never by hand): runs a list
 * of runtime/asgd solver runs one after the other in the same job, on synthetic problems with a known
 * optimum, and prints `SOLVERRUN <json>` per run with the result and, every `traceEvery` steps
 * on the ranks that see steps, the excess loss (loss − loss at the optimum, over all rows) of the
 * rank's state. Time spent measuring the trace is taken out of the trace's clock.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init } from '../pgas/index.js';
import type { SolverConfig } from '../runtime/asgd/config.js';
import { SYNTHETIC_MODULE, syntheticDataset, syntheticModel, syntheticOptimum, type SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';
import { runSolver } from '../runtime/asgd/solve.js';

export interface SolverRunSpec {
  label: string;
  config: Omit<SolverConfig, 'segmentBase'>;
  problem: SyntheticArgs;
  /** steps between trace points (0: no trace) */
  traceEvery: number;
  /**
   * also keep the solver's own metric lines every this many steps (training loss since the last
   * line, as the solver's control loop sees it; the only trace hogwild gives, since its updates
   * happen in worker threads)
   */
  metricsEvery?: number;
}

export interface SolverRunLine {
  label: string;
  rank: number;
  size: number;
  steps: number;
  samples: number;
  seconds: number;
  stopReason: string;
  finalLoss: number;
  finalExcess: number;
  optimumLoss: number;
  stalenessMax: number;
  trace: { step: number; seconds: number; samples: number; excess: number }[];
  /** the solver's metric lines (step, wall time, mean training loss since the previous line) */
  metrics: { step: number; time: number; loss: number }[];
}

const specs = JSON.parse(process.argv[2]!) as SolverRunSpec[];
const ctx = await init();
const optimumLosses = new Map<string, number>();

function lossAtOptimum(problem: SyntheticArgs): number {
  const key = JSON.stringify(problem);
  let v = optimumLosses.get(key);
  if (v === undefined) {
    const data = syntheticDataset(problem);
    const model = syntheticModel(problem, data);
    const all = { x: data.x, y: data.y, dim: data.dim, idx: Int32Array.from({ length: data.rows }, (_, i) => i), size: data.rows };
    v = model.loss(Float32Array.from(syntheticOptimum(problem)), all);
    optimumLosses.set(key, v);
  }
  return v;
}

for (const [i, spec] of specs.entries()) {
  const data = syntheticDataset(spec.problem);
  const model = syntheticModel(spec.problem, data);
  const all = { x: data.x, y: data.y, dim: data.dim, idx: Int32Array.from({ length: data.rows }, (_, j) => j), size: data.rows };
  const optimum = lossAtOptimum(spec.problem);
  const trace: SolverRunLine['trace'] = [];
  let measuring = 0;
  await ctx.barrier();
  const metricsDir = spec.metricsEvery ? mkdtempSync(join(tmpdir(), `bench-solver-${ctx.rank}-`)) : undefined;
  const config = { ...spec.config, // solvers delete their segments at the end; rotating over 8 bases (ids < 64) keeps a late peer operation off a re-created one
    segmentBase: 8 * (i % 8), ...(metricsDir ? { metrics: { dir: metricsDir, every: spec.metricsEvery! } } : {}) };
  const started = performance.now();
  const result = await runSolver(ctx, config, { module: SYNTHETIC_MODULE, export: 'syntheticProblem', args: spec.problem }, {
    onStep(step, params, counters) {
      if (spec.traceEvery <= 0 || (step % spec.traceEvery !== 0 && step !== 1)) return;
      const t0 = performance.now();
      const excess = model.loss(params, all) - optimum;
      const t1 = performance.now();
      trace.push({ step, seconds: (t0 - started - measuring) / 1000, samples: counters.samples, excess });
      measuring += t1 - t0;
    },
  });
  const finalLoss = model.loss(result.params, all);
  const metrics: SolverRunLine['metrics'] = [];
  if (metricsDir) {
    for (const text of readFileSync(join(metricsDir, `rank-${ctx.rank}.jsonl`), 'utf8').split('\n')) {
      if (text.trim() === '') continue;
      const m = JSON.parse(text) as { step: number; time: number; loss: number | null; final?: boolean };
      if (!m.final && typeof m.loss === 'number') metrics.push({ step: m.step, time: m.time, loss: m.loss });
    }
    rmSync(metricsDir, { recursive: true, force: true });
  }
  const line: SolverRunLine = {
    label: spec.label, rank: ctx.rank, size: ctx.size, steps: result.steps, samples: result.samples, seconds: result.seconds - measuring / 1000,
    stopReason: result.stopReason, finalLoss, finalExcess: finalLoss - optimum, optimumLoss: optimum, stalenessMax: result.counters.stalenessMax, trace, metrics,
  };
  console.log(`SOLVERRUN ${JSON.stringify(line)}`);
}
await ctx.close();
