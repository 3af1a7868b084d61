/**
 * `scaling`: strong scaling of K-Means and of LeNet training (`--workload kmeans,lenet`, default both):
 * a fixed total work (K-Means: one pass over a fixed synthetic data set; LeNet: scaling-lenet.ts), run
 * on 1..N ranks by every solver; wall time, speedup and efficiency against the same solver on one
 * rank, and the time to a target centre error or test accuracy. Hogwild scales by threads inside one
 * rank (AsySG-incon), the others by ranks.
 */
import { sizeToPoints } from '../../kmeans/size.js';
import { runKmeansJob, samplesToError, timeToError } from '../kmeans-job.js';
import { jobShape } from '../lenet-spec.js';
import type { ResultTable, SuiteOutput } from '../results.js';
import { SCALING_SOLVERS } from '../scaling-solvers.js';
import { scalingPlots, summarizeScaling } from '../scaling-summary.js';
import { cell, median } from '../series.js';
import { lenetScaling, type ScalingPart } from './scaling-lenet.js';
import { defaultRanks, OVERSUBSCRIBED_NOTE, type Suite, type SuiteContext } from './types.js';

export { SCALING_SOLVERS };
export const SCALING_WORKLOADS = ['kmeans', 'lenet'] as const;

interface ScalingRun {
  solver: string;
  ranks: number;
  seed: number;
  transport: string;
  oversubscribed: boolean;
  wallSeconds: number;
  samplesPerSecond: number;
  finalError: number;
  timeToTarget: number;
  samplesToTarget: number;
}

async function kmeansScaling(ctx: SuiteContext, ranks: number[], solvers: string[], seeds: number, transport: 'threads' | 'uws'): Promise<ScalingPart> {
  const { args, log, cores } = ctx;
  const quick = args.quick;
  const points = args.size ? sizeToPoints(args.size, 10) : quick ? 1_000_000 : 4_000_000;
  const k = quick ? 10 : 100;
  const target = 0.002;
  const data = ['--size', String(points), '--dim', '10', '--k-true', String(k), '--k', String(k), '--batch', '1024', '--epochs', '1', '--eval-every', quick ? '0.02' : '0.05'];
  const runs: ScalingRun[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    for (const solver of solvers) {
      for (const r of ranks) {
        // hogwild: one rank, r threads sharing its state; the others: r ranks
        const shape = jobShape(solver, r);
        const extra = solver === 'hogwild' ? ['--threads', String(shape.threads)] : [];
        const summary = await runKmeansJob({ ranks: shape.ranks, transport, args: [...data, '--solver', solver, '--seed', String(seed), '--data-seed', '1', ...extra] });
        const entry: ScalingRun = {
          solver, ranks: r, seed, transport: solver === 'hogwild' ? 'threads (hogwild threads in one rank)' : transport, oversubscribed: r > cores,
          wallSeconds: summary.wallSeconds, samplesPerSecond: summary.samplesPerSecond, finalError: summary.centreError?.mean ?? NaN,
          timeToTarget: timeToError(summary, target), samplesToTarget: samplesToError(summary, target),
        };
        runs.push(entry);
        log(`scaling: ${solver} ${r} rank(s) seed ${seed}: ${entry.wallSeconds.toFixed(2)} s, ${(entry.samplesPerSecond / 1e6).toFixed(2)} M samples/s, error ${cell(entry.finalError)}, ≤${target} after ${cell(entry.timeToTarget)} s`);
      }
    }
  }
  const summaries = summarizeScaling(runs, solvers, ranks);
  const at = (solver: string, r: number): ScalingRun[] => runs.filter((x) => x.solver === solver && x.ranks === r);
  const rows = summaries.map((s) => [
    s.solver, String(s.ranks) + (s.solver === 'hogwild' ? ' threads' : ''), cell(s.wallSeconds), cell(median(at(s.solver, s.ranks).map((x) => x.samplesPerSecond)) / 1e6),
    cell(s.speedup), `${cell(100 * s.efficiency)} %`, cell(median(at(s.solver, s.ranks).map((x) => x.finalError))), cell(s.timeToTarget), cell(s.timeToTargetSpeedup),
    s.ranks > cores ? 'oversubscribed: not timing-valid' : '',
  ]);
  const tables: ResultTable[] = [{
    id: 'kmeans-strong-scaling',
    title: `K-Means strong scaling: ${points.toLocaleString('en')} points, d = 10, k = ${k}, one pass, median of ${seeds} seed${seeds > 1 ? 's' : ''}`,
    header: ['solver', 'ranks', 'wall s', 'M samples/s', 'speedup', 'efficiency', 'final centre error', `time to error ≤ ${target} (s)`, 'time-to-target speedup', 'note'],
    rows, key: true,
    note: `speedup = wall time on ${ranks[0]} rank(s) (× ${ranks[0]}) ÷ wall time on r ranks, same solver, same data; efficiency = speedup ÷ r`,
  }];
  const sub = `${points.toLocaleString('en')} points, k = ${k}, ${transport}; ${cores} cores: points beyond ${cores} are oversubscribed`;
  const plots = scalingPlots('kmeans', 'K-Means', summaries, sub, `centre error ≤ ${target}`);
  const notes = [
    'paramserver on r ranks has r − 1 workers and a server (one rank trains alone as the server); hogwild runs one rank with r threads (AsySG-incon). hogwild\'s K-Means run measures its error only at the start and the end, so its time to target is its whole run.',
  ];
  return { notes, tables, plots, records: runs.map((r) => ({ workload: 'kmeans', ...r })), options: { kmeans: { ranks, solvers, seeds, points, k, dim: 10, targetError: target, transport } } };
}

async function run(ctx: SuiteContext): Promise<SuiteOutput> {
  const { args, cores } = ctx;
  const quick = args.quick;
  const ranks = args.ranks ?? defaultRanks(cores);
  const solvers = args.solvers ?? [...SCALING_SOLVERS];
  const workloads = args.workloads ?? [...SCALING_WORKLOADS];
  const transport = (args.transport ?? 'threads') as 'threads' | 'uws';
  // LeNet runs are minutes each at full size: fewer seeds by default (--seeds sets both)
  const parts: ScalingPart[] = [];
  if (workloads.includes('kmeans')) parts.push(await kmeansScaling(ctx, ranks, solvers, args.seeds ?? (quick ? 1 : 3), transport));
  if (workloads.includes('lenet')) parts.push(await lenetScaling(ctx, ranks, solvers, args.seeds ?? (quick ? 1 : 2)));
  const names = workloads.map((w) => (w === 'kmeans' ? 'K-Means' : 'LeNet'));
  return {
    title: `Strong scaling (${names.join(' and ')})`,
    transport: workloads.includes('kmeans') ? transport : 'threads',
    notes: [
      `The curve stops at ${Math.max(...ranks)} ranks: this machine has ${cores} cores${cores < 16 ? ' (the 16-core device machine was not available, so scaling beyond it is not measured)' : ''}.`,
      ...(ranks.some((r) => r > cores) ? [OVERSUBSCRIBED_NOTE(cores)] : []),
      'The machine is shared with other work: figures are medians over seeds, and one-rank and many-rank runs are interleaved so a noisy neighbour hits all alike.',
      ...parts.flatMap((p) => p.notes),
    ],
    tables: parts.flatMap((p) => p.tables), plots: parts.flatMap((p) => p.plots), records: parts.flatMap((p) => p.records),
    options: { ranks, solvers, workloads, ...Object.assign({}, ...parts.map((p) => p.options)) },
  };
}

export const scalingSuite: Suite = {
  name: 'scaling',
  summary: 'strong scaling of K-Means and LeNet, every solver, 1..cores ranks (--workload kmeans,lenet --ranks 1,2,4 --solvers asgd,sync --seeds N --size 4M --transport threads|uws (K-Means))',
  flags: ['--quick', '--out', '--ranks', '--seeds', '--solvers', '--transport', '--size', '--workload'],
  workloads: SCALING_WORKLOADS,
  solvers: SCALING_SOLVERS,
  transports: ['threads', 'uws'],
  run,
};
