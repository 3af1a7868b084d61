/**
 * `terabyte`: K-Means (ASGD) over a synthetic data set of a given size (default --size 1TB of float32,
 * d = 10: 2.5·10^10 points), generated on the fly per rank (counter-based, nothing stored), streaming
 * with progress lines. On a cluster: `pgas-run -n 1024 kmeans --size 1TB ...` does the whole pass. Here
 * the suite runs a measured fraction (--fraction of the data set, or --time-budget of training) and
 * extrapolates the one-pass time from the measured rate, saying so in every figure.
 */
import { linePlot } from '../plot.js';
import { runKmeansJob } from '../kmeans-job.js';
import type { SuiteOutput } from '../results.js';
import { cell } from '../series.js';
import { sizeToPoints, formatBytes, formatCount } from '../../kmeans/size.js';
import { UsageError } from '../suite-args.js';
import type { Suite, SuiteContext } from './types.js';

const DIM = 10;

function hours(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds >= 86400) return `${cell(seconds / 86400)} d`;
  if (seconds >= 3600) return `${cell(seconds / 3600)} h`;
  if (seconds >= 60) return `${cell(seconds / 60)} min`;
  return `${cell(seconds)} s`;
}

async function run(ctx: SuiteContext): Promise<SuiteOutput> {
  const { args, log, cores } = ctx;
  const sizeText = args.sizeText ?? '1TB';
  const points = args.size ? sizeToPoints(args.size, DIM) : 1e12 / (4 * DIM);
  if ((args.ranks?.length ?? 1) > 1) throw new UsageError('terabyte: give one rank count (--ranks 2)');
  const ranks = args.ranks?.[0] ?? cores;
  const k = 100;
  const budget = args.timeBudget ?? (args.fraction === undefined ? (args.quick ? 8 : 60) : undefined);
  const stop = args.fraction !== undefined
    ? ['--samples', String(Math.max(1, Math.ceil((args.fraction * points) / ranks)))]
    : ['--time', String(budget)];
  if (budget !== undefined && args.fraction !== undefined) throw new UsageError('terabyte: give --fraction or --time-budget, not both');
  log(`terabyte: K-Means asgd over ${sizeText} (${formatCount(points)} points, d = ${DIM}) on ${ranks} ranks; measuring ${args.fraction !== undefined ? `a fraction ${args.fraction} of the data set` : `${budget} s of training`}`);
  const summary = await runKmeansJob({
    ranks, transport: 'threads', progressEvery: args.quick ? 1 : 5, onProgress: (line) => log(`terabyte: ${line}`),
    args: ['--size', sizeText, '--dim', String(DIM), '--k', String(k), '--k-true', String(k), '--solver', 'asgd', '--batch', '4096', '--seed', '1', '--eval-every', String(Math.max(0.1, (budget ?? 10) / 50)), ...stop],
    timeoutMs: Math.max(600_000, 2_000_000 * (budget ?? 600)),
  });
  const rate = summary.samplesPerSecond;
  const fraction = summary.totalSamples / points;
  const here = points / rate;
  const perCore = rate / Math.min(ranks, cores);
  const clusters = [16, 64 * 16, 1000 * 16];
  const t0 = summary.perRank[0]!.trace;
  const rows = [
    ['data set', `${sizeText} = ${formatBytes(points * DIM * 4)} of float32, ${formatCount(points)} points, d = ${DIM}, 100 true clusters`],
    ['measured', `${formatCount(summary.totalSamples)} samples (${(100 * fraction).toPrecision(2)} % of one pass) in ${cell(summary.wallSeconds)} s on ${ranks} ranks`],
    ['measured rate', `${formatCount(rate)} samples/s (${formatCount(perCore)}/s per core)`],
    ['centre error after the measured fraction', `${cell(summary.centreError?.mean ?? NaN)} (${summary.centreError?.recovered ?? '—'} of ${k} clusters found)`],
    [`one pass on this machine (${ranks} ranks), extrapolated`, hours(here)],
    ...clusters.map((c) => [`one pass on ${c} cores, extrapolated (assumes linear scaling)`, hours(points / (perCore * c))]),
  ];
  const coreAxis = [1, 2, 4, 16, 64, 256, 1024, 4096, 16000];
  return {
    title: `Terabyte K-Means (${sizeText}, measured fraction, extrapolated)`,
    transport: 'threads',
    notes: [
      `EXTRAPOLATED: this run processed ${(100 * fraction).toPrecision(2)} % of the ${sizeText} data set; the one-pass times are the data set size divided by the measured rate. The cluster rows assume the per-core rate holds on every core (linear scaling), which this ${cores}-core machine cannot check; inter-node exchange is not measured.`,
      'The data are generated per slice by the counter-based generator (Philox), so no rank stores them; a rank streams its slice in batches. On a cluster run the same command through the launcher: `pgas-run -n <ranks> kmeans --size 1TB --dim 10 --k 100 --epochs 1 --progress-every 10`.',
    ],
    tables: [{ id: 'terabyte', title: `K-Means over ${sizeText}: measured fraction and extrapolated one-pass time`, header: ['what', 'figure'], rows, key: true }],
    plots: [
      {
        file: 'fraction-error.svg', title: 'Centre error against samples in the measured fraction',
        svg: linePlot([{ label: 'rank 0', x: t0.samples.map((s) => s * ranks), y: t0.error, markers: false }], { title: `K-Means over ${sizeText}: the measured fraction`, xLabel: 'samples processed (all ranks)', yLabel: 'centre error', logX: true, logY: true }),
      },
      {
        file: 'extrapolated-time.svg', title: 'Extrapolated one-pass time against cores (linear-scaling assumption)', key: true,
        svg: linePlot([{ label: 'extrapolated (linear scaling)', x: coreAxis, y: coreAxis.map((c) => points / (perCore * c) / 3600), dashed: true }, { label: 'measured here', x: [Math.min(ranks, cores)], y: [here / 3600] }], {
          title: `One pass over ${sizeText}: extrapolated`, subtitle: `from ${formatCount(perCore)} samples/s per core measured on ${ranks} ranks`, xLabel: 'cores', yLabel: 'hours', logX: true, logY: true,
        }),
      },
    ],
    records: [{ size: sizeText, points, ranks, measuredSamples: summary.totalSamples, fraction, wallSeconds: summary.wallSeconds, samplesPerSecond: rate, perCoreRate: perCore, finalError: summary.centreError?.mean ?? NaN, extrapolatedOnePassSeconds: here, extrapolated: true, transport: 'threads' }],
    options: { size: sizeText, points, ranks, fraction: args.fraction ?? null, timeBudget: budget ?? null },
  };
}

export const terabyteSuite: Suite = {
  name: 'terabyte',
  summary: 'K-Means over a synthetic data set (--size 1TB), streaming with progress; runs a measured fraction (--fraction F or --time-budget 60s) and extrapolates',
  flags: ['--quick', '--out', '--size', '--fraction', '--time-budget', '--ranks'],
  run,
};
