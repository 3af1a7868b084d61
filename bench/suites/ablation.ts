/**
 * `ablation`: what each part of ASGD buys. (1) K-Means ASGD with and without the Parzen window and
 * with exchange every 1, 4, 16 steps or never (∞), at 2, 4 and 8 ranks; (2) the boosted optimizers
 * (both sign readings of Li et al., ALGORITHMS.md §3) against the plain ones under ASGD, on a
 * least-squares problem with a known optimum. Seeds averaged (default 5). Ranks are threads of one
 * process (the threads transport), so 4 and 8 ranks are oversubscribed on a small machine: the error
 * at a fixed amount of work is meaningful there, the wall times are not.
 */
import { sizeToPoints } from '../../kmeans/size.js';
import { barChart } from '../plot.js';
import { runKmeansJob, samplesToError } from '../kmeans-job.js';
import type { SuiteOutput } from '../results.js';
import { cell, mean, spread } from '../series.js';
import { runSolverJob, type SolverRunSpec } from '../solver-job.js';
import type { OptimizerName } from '../../runtime/asgd/optim/types.js';
import { OVERSUBSCRIBED_NOTE, type Suite, type SuiteContext } from './types.js';

const EXCHANGE = [
  { label: 'every 1, window', args: ['--exchange-every', '1'] },
  { label: 'every 1, no window', args: ['--exchange-every', '1', '--no-window'] },
  { label: 'every 4, window', args: ['--exchange-every', '4'] },
  { label: 'every 16, window', args: ['--exchange-every', '16'] },
  // the kmeans CLI takes whole periods only; 10^9 steps is more than any run here takes, so it never sends
  { label: 'never (∞)', args: ['--exchange-every', '1000000000'] },
] as const;

const OPTIMIZERS: { name: OptimizerName; lr: number }[] = [
  { name: 'sgd', lr: 0.05 },
  { name: 'momentum', lr: 0.005 },
  { name: 'adagrad', lr: 0.1 },
];
const VARIANTS = [
  { label: 'plain', boosted: false, sign: 1 },
  { label: 'boosted, listed formulas (+1)', boosted: true, sign: 1 },
  { label: 'boosted, prose reading (−1)', boosted: true, sign: -1 },
] as const;

async function kmeansAblation(ctx: SuiteContext, ranks: number[], seeds: number) {
  const quick = ctx.args.quick;
  const points = ctx.args.size ? sizeToPoints(ctx.args.size, 10) : quick ? 1_000_000 : 2_000_000;
  const k = 100;
  const target = 0.002;
  const data = ['--size', String(points), '--dim', '10', '--k-true', String(k), '--k', String(k), '--batch', '1024', '--epochs', '1', '--eval-every', '0.02', '--solver', 'asgd', '--data-seed', '1'];
  const records: object[] = [];
  const rows: string[][] = [];
  const bars: { label: string; values: Record<string, number> }[] = [];
  for (const r of ranks) {
    const group: Record<string, number> = {};
    for (const config of EXCHANGE) {
      const errors: number[] = [];
      const toTarget: number[] = [];
      for (let seed = 1; seed <= seeds; seed++) {
        const s = await runKmeansJob({ ranks: r, transport: 'threads', args: [...data, '--seed', String(seed), ...config.args] });
        const e = mean(s.perRank.map((p) => p.error));
        errors.push(e);
        toTarget.push(samplesToError(s, target));
        records.push({ part: 'kmeans-asgd', ranks: r, config: config.label, seed, finalError: e, samplesToTarget: samplesToError(s, target), wallSeconds: s.wallSeconds, transport: 'threads' });
      }
      ctx.log(`ablation: k-means asgd ${r} ranks, ${config.label}: mean final error ${cell(mean(errors))}`);
      group[config.label] = mean(errors);
      rows.push([String(r), config.label, cell(mean(errors)), spread(errors), cell(mean(toTarget) / 1e6), r > ctx.cores ? 'oversubscribed' : '']);
    }
    bars.push({ label: `${r} ranks`, values: group });
  }
  return {
    records,
    table: {
      id: 'ablation-exchange', key: true,
      title: `K-Means ASGD: Parzen window and exchange period (${points.toLocaleString('en')} points, k = ${k}, one pass, mean of ${seeds} seeds)`,
      header: ['ranks', 'exchange', 'final centre error (mean over ranks and seeds)', 'min–max over seeds', `M samples to error ≤ ${target} (all ranks)`, 'note'], rows,
    },
    plot: { file: 'exchange.svg', title: 'K-Means ASGD final error by exchange period and window', key: true, svg: barChart(bars, { title: 'K-Means ASGD: final centre error', subtitle: `${points.toLocaleString('en')} points, k = ${k}, one pass, mean of ${seeds} seeds; threads transport`, xLabel: 'ranks', yLabel: 'centre error', logY: true }) },
  };
}

async function boostedAblation(ctx: SuiteContext, ranks: number[], seeds: number) {
  const steps = ctx.args.quick ? 500 : 2000;
  const problem = { kind: 'leastsq' as const, rows: 4000, dim: 50, noise: 0.1, conditioning: 10, dataSeed: 3 };
  const records: object[] = [];
  const rows: string[][] = [];
  const bars: { label: string; values: Record<string, number> }[] = [];
  for (const r of ranks) {
    const specs: SolverRunSpec[] = [];
    for (const opt of OPTIMIZERS) {
      for (const v of VARIANTS) {
        for (let seed = 1; seed <= seeds; seed++) {
          const name = (v.boosted ? `boosted-${opt.name}` : opt.name) as OptimizerName;
          specs.push({
            label: `${opt.name}|${v.label}|${seed}`, problem, traceEvery: 0,
            config: { solver: 'asgd', optimizer: { name, lr: opt.lr, ...(v.boosted && v.sign === -1 ? { boostSign: -1 as const } : {}) }, batchSize: 16, seed, stop: { steps } },
          });
        }
      }
    }
    const results = await runSolverJob('threads', r, specs);
    for (const opt of OPTIMIZERS) {
      const group: Record<string, number> = {};
      let plain = NaN;
      for (const v of VARIANTS) {
        const mine = results.filter((_, i) => specs[i]!.label.startsWith(`${opt.name}|${v.label}|`));
        const excess = mine.map((lines) => mean(lines.map((l) => l.finalExcess)));
        mine.forEach((lines, i) => records.push({ part: 'boosted', ranks: r, optimizer: opt.name, variant: v.label, seed: i + 1, finalExcess: excess[i], seconds: mean(lines.map((l) => l.seconds)), transport: 'threads' }));
        const m = mean(excess);
        if (!v.boosted) plain = m;
        group[v.label] = m;
        rows.push([String(r), opt.name, v.label, cell(m), spread(excess), v.boosted ? `${cell(m / plain)}×` : '1×', r > ctx.cores ? 'oversubscribed' : '']);
      }
      bars.push({ label: `${opt.name}, ${r} ranks`, values: group });
    }
    ctx.log(`ablation: boosted optimizers at ${r} ranks done`);
  }
  return {
    records,
    table: {
      id: 'ablation-boosted', key: true,
      title: `Boosted optimizers under ASGD: excess loss after ${steps} steps per rank (least squares, 50 features, condition 10, batch 16; mean of ${seeds} seeds)`,
      header: ['ranks', 'optimizer', 'variant', 'excess loss (mean)', 'min–max over seeds', 'vs plain (< 1 is better)', 'note'], rows,
      note: 'excess loss = loss over all rows − loss at the exact optimum, mean over ranks of each rank\'s final state; same hyper-parameters (λ = 0.3) for plain and boosted',
    },
    plot: { file: 'boosted.svg', title: 'Boosted optimizers against the plain ones', key: true, svg: barChart(bars, { title: 'ASGD with boosted optimizers: final excess loss', subtitle: `${steps} steps per rank, mean of ${seeds} seeds; threads transport`, xLabel: 'optimizer, ranks', yLabel: 'excess loss', logY: true }) },
  };
}

async function run(ctx: SuiteContext): Promise<SuiteOutput> {
  const quick = ctx.args.quick;
  const ranks = ctx.args.ranks ?? (quick ? [2] : [2, 4, 8]);
  const seeds = ctx.args.seeds ?? (quick ? 2 : 5);
  const a = await kmeansAblation(ctx, ranks, seeds);
  const b = await boostedAblation(ctx, ranks, seeds);
  return {
    title: 'Ablation (ASGD window, exchange period, boosted optimizers)',
    transport: 'threads',
    notes: [
      `Ranks are threads of one process (threads transport).${ranks.some((r) => r > ctx.cores) ? ` ${OVERSUBSCRIBED_NOTE(ctx.cores)}` : ''} Both parts compare errors at a fixed amount of work, which oversubscription does not change.`,
      'The boosted optimizers use Δw = the displacement of the rank\'s state by merges between reading it and applying the gradient; "listed" is the sign of the formulas printed in Li et al. (the default), "prose" the sign their text describes (boostSign −1).',
    ],
    tables: [a.table, b.table],
    plots: [a.plot, b.plot],
    records: [...a.records, ...b.records],
    options: { ranks, seeds, quick },
  };
}

export const ablationSuite: Suite = {
  name: 'ablation',
  summary: 'ASGD with/without the Parzen window, exchange every 1/4/16/∞, boosted optimizers (both signs) vs plain, at 2/4/8 ranks (--ranks 2,4,8 --seeds 5 --size 2M: the K-Means points)',
  flags: ['--quick', '--out', '--ranks', '--seeds', '--size'],
  run,
};
