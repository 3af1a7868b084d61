/**
 * What every rank of a K-Means run must hold identically besides the initial centres: the
 * initialisation sample, the held-out evaluation sample, the true centres (synthetic data) and the
 * size of the whole data set.
 */
import type { PgasContext } from '../pgas/index.js';
import type { KmeansConfig } from './cli-args.js';
import { agree, gatherSlots } from './collective.js';
import { drawFromPartition, syntheticHeldOut, syntheticInitSample, syntheticOf } from './data.js';
import { UsageError } from './errors.js';
import { RngStream } from './rng.js';
import type { PointSource } from './source.js';
import { partitionRange } from './synthetic.js';

export interface SharedData {
  /** this rank's partition */
  source: PointSource;
  initSample: Float32Array;
  heldOut: Float32Array;
  truth: Float32Array | undefined;
  totalPoints: number;
}

/** The held-out sample's size: as asked, else 100,000 points or 64 MB of float32, whichever is less. */
function heldOutSize(config: KmeansConfig, dim: number): number {
  return config.heldOut ?? Math.min(100000, Math.floor((64 << 20) / (4 * dim)));
}

/**
 * The samples every rank must hold identically. Synthetic data: generated from the seed by every rank
 * (the held-out sample from its own stream, never trained on). File data: every rank draws its share
 * from its own partition and one allreduce puts the shares together (the "held-out" sample is then a
 * sample of the training data, and the summary says so).
 */
export async function sharedData(ctx: PgasContext, config: KmeansConfig, source: PointSource): Promise<SharedData> {
  const spec = config.data;
  const heldOutPoints = heldOutSize(config, source.dim);
  if (spec.kind === 'synthetic') {
    const data = syntheticOf(spec);
    return {
      source,
      initSample: syntheticInitSample(spec, Math.min(config.initSample, data.points), config.seed),
      heldOut: syntheticHeldOut(spec, heldOutPoints),
      truth: data.centres,
      totalPoints: data.points,
    };
  }
  const counts = await gatherSlots(ctx, Float64Array.of(source.count), ctx.rank, ctx.size);
  const totalPoints = counts.reduce((a, b) => a + b, 0);
  const initSample = await gatherSample(ctx, source, Math.min(config.initSample, totalPoints), config.seed, RngStream.InitSample);
  if (config.k > initSample.length / source.dim) {
    throw new UsageError(`--k ${config.k} is larger than the ${initSample.length / source.dim} points of the data`);
  }
  const heldOut = await gatherSample(ctx, source, Math.min(heldOutPoints, totalPoints), config.seed, RngStream.HeldOut);
  return { source, initSample, heldOut, truth: undefined, totalPoints };
}

/** m rows of the whole file: rank r draws its share (partitionRange of m) from its partition. */
export async function gatherSample(ctx: PgasContext, source: PointSource, m: number, seed: number, stream: number): Promise<Float32Array> {
  const d = source.dim;
  const [from, to] = partitionRange(m, ctx.rank, ctx.size);
  const share = Math.min(to - from, source.count);
  const rows = new Float32Array(share * d);
  // Reading may find a bad row: agree before the collective, so no rank waits for a failed one.
  await agree(ctx, () => drawFromPartition(source, share, seed, stream, ctx.rank, rows, 0));
  const counts = await gatherSlots(ctx, Float64Array.of(share), ctx.rank, ctx.size);
  const all = await gatherSlots(ctx, Float64Array.from(rows), from * d, m * d);
  // Compact: rank r's rows start at its slot; a rank with a small partition filled fewer.
  const total = counts.reduce((a, b) => a + b, 0);
  const out = new Float32Array(total * d);
  let at = 0;
  for (let r = 0; r < ctx.size; r++) {
    const slot = partitionRange(m, r, ctx.size)[0] * d;
    const n = counts[r]! * d;
    for (let i = 0; i < n; i++) out[at + i] = all[slot + i]!;
    at += n;
  }
  return out;
}
