/**
 * The LeNet part of the `scaling` suite: a fixed total amount of LeNet training on Fashion-MNIST
 * (a number of mini-batches of 64, divided over the ranks as bench/lenet-spec.ts lenetSteps says),
 * run by every solver on 1..N ranks through the numeric core as `cnn train` under pgas-run runs it
 * (threads transport; the native kernels when the addon is built). Wall time, speedup and efficiency
 * against one rank, final test accuracy, and the time to a target test accuracy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNativeKernels } from '../../cnn/math/blas.js';
import { DEFAULT_FASHION, hasFashionMnist, writeFashionLenetSolver } from '../cnn.js';
import { runLenetJob } from '../lenet-job.js';
import { jobShape, lenetSteps, type LenetRunLine, type LenetSolver } from '../lenet-spec.js';
import { linePlot, type PlotSeries } from '../plot.js';
import type { ResultPlot, ResultTable } from '../results.js';
import { scalingPlots, summarizeScaling } from '../scaling-summary.js';
import { band, cell, grid, median, resample } from '../series.js';
import type { SuiteContext } from './types.js';

const BATCH = 64;

export interface LenetScalingRun {
  workload: 'lenet';
  solver: string;
  ranks: number;
  seed: number;
  transport: string;
  kernels: string;
  totalSteps: number;
  stepsPerRank: number;
  wallSeconds: number;
  imagesPerSecond: number;
  finalAccuracy: number;
  timeToTarget: number;
  trace: LenetRunLine['trace'];
}

export interface ScalingPart {
  tables: ResultTable[];
  plots: ResultPlot[];
  notes: string[];
  records: object[];
  options: Record<string, unknown>;
}

/**
 * Time on rank 0's training clock at which its test accuracy first reached `target`: the first trace
 * point at or above it, else the end of the run when the final state is, else NaN.
 */
export function timeToAccuracy(rank0: Pick<LenetRunLine, 'trace' | 'finalAccuracy' | 'seconds'>, target: number): number {
  const hit = rank0.trace.find((p) => p.accuracy >= target);
  if (hit) return hit.seconds;
  return (rank0.finalAccuracy ?? -Infinity) >= target ? rank0.seconds : NaN;
}

export async function lenetScaling(ctx: SuiteContext, ranks: number[], solvers: string[], seeds: number): Promise<ScalingPart> {
  const { args, log, cores } = ctx;
  const quick = args.quick;
  if (!hasFashionMnist(DEFAULT_FASHION)) {
    return { tables: [], plots: [], records: [], options: {}, notes: [`LeNet strong scaling was not run: Fashion-MNIST is not installed in ${DEFAULT_FASHION} (Debian package dataset-fashion-mnist).`] };
  }
  const totalSteps = quick ? 16 : 400;
  const testCount = quick ? 200 : 1000;
  const target = quick ? 0.3 : 0.75;
  const kernels = loadNativeKernels() ? 'native' : 'typescript';
  const dir = mkdtempSync(join(tmpdir(), 'bench-lenet-scaling-'));
  const runs: LenetScalingRun[] = [];
  try {
    const solverFile = writeFashionLenetSolver(dir);
    for (let seed = 1; seed <= seeds; seed++) {
      for (const solver of solvers) {
        for (const r of ranks) {
          const shape = jobShape(solver, r);
          const steps = lenetSteps(solver as LenetSolver, r, totalSteps);
          const lines = await runLenetJob(shape.ranks, {
            solverFile, kernels, parallel: solver as LenetSolver, steps, threads: shape.threads, batch: BATCH, seed,
            traceEvery: Math.max(1, Math.floor(steps / 8)), testCount,
          });
          const wall = Math.max(...lines.map((l) => l.seconds));
          const entry: LenetScalingRun = {
            workload: 'lenet', solver, ranks: r, seed, transport: solver === 'hogwild' ? 'threads (hogwild threads in one rank)' : 'threads', kernels,
            totalSteps, stepsPerRank: steps, wallSeconds: wall, imagesPerSecond: (totalSteps * BATCH) / wall,
            finalAccuracy: lines[0]!.finalAccuracy ?? NaN, timeToTarget: timeToAccuracy(lines[0]!, target), trace: lines[0]!.trace,
          };
          runs.push(entry);
          log(`scaling: LeNet ${solver} ${r} rank(s) seed ${seed}: ${wall.toFixed(1)} s, ${entry.imagesPerSecond.toFixed(0)} images/s, accuracy ${cell(entry.finalAccuracy)}, ≥ ${target} after ${cell(entry.timeToTarget)} s`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summaries = summarizeScaling(runs, solvers, ranks);
  const at = (solver: string, r: number): LenetScalingRun[] => runs.filter((x) => x.solver === solver && x.ranks === r);
  const rows = summaries.map((s) => [
    s.solver, String(s.ranks) + (s.solver === 'hogwild' ? ' threads' : ''), String(at(s.solver, s.ranks)[0]?.stepsPerRank ?? '—'), cell(s.wallSeconds),
    cell(median(at(s.solver, s.ranks).map((x) => x.imagesPerSecond))), cell(s.speedup), `${cell(100 * s.efficiency)} %`,
    cell(median(at(s.solver, s.ranks).map((x) => x.finalAccuracy))), cell(s.timeToTarget), cell(s.timeToTargetSpeedup),
    s.ranks > cores ? 'oversubscribed: not timing-valid' : '',
  ]);
  const images = totalSteps * BATCH;
  const what = `${totalSteps} mini-batches of ${BATCH} (${images.toLocaleString('en')} images, ${cell(images / 60000)} epoch) in all`;
  const table: ResultTable = {
    id: 'lenet-strong-scaling', key: true,
    title: `LeNet strong scaling on Fashion-MNIST: ${what}, ${kernels} kernels, median of ${seeds} seed${seeds > 1 ? 's' : ''}`,
    header: ['solver', 'ranks', 'core steps per rank', 'wall s', 'images/s', 'speedup', 'efficiency', `test accuracy (first ${testCount})`, `time to accuracy ≥ ${target} (s)`, 'time-to-target speedup', 'note'],
    rows,
    note: `speedup = wall time on ${ranks[0]} rank(s) (× ${ranks[0]}) ÷ wall time on r ranks (the slowest rank's training clock), same solver, same total work; efficiency = speedup ÷ r`,
  };
  const sub = `${what}; ${kernels} kernels, threads transport; ${cores} cores`;
  // accuracy against time at the largest scale: median and min–max over seeds
  const top = ranks[ranks.length - 1]!;
  const lastTime = Math.max(...runs.filter((x) => x.ranks === top).map((x) => x.wallSeconds));
  const timeGrid = grid(lastTime / 30, lastTime, 30);
  const curves: PlotSeries[] = solvers.map((solver) => {
    const b = band(at(solver, top).map((x) => resample([...x.trace.map((p) => p.seconds), x.wallSeconds], [...x.trace.map((p) => p.accuracy), x.finalAccuracy], timeGrid, false)));
    return { label: solver, x: timeGrid, y: b.median, lo: b.min, hi: b.max };
  });
  const plots: ResultPlot[] = [
    ...scalingPlots('lenet', 'LeNet', summaries, sub, `test accuracy ≥ ${target}`),
    {
      file: 'lenet-accuracy-vs-time.svg', title: `LeNet test accuracy against wall time on ${top} rank(s), every solver`,
      svg: linePlot(curves, { title: `LeNet on ${top} rank(s): test accuracy against time`, subtitle: `${sub}; median and min–max over ${seeds} seed(s)`, xLabel: 'wall time (s)', yLabel: `test accuracy (first ${testCount} images)` }),
    },
  ];
  const notes = [
    `LeNet: Caffe's LeNet and solver (SGD, lr 0.01, momentum 0.9, "inv" policy) on Fashion-MNIST, trained through the numeric core as \`cnn train --parallel <solver>\` under pgas-run trains it (each rank on its own part of the training set), ${kernels} kernels with one BLAS thread per rank. Fixed total work: ${what}; asgd and simuparallel train ${totalSteps}/r steps per rank and sync ${totalSteps}/r global steps of r mini-batches; paramserver counts the server's updates (${totalSteps}) and hogwild the updates of all its threads (${totalSteps}).`,
    `LeNet accuracy is rank 0's (the server's for paramserver, the averaged state for simuparallel's final point) on the first ${testCount} test images, measured after the run from copies of rank 0's state taken every 1/8 of its steps (the copy is on the clock, the measuring is not). hogwild hands over only its final state, so its time to target is its whole run when the final state reaches it; its clock includes starting its worker threads, each of which loads the training set.`,
    'LeNet with paramserver on 2 ranks is one worker and the server: one rank computes gradients, so it cannot be faster than one rank training alone.',
  ];
  return {
    tables: [table], plots, notes, records: runs,
    options: { lenet: { ranks, solvers, seeds, totalSteps, batch: BATCH, testCount, targetAccuracy: target, kernels, transport: 'threads' } },
  };
}
