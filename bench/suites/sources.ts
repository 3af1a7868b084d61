/**
 * `sources`: the experiments of the papers this project follows, at this machine's scale.
 * - Lian et al.: iteration speedup and time speedup to a target loss, AsySG-con (the parameter server,
 *   one process per rank over uws) and AsySG-incon (Hogwild threads in one rank), in their table form.
 * - Arnold & Wang: DistNewton against synchronous SGD with 2, 4 and 8 workers (loss against rounds).
 * - Keuper & Pfreundt: K-Means ASGD against SimuParallelSGD and BATCH (Lloyd), and ASGD without
 *   communication, error against time.
 */
import { linePlot, type PlotSeries } from '../plot.js';
import { runKmeansJob } from '../kmeans-job.js';
import type { ResultTable, ResultPlot, SuiteOutput } from '../results.js';
import { band, cell, grid, mean, median, resample } from '../series.js';
import { runSolverJob, type SolverRunLine, type SolverRunSpec } from '../solver-job.js';
import type { SyntheticArgs } from '../../runtime/asgd/problems/synthetic.js';
import { OVERSUBSCRIBED_NOTE, type Suite, type SuiteContext } from './types.js';

const LIAN_CON = { iteration: [1.01, 1.93, 2.65, 3.42, 4.27, 4.92, 5.36, 5.96], time: [1.0, 1.73, 2.28, 2.88, 3.56, 4.07, 4.41, 5.0] };
const LIAN_INCON: Record<number, { iteration: number; time: number }> = { 1: { iteration: 1, time: 1 }, 4: { iteration: 3.9, time: 4.0 }, 8: { iteration: 7.8, time: 8.1 } };
const LIAN_PROBLEM: SyntheticArgs = { kind: 'leastsq', rows: 4000, dim: 200, noise: 0.1, conditioning: 3, dataSeed: 3 };
const NEWTON_PROBLEM: SyntheticArgs = { kind: 'leastsq', rows: 4000, dim: 50, noise: 0.1, conditioning: 10, dataSeed: 3 };
/** target: training loss at most this multiple of the loss at the optimum */
const TARGET_FACTOR = 2;

interface Part {
  tables: ResultTable[];
  plots: ResultPlot[];
  records: object[];
  notes: string[];
}

/** Step and time at which a metric-line trace first reaches `target` (log-linear interpolation between lines). */
function crossing(lines: SolverRunLine['metrics'], target: number): { step: number; time: number } {
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.loss > target) continue;
    if (i === 0) return { step: lines[0]!.step, time: lines[0]!.time };
    const a = lines[i - 1]!;
    const b = lines[i]!;
    const f = (Math.log(a.loss) - Math.log(target)) / (Math.log(a.loss) - Math.log(b.loss));
    return { step: a.step + f * (b.step - a.step), time: a.time + f * (b.time - a.time) };
  }
  return { step: NaN, time: NaN };
}

async function lian(ctx: SuiteContext, seeds: number): Promise<Part> {
  const quick = ctx.args.quick;
  const records: object[] = [];
  const tables: ResultTable[] = [];
  // AsySG-con: p workers + the server, one process per rank over uws
  const workers = quick ? [1, 2] : [1, 2, 4];
  // quick: a looser target (fewer server updates; each one is a round trip over uws)
  const conFactor = quick ? 4 : TARGET_FACTOR;
  const con: { p: number; steps: number; seconds: number }[] = [];
  for (const p of workers) {
    const specs: SolverRunSpec[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      specs.push({
        label: `con|${p}|${seed}`, problem: LIAN_PROBLEM, traceEvery: 0,
        config: { solver: 'paramserver', optimizer: { name: 'sgd', lr: 0.01 }, batchSize: 16, seed, stop: { steps: 40_000, targetLoss: NaN, evalEvery: 10 } },
      });
    }
    // the target is relative to the optimum's loss, which the rank program knows: run once to learn it
    const optimum = await optimumLoss(ctx);
    for (const s of specs) s.config.stop.targetLoss = conFactor * optimum;
    const results = await runSolverJob('uws', p + 1, specs);
    const steps = results.map((lines) => (lines[0]!.stopReason === 'targetLoss' ? lines[0]!.steps : NaN));
    const seconds = results.map((lines) => (lines[0]!.stopReason === 'targetLoss' ? lines[0]!.seconds : NaN));
    results.forEach((lines, i) => records.push({ part: 'lian-asysg-con', workers: p, processes: p + 1, seed: i + 1, steps: steps[i], seconds: seconds[i], stopReason: lines[0]!.stopReason, stalenessMax: lines[0]!.stalenessMax, transport: 'uws' }));
    con.push({ p, steps: median(steps), seconds: median(seconds) });
    ctx.log(`sources: AsySG-con ${p} worker(s): ${cell(median(steps))} server updates, ${cell(median(seconds))} s to the target`);
  }
  const base = con[0]!;
  tables.push({
    id: 'lian-con', key: true,
    title: `Lian et al. table form, AsySG-con (parameter server; one process per rank over uws; least squares, 200 features): speedup to loss ≤ ${conFactor}× optimum, median of ${seeds} seed(s)`,
    header: ['workers', 'processes', 'server updates to target', 'iterations per worker', 'iteration speedup', 'time to target (s)', 'time speedup', 'Lian et al. (CIFAR-10): iteration / time speedup', 'note'],
    rows: con.map((c) => [
      String(c.p), String(c.p + 1), cell(c.steps), cell(c.steps / c.p), cell(base.steps / (c.steps / c.p)), cell(c.seconds), cell(base.seconds / c.seconds),
      LIAN_CON.iteration[c.p - 1] !== undefined ? `${LIAN_CON.iteration[c.p - 1]} / ${LIAN_CON.time[c.p - 1]}` : '',
      c.p + 1 > ctx.cores ? 'oversubscribed: time speedup not valid' : '',
    ]),
    note: 'iteration speedup = updates to the target with 1 worker ÷ updates per worker with p workers (Lian et al.\'s definition); time speedup = time with 1 worker ÷ time with p',
  });
  // AsySG-incon: Hogwild threads sharing one state in one rank
  const threads = quick ? [1, 2, 4] : [1, 2, 4, 8];
  const optimum = await optimumLoss(ctx);
  const incon: { t: number; steps: number; seconds: number }[] = [];
  const specs: SolverRunSpec[] = [];
  for (const t of threads) {
    for (let seed = 1; seed <= seeds; seed++) {
      specs.push({
        label: `incon|${t}|${seed}`, problem: LIAN_PROBLEM, traceEvery: 0, metricsEvery: 50,
        config: { solver: 'hogwild', optimizer: { name: 'sgd', lr: 0.01 }, batchSize: 16, seed, hogwild: { threads: t }, stop: { steps: 12_000 } },
      });
    }
  }
  const results = await runSolverJob('threads', 1, specs);
  for (const t of threads) {
    const mine = results.filter((_, i) => specs[i]!.label.startsWith(`incon|${t}|`));
    const hits = mine.map((lines) => crossing(lines[0]!.metrics, TARGET_FACTOR * optimum));
    hits.forEach((h, i) => records.push({ part: 'lian-asysg-incon', threads: t, seed: i + 1, steps: h.step, seconds: h.time, transport: 'threads (hogwild)' }));
    incon.push({ t, steps: median(hits.map((h) => h.step)), seconds: median(hits.map((h) => h.time)) });
    ctx.log(`sources: AsySG-incon ${t} thread(s): ${cell(incon[incon.length - 1]!.steps)} updates to the target`);
  }
  const b1 = incon[0]!;
  tables.push({
    id: 'lian-incon', key: true,
    title: `Lian et al. table form, AsySG-incon (Hogwild threads in one rank; same problem): speedup to training loss ≤ ${TARGET_FACTOR}× optimum, median of ${seeds} seed(s)`,
    header: ['threads', 'updates to target (all threads)', 'iterations per thread', 'iteration speedup', 'time to target (s)', 'time speedup', 'Lian et al. (synthetic): iteration / time speedup', 'note'],
    rows: incon.map((c) => [
      String(c.t), cell(c.steps), cell(c.steps / c.t), cell(b1.steps / (c.steps / c.t)), cell(c.seconds), cell(b1.seconds / c.seconds),
      LIAN_INCON[c.t] ? `${LIAN_INCON[c.t]!.iteration} / ${LIAN_INCON[c.t]!.time}` : '',
      c.t > ctx.cores ? 'oversubscribed: time speedup not valid' : '',
    ]),
    note: 'Hogwild\'s training loss is read from its metric lines (every ≥ 50 updates, as its control loop polls every 5 ms) and the crossing interpolated between lines; times include starting the worker threads',
  });
  return {
    tables, plots: [], records,
    notes: [`Lian et al.: iteration speedup is meaningful when ranks or threads are oversubscribed (it counts updates, not seconds), so the tables go past the ${ctx.cores} cores; the time speedups of those rows are not valid.`],
  };
}

let optimumCache: number | undefined;
async function optimumLoss(ctx: SuiteContext): Promise<number> {
  if (optimumCache !== undefined) return optimumCache;
  const [lines] = await runSolverJob('threads', 1, [{ label: 'optimum', problem: LIAN_PROBLEM, traceEvery: 0, config: { solver: 'sync', optimizer: { name: 'sgd', lr: 0.01 }, stop: { steps: 1 } } }]);
  optimumCache = lines![0]!.optimumLoss;
  ctx.log(`sources: least-squares loss at the optimum ${cell(optimumCache)}`);
  return optimumCache;
}

async function distNewton(ctx: SuiteContext, seeds: number): Promise<Part> {
  const quick = ctx.args.quick;
  const workers = ctx.args.ranks ?? (quick ? [2] : [2, 4, 8]);
  const rounds = quick ? 60 : 200;
  const every = 5;
  const records: object[] = [];
  const rows: string[][] = [];
  const series: PlotSeries[] = [];
  const roundGrid = grid(every, rounds, rounds / every);
  for (const w of workers) {
    const specs: SolverRunSpec[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      specs.push({ label: `sgd|${seed}`, problem: NEWTON_PROBLEM, traceEvery: every, config: { solver: 'sync', optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 64, seed, stop: { steps: rounds } } });
      specs.push({
        label: `distnewton|${seed}`, problem: NEWTON_PROBLEM, traceEvery: every,
        config: { solver: 'distnewton', optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 64, seed, stop: { steps: rounds }, distnewton: { localSteps: 1, lambda: 0.1, tau: 1 } },
      });
    }
    const results = await runSolverJob('threads', w, specs);
    for (const solver of ['sgd', 'distnewton']) {
      const mine = results.filter((_, i) => specs[i]!.label.startsWith(`${solver}|`)).map((lines) => lines[0]!);
      const b = band(mine.map((l) => resample(l.trace.map((p) => p.step), l.trace.map((p) => p.excess), roundGrid)));
      series.push({ label: `${solver === 'sgd' ? 'SGD (sync)' : 'DistNewton'}, ${w} workers`, x: roundGrid, y: b.median, lo: b.min, hi: b.max, markers: false, dashed: solver === 'sgd' });
      mine.forEach((l, i) => records.push({ part: 'distnewton-vs-sgd', solver, workers: w, seed: i + 1, finalExcess: l.finalExcess, seconds: l.seconds, trace: l.trace, transport: 'threads' }));
      const half = mine.map((l) => l.trace.find((p) => p.step >= rounds / 2)?.excess ?? NaN);
      rows.push([String(w), solver === 'sgd' ? 'SGD (sync, averaged gradients)' : 'DistNewton', cell(median(half)), cell(median(mine.map((l) => l.finalExcess))), cell(median(mine.map((l) => (1000 * l.seconds) / rounds))), w > ctx.cores ? 'oversubscribed: ms/round not valid' : '']);
    }
    ctx.log(`sources: DistNewton vs SGD at ${w} workers done`);
  }
  return {
    tables: [{
      id: 'distnewton', key: true,
      title: `DistNewton against SGD (least squares, 50 features, condition 10, batch 64 per worker; median of ${seeds} seed(s))`,
      header: ['workers', 'solver', `excess loss after ${rounds / 2} rounds`, `after ${rounds} rounds`, 'ms per round', 'note'], rows,
      note: 'SGD: sync solver, lr 0.05, gradients averaged over the workers each round. DistNewton: 1 local SGD step (lr 0.05) and one gradient per worker per round (two batches, SGD uses one), λ = 0.1, Newton step τ = 1 (Arnold & Wang)',
    }],
    plots: [{ file: 'distnewton.svg', title: 'DistNewton against SGD: excess loss per round', key: true, svg: linePlot(series, { title: 'DistNewton vs SGD', subtitle: `least squares, condition 10; median and min–max over ${seeds} seed(s); threads transport`, xLabel: 'round', yLabel: 'excess loss', logY: true }) }],
    records,
    notes: workers.some((w) => w > ctx.cores) ? [`DistNewton/SGD: ${OVERSUBSCRIBED_NOTE(ctx.cores)}`] : [],
  };
}

async function keuper(ctx: SuiteContext, seeds: number): Promise<Part> {
  const quick = ctx.args.quick;
  // long enough for several Lloyd iterations (each is a full pass over the ranks' partitions)
  const budget = ctx.args.timeBudget ?? (quick ? 2 : 8);
  const ranks = Math.min(2, ctx.cores);
  const k = 100;
  const base = ['--size', quick ? '1M' : '2M', '--dim', '10', '--k-true', String(k), '--k', String(k), '--time', String(budget), '--eval-every', String(budget / 40), '--data-seed', '1'];
  const configs = [
    { label: 'ASGD', args: ['--solver', 'asgd', '--epochs', '100000'] },
    { label: 'ASGD without communication', args: ['--solver', 'asgd', '--epochs', '100000', '--exchange-every', '1000000000'] },
    { label: 'SimuParallelSGD', args: ['--solver', 'simuparallel', '--epochs', '100000'] },
    { label: 'BATCH (Lloyd)', args: ['--solver', 'lloyd'] },
  ];
  const timeGrid = grid(budget / 40, budget, 40);
  const series: PlotSeries[] = [];
  const rows: string[][] = [];
  const records: object[] = [];
  for (const c of configs) {
    const runs: number[][] = [];
    const finals: number[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      const s = await runKmeansJob({ ranks, transport: 'threads', args: [...base, ...c.args, '--seed', String(seed)] });
      const t = s.perRank[0]!.trace;
      runs.push(resample(t.seconds, t.error, timeGrid));
      finals.push(s.centreError?.mean ?? NaN);
      records.push({ part: 'keuper-kmeans', config: c.label, seed, ranks, finalError: s.centreError?.mean ?? NaN, samples: s.totalSamples, trace: t, transport: 'threads' });
    }
    const b = band(runs);
    series.push({ label: c.label, x: timeGrid, y: b.median, lo: b.min, hi: b.max, markers: false });
    const at = (f: number): number => median(runs.map((r) => r[Math.round(f * (timeGrid.length - 1))]!));
    rows.push([c.label, cell(at(0.1)), cell(at(0.5)), cell(median(finals)), cell(mean(finals))]);
    ctx.log(`sources: K-Means ${c.label}: final error ${cell(median(finals))}`);
  }
  return {
    tables: [{
      id: 'keuper', key: true,
      title: `Keuper & Pfreundt comparison: K-Means on ${ranks} ranks, d = 10, k = ${k}, ${budget} s per run (median of ${seeds} seed(s))`,
      header: ['method', `error at ${cell(budget * 0.1)} s`, `at ${cell(budget * 0.5)} s`, `at ${budget} s (median)`, 'mean'], rows,
      note: 'error = rank 0\'s Hungarian-matched mean distance to the true centres, measured between steps; BATCH = Lloyd over the ranks\' partitions (one allreduce of sums and counts per iteration), whose error is only measured after each full iteration',
    }],
    plots: [{ file: 'keuper-kmeans.svg', title: 'K-Means: ASGD vs SimuParallelSGD vs BATCH, error against time', key: true, svg: linePlot(series, { title: 'K-Means: ASGD vs SimuParallelSGD vs BATCH', subtitle: `${ranks} ranks (threads), k = ${k}, d = 10; median and min–max over ${seeds} seed(s)`, xLabel: 'wall time (s)', yLabel: 'centre error', logY: true }) }],
    records,
    notes: [],
  };
}

async function run(ctx: SuiteContext): Promise<SuiteOutput> {
  const seeds = ctx.args.seeds ?? (ctx.args.quick ? 1 : 3);
  const parts = [await lian(ctx, seeds), await distNewton(ctx, seeds), await keuper(ctx, seeds)];
  return {
    title: "The sources' experiments (Lian et al., Arnold & Wang, Keuper & Pfreundt)",
    transport: 'uws (AsySG-con), threads (the rest)',
    notes: [...parts.flatMap((p) => p.notes), 'The sources ran on clusters and GPUs with their own data sets; these are the same experiments at this machine\'s scale on synthetic problems with a known optimum, to compare shapes, not absolute figures.'],
    tables: parts.flatMap((p) => p.tables),
    plots: parts.flatMap((p) => p.plots),
    records: parts.flatMap((p) => p.records),
    options: { seeds, quick: ctx.args.quick },
  };
}

export const sourcesSuite: Suite = {
  name: 'sources',
  summary: "Lian et al. speedup tables (AsySG-con, AsySG-incon), DistNewton vs SGD at 2/4/8 workers, Keuper & Pfreundt K-Means (ASGD vs SimuParallelSGD vs BATCH)",
  flags: ['--quick', '--out', '--seeds', '--ranks', '--time-budget'],
  run,
};
