/**
 * Lloyd's algorithm across ranks: the BATCH/synchronous baseline over full partitions
 * (ALGORITHMS-DETAIL.md §3.2). Each iteration every rank streams its whole partition through the
 * assignment kernel into per-centre sums and counts, one allreduce adds them (with the total squared
 * distance) across ranks, and every rank sets c = S/N. This is a synchronous step whose allreduce
 * carries sufficient statistics instead of averaged gradients: per-centre normalisation needs the
 * global counts N_c, which an average of per-rank gradients does not contain.
 *
 * The allreduce adds contributions in rank order and every rank accumulates its rows in order, so
 * the result is bit-identical to reference.ts's lloyd() with the same partitions.
 */
import type { PgasContext } from '../pgas/index.js';
import { centreNorms } from './kernels.js';
import { accumulateRange, lloydUpdate } from './reference.js';
import type { PointSource } from './source.js';

export interface LloydIteration {
  iteration: number;
  /** inertia per point (all ranks) at the centres this iteration started from */
  inertia: number;
  /** whether any centre moved */
  changed: boolean;
  /** points assigned, all ranks */
  points: number;
  /** seconds since the start, averaged over ranks (the same number on every rank) */
  elapsed: number;
}

export interface DistributedLloydOptions {
  maxIterations: number;
  /** rows per read (default 8192) */
  chunkRows?: number;
  /**
   * called after every iteration with the new centres; return true to stop. Every rank must decide
   * the same, so decide from `it` (identical on every rank after the allreduce), not from local clocks.
   */
  onIteration?: (it: LloydIteration, centres: Float32Array) => boolean | void;
}

export interface DistributedLloydResult {
  iterations: number;
  converged: boolean;
  inertia: number[];
}

/** Runs on every rank with the same `centres` (updated in place). */
export async function distributedLloyd(
  ctx: PgasContext, source: PointSource, centres: Float32Array, k: number, options: DistributedLloydOptions,
): Promise<DistributedLloydResult> {
  const d = source.dim;
  // sums (k·d), counts (k), Σ distance², Σ elapsed seconds
  const stats = new Float64Array(k * d + k + 2);
  const reduced = new Float64Array(stats.length);
  const sums = stats.subarray(0, k * d);
  const counts = stats.subarray(k * d, k * d + k);
  const norms = new Float64Array(k);
  const chunk = new Float32Array((options.chunkRows ?? 8192) * d);
  const inertia: number[] = [];
  let converged = false;
  let iteration = 0;
  const started = performance.now();
  while (iteration < options.maxIterations) {
    centreNorms(centres, k, d, norms);
    stats.fill(0);
    stats[k * d + k] = accumulateRange(source, 0, source.count, centres, k, norms, sums, counts, chunk);
    stats[k * d + k + 1] = (performance.now() - started) / 1000;
    await ctx.allreduce(stats, reduced, 'sum');
    let points = 0;
    for (let c = 0; c < k; c++) points += reduced[k * d + c]!;
    const changed = lloydUpdate(centres, k, d, reduced.subarray(0, k * d), reduced.subarray(k * d, k * d + k));
    const it = { iteration, inertia: reduced[k * d + k]! / points, changed, points, elapsed: reduced[k * d + k + 1]! / ctx.size };
    inertia.push(it.inertia);
    iteration++;
    const stop = options.onIteration?.(it, centres) === true;
    if (!changed) {
      converged = true;
      break;
    }
    if (stop) break;
  }
  return { iterations: iteration, converged, inertia };
}
