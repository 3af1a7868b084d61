/**
 * `scaling`: strong scaling of K-Means — a fixed total work (one pass over a fixed synthetic data set),
 * run on 1..N ranks by every solver; wall time, speedup and efficiency against the same solver on one
 * rank, and the time to a target centre error. Hogwild scales by threads inside one rank (AsySG-incon),
 * the others by ranks.
 */
import { sizeToPoints } from '../../kmeans/size.js';
import { linePlot } from '../plot.js';
import { runKmeansJob, samplesToError, timeToError } from '../kmeans-job.js';
import type { ResultTable, SuiteOutput } from '../results.js';
import { cell, median } from '../series.js';
import { defaultRanks, OVERSUBSCRIBED_NOTE, type Suite, type SuiteContext } from './types.js';

export const SCALING_SOLVERS = ['asgd', 'simuparallel', 'sync', 'paramserver', 'hogwild'] as const;

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

async function run(ctx: SuiteContext): Promise<SuiteOutput> {
  const { args, log, cores } = ctx;
  const quick = args.quick;
  const ranks = args.ranks ?? defaultRanks(cores);
  const solvers = args.solvers ?? [...SCALING_SOLVERS];
  const seeds = args.seeds ?? (quick ? 1 : 3);
  const transport = (args.transport ?? 'threads') as 'threads' | 'uws';
  const points = args.size ? sizeToPoints(args.size, 10) : quick ? 1_000_000 : 4_000_000;
  const k = quick ? 10 : 100;
  const target = 0.002;
  const data = ['--size', String(points), '--dim', '10', '--k-true', String(k), '--k', String(k), '--batch', '1024', '--epochs', '1', '--eval-every', quick ? '0.02' : '0.05'];
  const runs: ScalingRun[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    for (const solver of solvers) {
      for (const r of ranks) {
        // hogwild: one rank, r threads sharing its state; the others: r ranks
        const jobRanks = solver === 'hogwild' ? 1 : r;
        const extra = solver === 'hogwild' ? ['--threads', String(r)] : [];
        const summary = await runKmeansJob({ ranks: jobRanks, transport, args: [...data, '--solver', solver, '--seed', String(seed), '--data-seed', '1', ...extra] });
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
  const rows: string[][] = [];
  const speedup = new Map<string, number[]>();
  const efficiency = new Map<string, number[]>();
  const ttt = new Map<string, number[]>();
  for (const solver of solvers) {
    const at = (r: number): ScalingRun[] => runs.filter((x) => x.solver === solver && x.ranks === r);
    const base = median(at(ranks[0]!).map((x) => x.wallSeconds)) * ranks[0]!;
    const baseTtt = median(at(ranks[0]!).map((x) => x.timeToTarget)) * ranks[0]!;
    for (const r of ranks) {
      const wall = median(at(r).map((x) => x.wallSeconds));
      const s = base / wall;
      const t = median(at(r).map((x) => x.timeToTarget));
      (speedup.get(solver) ?? speedup.set(solver, []).get(solver)!).push(s);
      (efficiency.get(solver) ?? efficiency.set(solver, []).get(solver)!).push(s / r);
      (ttt.get(solver) ?? ttt.set(solver, []).get(solver)!).push(t);
      rows.push([
        solver, String(r) + (solver === 'hogwild' ? ' threads' : ''), cell(wall), cell(median(at(r).map((x) => x.samplesPerSecond)) / 1e6),
        cell(s), `${cell(100 * s / r)} %`, cell(median(at(r).map((x) => x.finalError))), cell(t), Number.isFinite(baseTtt / t) ? cell(baseTtt / t) : '—',
        r > cores ? 'oversubscribed: not timing-valid' : '',
      ]);
    }
  }
  const tables: ResultTable[] = [{
    id: 'kmeans-strong-scaling',
    title: `K-Means strong scaling: ${points.toLocaleString('en')} points, d = 10, k = ${k}, one pass, median of ${seeds} seed${seeds > 1 ? 's' : ''}`,
    header: ['solver', 'ranks', 'wall s', 'M samples/s', 'speedup', 'efficiency', 'final centre error', `time to error ≤ ${target} (s)`, 'time-to-target speedup', 'note'],
    rows, key: true,
    note: `speedup = wall time on ${ranks[0]} rank(s) (× ${ranks[0]}) ÷ wall time on r ranks, same solver, same data; efficiency = speedup ÷ r`,
  }];
  const xs = ranks;
  const sub = `${points.toLocaleString('en')} points, k = ${k}, ${transport}; ${cores} cores: points beyond ${cores} are oversubscribed`;
  const plots = [
    {
      file: 'kmeans-speedup.svg', title: 'K-Means strong scaling: speedup against one rank', key: true,
      svg: linePlot([...solvers.map((s) => ({ label: s, x: xs, y: speedup.get(s)! })), { label: 'ideal', x: xs, y: xs.map((r) => r / ranks[0]!), dashed: true }], {
        title: 'K-Means strong scaling: speedup', subtitle: sub, xLabel: 'ranks (hogwild: threads)', yLabel: 'speedup vs 1 rank', logX: true,
      }),
    },
    {
      file: 'kmeans-efficiency.svg', title: 'K-Means strong scaling: parallel efficiency',
      svg: linePlot(solvers.map((s) => ({ label: s, x: xs, y: efficiency.get(s)! })), { title: 'K-Means strong scaling: efficiency', subtitle: sub, xLabel: 'ranks (hogwild: threads)', yLabel: 'speedup ÷ ranks', logX: true }),
    },
    {
      file: 'kmeans-time-to-target.svg', title: `K-Means: time to centre error ≤ ${target}`,
      svg: linePlot(solvers.map((s) => ({ label: s, x: xs, y: ttt.get(s)! })), { title: `K-Means: time to centre error ≤ ${target}`, subtitle: sub, xLabel: 'ranks (hogwild: threads)', yLabel: 'seconds', logX: true, logY: true }),
    },
  ];
  const notes = [
    `The curve stops at ${Math.max(...ranks)} ranks: this machine has ${cores} cores${cores < 16 ? ' (the 16-core device machine was not available, so scaling beyond it is not measured)' : ''}.`,
    ...(ranks.some((r) => r > cores) ? [OVERSUBSCRIBED_NOTE(cores)] : []),
    'The machine is shared with other work: figures are medians over seeds, and one-rank and many-rank runs are interleaved so a noisy neighbour hits all alike.',
    'paramserver on r ranks has r − 1 workers and a server (one rank trains alone as the server); hogwild runs one rank with r threads (AsySG-incon). hogwild\'s K-Means run measures its error only at the start and the end, so its time to target is its whole run.',
    'LeNet strong scaling is not part of this suite: a probe of the CNN\'s distributed training (`pgas-run -n 2 cnn train --parallel asgd`, 50 steps of 64 per rank) took 66 s of training (97 images/s) on this shared 2-core machine, so a sweep over solvers and ranks did not fit; the CNN\'s own throughput is in the kernels suite.',
  ];
  return {
    title: 'Strong scaling (K-Means)', transport, notes, tables, plots, records: runs,
    options: { ranks, solvers, seeds, points, k, dim: 10, targetError: target, transport },
  };
}

export const scalingSuite: Suite = {
  name: 'scaling',
  summary: 'strong scaling of K-Means, every solver, 1..cores ranks (--ranks 1,2,4 --solvers asgd,sync --seeds N --size 4M --transport threads|uws)',
  flags: ['--quick', '--out', '--ranks', '--seeds', '--solvers', '--transport', '--size'],
  solvers: SCALING_SOLVERS,
  transports: ['threads', 'uws'],
  run,
};
