/**
 * Single-process reference algorithms the distributed solvers are checked and benchmarked against:
 * Lloyd's algorithm and Sculley's mini-batch K-Means ("Web-scale k-means clustering", WWW 2010, the
 * algorithm behind scikit-learn's MiniBatchKMeans). Written straight from their definitions, sharing
 * only the assignment kernel with the model, so that agreement between the two is evidence.
 */
import { assign, assignAccumulate, centreNorms } from './kernels.js';
import type { KmeansBatch } from './batches.js';
import type { PointSource } from './source.js';
import { partitionRange } from './synthetic.js';

/** Lloyd's update from per-centre sums and counts: c = S/N; a centre with no points stays. Returns whether any centre changed. */
export function lloydUpdate(centres: Float32Array, k: number, d: number, sums: Float64Array, counts: Float64Array): boolean {
  let changed = false;
  for (let c = 0; c < k; c++) {
    const n = counts[c]!;
    if (n === 0) continue;
    const base = c * d;
    for (let j = 0; j < d; j++) {
      const v = Math.fround(sums[base + j]! / n);
      if (v !== centres[base + j]) changed = true;
      centres[base + j] = v;
    }
  }
  return changed;
}

/**
 * The map step over rows [from, to) of a source, streamed through `chunk` (any multiple of d floats):
 * adds every point to its nearest centre's sum and count; returns the sum of squared distances. Sums
 * and counts accumulate in the rows' order whatever the chunk size, so they do not depend on it (the
 * returned total is summed per chunk, so its last bits do).
 */
export function accumulateRange(
  source: PointSource, from: number, to: number, centres: Float32Array, k: number, norms: Float64Array,
  sums: Float64Array, counts: Float64Array, chunk: Float32Array,
): number {
  const d = source.dim;
  const rows = Math.max(1, Math.floor(chunk.length / d));
  let total = 0;
  for (let at = from; at < to; at += rows) {
    const n = Math.min(rows, to - at);
    source.read(at, at + n, chunk, 0);
    total += assignAccumulate(chunk, 0, n, d, centres, k, norms, sums, counts);
  }
  return total;
}

export interface LloydResult {
  centres: Float32Array;
  iterations: number;
  /** no centre moved in the last iteration */
  converged: boolean;
  /** inertia per point at the centres each iteration started from */
  inertia: number[];
}

/**
 * Lloyd's algorithm on n in-memory points from `init`. With `partitions` > 1 the map step runs per
 * partition (the ranks' split, partitionRange) and the partial sums are added in partition order:
 * exactly the arithmetic of the distributed version, whose allreduce adds in rank order.
 */
export function lloyd(
  points: Float32Array, n: number, d: number, k: number, init: Float32Array,
  options: { maxIterations?: number; partitions?: number } = {},
): LloydResult {
  const maxIterations = options.maxIterations ?? 100;
  const parts = options.partitions ?? 1;
  const centres = init.slice(0, k * d);
  const norms = new Float64Array(k);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const partSums = new Float64Array(k * d);
  const partCounts = new Float64Array(k);
  const inertia: number[] = [];
  let converged = false;
  let iterations = 0;
  while (iterations < maxIterations && !converged) {
    centreNorms(centres, k, d, norms);
    let total = 0;
    for (let p = 0; p < parts; p++) {
      const [from, to] = partitionRange(n, p, parts);
      const target = p === 0 ? sums : partSums;
      const targetCounts = p === 0 ? counts : partCounts;
      target.fill(0);
      targetCounts.fill(0);
      total += assignAccumulate(points, from * d, to - from, d, centres, k, norms, target, targetCounts);
      if (p > 0) {
        for (let i = 0; i < k * d; i++) sums[i]! += partSums[i]!;
        for (let c = 0; c < k; c++) counts[c]! += partCounts[c]!;
      }
    }
    inertia.push(total / n);
    converged = !lloydUpdate(centres, k, d, sums, counts);
    iterations++;
  }
  return { centres, iterations, converged, inertia };
}

/**
 * Sculley's mini-batch K-Means, literally: for each batch, cache every point's nearest centre under the
 * current centres; then for each point in turn, v[c] += 1, η = 1/v[c], c ← (1 − η)·c + η·x. The counts
 * v persist across batches, so each centre is the running mean of every point ever assigned to it.
 * `counts` (k) may carry counts in and out.
 */
export function sculleyStep(
  batch: KmeansBatch, d: number, centres: Float32Array, k: number, counts: Float64Array,
  scratch: { norms: Float64Array; labels: Int32Array },
): void {
  const { x, n } = batch;
  if (scratch.labels.length < n) scratch.labels = new Int32Array(n);
  centreNorms(centres, k, d, scratch.norms);
  assign(x, 0, n, d, centres, k, scratch.norms, scratch.labels, null);
  for (let i = 0; i < n; i++) {
    const c = scratch.labels[i]!;
    const v = ++counts[c]!;
    const eta = 1 / v;
    const base = c * d;
    for (let j = 0; j < d; j++) centres[base + j] = (1 - eta) * centres[base + j]! + eta * x[i * d + j]!;
  }
}
