/**
 * One rank of the ASGD exchange benchmark (started by bench/asgd.ts, never by hand): runs asgd on a
 * synthetic problem with a state of `dim` floats for a wall-clock budget and prints
 * `BENCH <rank> <json>` with the steady-state step rate (the first `warmup` fraction of the budget is
 * left out) and the exchange counters.
 */
import { init } from '../pgas/index.js';
import { SYNTHETIC_MODULE, type SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';
import { runSolver } from '../runtime/asgd/solve.js';

export interface AsgdRankSpec {
  dim: number;
  rows: number;
  batch: number;
  seconds: number;
  warmup: number;
  exchangeEvery: number | 'Infinity';
  window: 'parzen' | 'off';
  busyOutbox: 'wait' | 'skip';
  seed: number;
}

const spec = JSON.parse(process.argv[2]!) as AsgdRankSpec;
const problem: SyntheticArgs = { kind: 'quadratic', rows: spec.rows, dim: spec.dim, noise: 1, dataSeed: 3 };
const ctx = await init();
let markTime = -1;
let markStep = 0;
let markExchange = 0;
let lastTime = 0;
let lastStep = 0;
let lastExchange = 0;
const started = performance.now();
const result = await runSolver(ctx, {
  solver: 'asgd',
  optimizer: { name: 'sgd', lr: 0.05 },
  batchSize: spec.batch,
  seed: spec.seed,
  stop: { seconds: spec.seconds },
  asgd: { exchangeEvery: spec.exchangeEvery === 'Infinity' ? Infinity : spec.exchangeEvery, window: spec.window, busyOutbox: spec.busyOutbox },
}, { module: SYNTHETIC_MODULE, export: 'syntheticProblem', args: problem }, {
  onStep(step, _params, counters) {
    const now = performance.now();
    if (markTime < 0 && now - started >= spec.warmup * spec.seconds * 1000) {
      markTime = now;
      markStep = step;
      markExchange = counters.exchangeSeconds;
    }
    lastTime = now;
    lastStep = step;
    lastExchange = counters.exchangeSeconds;
  },
});
// the steady state: after the warm-up mark (the whole run when it was too short to have one)
const window = markTime >= 0 && lastStep > markStep;
const seconds = window ? (lastTime - markTime) / 1000 : result.seconds;
const steps = window ? lastStep - markStep : result.steps;
const exchangeSeconds = window ? lastExchange - markExchange : result.counters.exchangeSeconds;
console.log(`BENCH ${ctx.rank} ${JSON.stringify({ stepsPerSecond: steps / seconds, steps, seconds, exchangeSeconds, counters: result.counters })}`);
await ctx.close();
