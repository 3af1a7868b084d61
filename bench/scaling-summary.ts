/**
 * The strong-scaling arithmetic and plots both workloads of the `scaling` suite share: per solver and
 * rank count, the median wall time over seeds, the speedup and efficiency against the smallest rank
 * count of the same solver, and the time to a target with its own speedup.
 */
import { linePlot } from './plot.js';
import type { ResultPlot } from './results.js';
import { median } from './series.js';

export interface ScalingPoint {
  solver: string;
  ranks: number;
  wallSeconds: number;
  /** NaN when the run never reached the target */
  timeToTarget: number;
}

export interface ScalingSummary {
  solver: string;
  ranks: number;
  /** median over seeds */
  wallSeconds: number;
  speedup: number;
  efficiency: number;
  timeToTarget: number;
  timeToTargetSpeedup: number;
}

/**
 * One summary per solver and rank count (in the order given). The baseline is the first rank count,
 * scaled to one rank as if it scaled perfectly (× ranks[0]), so that the speedup reads against one rank.
 */
export function summarizeScaling(points: readonly ScalingPoint[], solvers: readonly string[], ranks: readonly number[]): ScalingSummary[] {
  const out: ScalingSummary[] = [];
  const r0 = ranks[0]!;
  for (const solver of solvers) {
    const at = (r: number): ScalingPoint[] => points.filter((x) => x.solver === solver && x.ranks === r);
    const base = median(at(r0).map((x) => x.wallSeconds)) * r0;
    const baseTtt = median(at(r0).map((x) => x.timeToTarget)) * r0;
    for (const r of ranks) {
      const wall = median(at(r).map((x) => x.wallSeconds));
      const ttt = median(at(r).map((x) => x.timeToTarget));
      out.push({ solver, ranks: r, wallSeconds: wall, speedup: base / wall, efficiency: base / wall / r, timeToTarget: ttt, timeToTargetSpeedup: baseTtt / ttt });
    }
  }
  return out;
}

/** speedup, efficiency and time-to-target plots; files `<prefix>-speedup.svg` etc. */
export function scalingPlots(prefix: string, what: string, summaries: readonly ScalingSummary[], subtitle: string, target: string): ResultPlot[] {
  const solvers = [...new Set(summaries.map((s) => s.solver))];
  const xs = [...new Set(summaries.map((s) => s.ranks))];
  const series = (f: (s: ScalingSummary) => number): { label: string; x: number[]; y: number[] }[] =>
    solvers.map((solver) => ({ label: solver, x: xs, y: xs.map((r) => f(summaries.find((s) => s.solver === solver && s.ranks === r)!)) }));
  const xLabel = 'ranks (hogwild: threads)';
  return [
    {
      file: `${prefix}-speedup.svg`, title: `${what} strong scaling: speedup against one rank`, key: true,
      svg: linePlot([...series((s) => s.speedup), { label: 'ideal', x: xs, y: xs.map((r) => r / xs[0]!), dashed: true }], {
        title: `${what} strong scaling: speedup`, subtitle, xLabel, yLabel: 'speedup vs 1 rank', logX: true,
      }),
    },
    {
      file: `${prefix}-efficiency.svg`, title: `${what} strong scaling: parallel efficiency`,
      svg: linePlot(series((s) => s.efficiency), { title: `${what} strong scaling: efficiency`, subtitle, xLabel, yLabel: 'speedup ÷ ranks', logX: true }),
    },
    {
      file: `${prefix}-time-to-target.svg`, title: `${what}: time to ${target}`,
      svg: linePlot(series((s) => s.timeToTarget), { title: `${what}: time to ${target}`, subtitle, xLabel, yLabel: 'seconds', logX: true, logY: true }),
    },
  ];
}
