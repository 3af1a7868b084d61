/**
 * `convergence`: K-Means centre error against wall time and against samples processed, every solver
 * on the same plot, several seeds (default 5) with the spread shown as a min–max band around the
 * median. Every run has the same wall-clock budget on the same number of ranks.
 */
import { linePlot, type PlotSeries } from '../plot.js';
import { runKmeansJob } from '../kmeans-job.js';
import type { SuiteOutput } from '../results.js';
import { UsageError } from '../suite-args.js';
import { band, cell, grid, resample, spread } from '../series.js';
import { SCALING_SOLVERS } from '../scaling-solvers.js';
import { OVERSUBSCRIBED_NOTE, type Suite, type SuiteContext } from './types.js';

interface ConvergenceRun {
  solver: string;
  ranks: number;
  seed: number;
  seconds: number[];
  samples: number[];
  error: number[];
  finalError: number;
  totalSamples: number;
}

async function run(ctx: SuiteContext): Promise<SuiteOutput> {
  const { args, log, cores } = ctx;
  const quick = args.quick;
  const solvers = args.solvers ?? [...SCALING_SOLVERS];
  const seeds = args.seeds ?? (quick ? 2 : 5);
  const ranks = args.ranks?.[0] ?? Math.min(2, cores);
  if ((args.ranks?.length ?? 1) > 1) throw new UsageError('convergence: give one rank count (--ranks 2)');
  const budget = args.timeBudget ?? (quick ? 1.5 : 6);
  const transport = (args.transport ?? 'threads') as 'threads' | 'uws';
  const k = 100;
  const data = ['--size', '1G', '--dim', '10', '--k-true', String(k), '--k', String(k), '--batch', '1024', '--time', String(budget), '--eval-every', String(budget / 40)];
  const runs: ConvergenceRun[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    for (const solver of solvers) {
      const jobRanks = solver === 'hogwild' ? 1 : ranks;
      const extra = solver === 'hogwild' ? ['--threads', String(ranks)] : [];
      const s = await runKmeansJob({ ranks: jobRanks, transport, args: [...data, '--solver', solver, '--seed', String(seed), '--data-seed', '1', ...extra] });
      const trace = s.perRank[0]!.trace;
      runs.push({
        solver, ranks, seed, seconds: trace.seconds, samples: trace.samples.map((v) => v * jobRanks), error: trace.error,
        finalError: s.centreError?.mean ?? NaN, totalSamples: s.totalSamples,
      });
      log(`convergence: ${solver} seed ${seed}: final error ${cell(s.centreError?.mean ?? NaN)} after ${(s.totalSamples / 1e6).toFixed(2)} M samples`);
    }
  }
  // up to the last trace point of any run: the final measurement lands a little after the budget
  const lastTime = Math.max(budget, ...runs.map((r) => r.seconds[r.seconds.length - 1] ?? 0));
  const timeGrid = grid(lastTime / 40, lastTime, 40);
  const maxSamples = Math.max(...runs.map((r) => r.samples[r.samples.length - 1] ?? 0));
  const sampleGrid = grid(maxSamples / 40, maxSamples, 40);
  const timeSeries: PlotSeries[] = [];
  const sampleSeries: PlotSeries[] = [];
  const rows: string[][] = [];
  const checkpoints = [budget / 4, budget / 2, lastTime];
  for (const solver of solvers) {
    const mine = runs.filter((r) => r.solver === solver);
    const bt = band(mine.map((r) => resample(r.seconds, r.error, timeGrid)));
    timeSeries.push({ label: solver, x: timeGrid, y: bt.median, lo: bt.min, hi: bt.max, markers: false });
    // a run's samples axis ends where it stopped; runs with no measurement during training (hogwild's
    // K-Means: start and end only, and its sample counter is read late) have no curve to draw here
    if (mine.every((r) => r.seconds.length >= 4)) {
      const bs = band(mine.map((r) => resample(r.samples, r.error, sampleGrid, false)));
      sampleSeries.push({ label: solver, x: sampleGrid, y: bs.median, lo: bs.min, hi: bs.max, markers: false });
    }
    const at = checkpoints.map((c) => band(mine.map((r) => resample(r.seconds, r.error, [c]))));
    rows.push([solver, ...at.map((b) => `${cell(b.median[0]!)} (${cell(b.min[0]!)}–${cell(b.max[0]!)})`), spread(mine.map((r) => r.totalSamples / 1e6))]);
  }
  const sub = `${ranks} ranks (hogwild: 1 rank × ${ranks} threads), ${transport}, k = ${k}, d = 10, ${seeds} seeds: median and min–max band`;
  return {
    title: 'Convergence (K-Means, every solver)',
    transport,
    notes: [
      `Each run trains for ${budget} s of wall time on ${ranks} ranks over the same synthetic data (d = 10, k = ${k}, 100 true clusters, spread 0.05); the error is rank 0's Hungarian-matched mean distance to the true centres, measured every ${cell(budget / 40)} s.`,
      'Samples processed = rank 0\'s samples × the ranks (the ranks draw at about the same rate).',
      ...(solvers.includes('hogwild') ? ['hogwild\'s K-Means run measures its error only at the start and the end (its threads do not report during the run), so its curve is flat until the final point and it is left out of the samples plot.'] : []),
      ...(solvers.includes('simuparallel') ? ['simuparallel averages the ranks\' states only at the end: its last point is the averaged state.'] : []),
      ...(ranks > cores ? [OVERSUBSCRIBED_NOTE(cores)] : []),
    ],
    tables: [{
      id: 'convergence', title: `K-Means centre error after a quarter and half of the ${budget} s budget and at the end: median (min–max over ${seeds} seeds)`,
      header: ['solver', `${cell(checkpoints[0]!)} s`, `${cell(checkpoints[1]!)} s`, `${cell(checkpoints[2]!)} s (end)`, 'M samples in the run (min–max)'], rows, key: true,
    }],
    plots: [
      { file: 'error-vs-time.svg', title: 'K-Means centre error against wall time, every solver', key: true, svg: linePlot(timeSeries, { title: 'K-Means: centre error vs wall time', subtitle: sub, xLabel: 'wall time (s)', yLabel: 'centre error', logY: true }) },
      { file: 'error-vs-samples.svg', title: 'K-Means centre error against samples processed, every solver', key: true, svg: linePlot(sampleSeries, { title: 'K-Means: centre error vs samples processed', subtitle: sub, xLabel: 'samples processed (all ranks)', yLabel: 'centre error', logX: true, logY: true }) },
    ],
    records: runs,
    options: { solvers, seeds, ranks, budgetSeconds: budget, k, transport },
  };
}

export const convergenceSuite: Suite = {
  name: 'convergence',
  summary: 'K-Means error vs wall time and vs samples, every solver, 5 seeds with min–max bands (--seeds N --ranks 2 --time-budget 6s --solvers ...)',
  flags: ['--quick', '--out', '--ranks', '--seeds', '--solvers', '--transport', '--time-budget'],
  solvers: SCALING_SOLVERS,
  transports: ['threads', 'uws'],
  run,
};
