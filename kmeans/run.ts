/**
 * One K-Means run on every rank of a job: set up this rank's data (agreeing that every rank could),
 * the shared samples and initial centres, train with the chosen solver while a monitor records the
 * error against time, then gather every rank's figures so that rank 0 can summarise and write them.
 *
 * The solvers themselves are in train.ts.
 */
import type { PgasContext } from '../pgas/index.js';
import type { KmeansConfig } from './cli-args.js';
import { agree, gatherSurvivorSlots, shareFromFirstSurvivor } from './collective.js';
import { openSource } from './data.js';
import { UsageError } from './errors.js';
import { centreError } from './hungarian.js';
import { initialCentres } from './init.js';
import { inertiaPerPoint } from './kernels.js';
import { KmeansModel } from './model.js';
import { ErrorTrace, RunMonitor } from './monitor.js';
import { Rng, RngStream } from './rng.js';
import { sharedData } from './shared-data.js';
import type { PointSource } from './source.js';
import { trainWith } from './train.js';

/** points of the held-out sample the monitor measures on (file data) and the core evaluates on */
const PROBE_POINTS = 4000;
const TRACE_CAPACITY = 400;

export interface RankFigures {
  rank: number;
  samples: number;
  steps: number;
  seconds: number;
  /** the error of this rank's final centres (centre error, or inertia per point on the held-out sample) */
  error: number;
  inertia: number;
  trace: ErrorTrace;
}

export interface KmeansResult {
  config: KmeansConfig;
  ranks: number;
  /** what the data are */
  description: string;
  dim: number;
  /** points in the whole data set (all ranks) */
  totalPoints: number;
  /** the centres reported (rank 0's final state) */
  centres: Float32Array;
  truth: Float32Array | undefined;
  /** matched centre error of `centres` against the truth (synthetic data) */
  centreError: { mean: number; median: number; max: number; recovered: number; threshold: number } | undefined;
  /** inertia per point of `centres` on the held-out sample, and the noise floor d·σ² (synthetic) */
  inertia: number;
  inertiaFloor: number | undefined;
  heldOutPoints: number;
  heldOutIsSample: boolean;
  wallSeconds: number;
  totalSamples: number;
  perRank: RankFigures[];
  stopReason: string;
  iterations: number | undefined;
  converged: boolean | undefined;
}

export interface RunIo {
  /** progress text (rank 0) */
  write: (text: string) => void;
  /** a terminal: rewrite the progress line in place */
  live: boolean;
}

export async function runKmeans(ctx: PgasContext, config: KmeansConfig, io: RunIo): Promise<KmeansResult> {
  if (config.solver === 'minibatch' && ctx.size > 1) {
    throw new UsageError(`--solver minibatch is the single-process baseline (scikit-learn's MiniBatchKMeans): run it on one rank, not ${ctx.size}; asgd, sync, simuparallel and lloyd use several`);
  }
  const source = await agree(ctx, () => openRankData(ctx, config));
  try {
    return await train(ctx, config, io, source);
  } finally {
    source.close();
  }
}

/** This rank's partition; fails (before anything collective) on a bad file or a too-small data set. */
function openRankData(ctx: PgasContext, config: KmeansConfig): PointSource {
  return openSource(config.data, ctx.rank, ctx.size, 1);
}

async function train(ctx: PgasContext, config: KmeansConfig, io: RunIo, rankSource: PointSource): Promise<KmeansResult> {
  const setup = await sharedData(ctx, config, rankSource);
  const { source, truth } = setup;
  const d = source.dim;
  const k = config.k;
  // The initial centres: seeded on the shared sample with the job seed (init.ts), computed by every
  // rank alike, so every solver of a comparison starts from the very same centres.
  const initial = new Float32Array(k * d);
  await agree(ctx, () => initialCentres(config.init, setup.initSample, setup.initSample.length / d, d, k, new Rng(config.seed, RngStream.Init), initial));
  const probe = setup.heldOut.subarray(0, Math.min(PROBE_POINTS, setup.heldOut.length / d) * d);
  const monitor = new RunMonitor({
    rank: ctx.rank, ranks: ctx.size, k, dim: d, ...(truth ? { truth } : { probe }), stop: config.stop, partitionSize: source.count,
    evalEvery: config.evalEvery, printEvery: config.progressEvery, live: io.live, write: io.write,
  });
  const model = new KmeansModel({ k, dim: d, step: config.step, init: config.init, sample: setup.initSample, initial, ...(truth ? { truth } : {}) });
  monitor.record(initial, 0);
  const trained = await trainWith(ctx, config, setup, initial, probe, model, monitor);
  const { centres, stopReason, iterations, converged } = trained;
  monitor.finish();
  const seconds = monitor.elapsed();
  monitor.record(centres, seconds);
  const inertia = inertiaPerPoint(setup.heldOut, setup.heldOut.length / d, d, centres, k);
  const perRank = await gatherFigures(ctx, {
    rank: ctx.rank, samples: monitor.samples, steps: monitor.steps, seconds, error: monitor.lastError, inertia, trace: monitor.trace,
  });
  // The reported centres are rank 0's (for sync and lloyd every rank holds the same ones).
  const reported = await broadcastCentres(ctx, centres);
  const ce = truth ? centreError(truth, truth.length / d, reported, k, d) : undefined;
  const threshold = config.data.kind === 'synthetic' ? 3 * config.data.spread : NaN;
  return {
    config,
    ranks: ctx.size,
    description: source.description,
    dim: d,
    totalPoints: setup.totalPoints,
    centres: reported,
    truth,
    centreError: ce ? { mean: ce.mean, median: ce.median, max: ce.max, recovered: Array.from(ce.distances).filter((x) => x <= threshold).length, threshold } : undefined,
    inertia: perRank[0]!.inertia,
    inertiaFloor: config.data.kind === 'synthetic' ? d * config.data.spread ** 2 : undefined,
    heldOutPoints: setup.heldOut.length / d,
    heldOutIsSample: config.data.kind !== 'synthetic',
    wallSeconds: Math.max(...perRank.map((r) => r.seconds)),
    totalSamples: perRank.reduce((s, r) => s + r.samples, 0),
    perRank,
    stopReason,
    iterations,
    converged,
  };
}

async function gatherFigures(ctx: PgasContext, mine: RankFigures): Promise<RankFigures[]> {
  const head = 6;
  const slot = head + 1 + 3 * TRACE_CAPACITY;
  const local = new Float64Array(slot);
  local.set([mine.rank, mine.samples, mine.steps, mine.seconds, mine.error, mine.inertia]);
  mine.trace.pack(local, head);
  // after training: over the survivors, so that an asgd run that lost a rank still reports
  const { all, ranks } = await gatherSurvivorSlots(ctx, local, ctx.rank * slot, ctx.size * slot);
  return ranks.map((r) => {
    const o = r * slot;
    return {
      rank: all[o]!, samples: all[o + 1]!, steps: all[o + 2]!, seconds: all[o + 3]!, error: all[o + 4]!, inertia: all[o + 5]!,
      trace: ErrorTrace.unpack(all, o + head, TRACE_CAPACITY),
    };
  });
}

async function broadcastCentres(ctx: PgasContext, centres: Float32Array): Promise<Float32Array> {
  // after training: over the survivors (the lowest one's centres, rank 0's unless it was lost)
  return Float32Array.from(await shareFromFirstSurvivor(ctx, Float64Array.from(centres)));
}
