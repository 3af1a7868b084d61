/**
 * The few collective steps the K-Means run needs beyond a solver: agreeing that every rank's set-up
 * worked (so that one rank's bad file fails the job cleanly instead of leaving the others waiting in
 * an allreduce), and combining per-rank pieces into one array that every rank holds (each rank fills
 * its own disjoint slot and an allreduce sums them; adding zeros is exact, so the result is bit-exact).
 */
import type { PgasContext } from '../pgas/index.js';
import { agreeOnOutcome, withSurvivors } from '../runtime/asgd/index.js';
import { KmeansError } from './errors.js';

/** A rank failed while another was setting up: this rank did nothing wrong but stops too. */
export class PeerSetupError extends KmeansError {
  readonly ranks: number[];
  constructor(ranks: number[]) {
    super('ERR_KMEANS_USAGE', `rank${ranks.length > 1 ? 's' : ''} ${ranks.join(', ')} failed to set up the run (see ${ranks.length > 1 ? 'their' : 'its'} error); nothing was trained`);
    this.ranks = ranks;
  }
}

/** Run `work` on every rank; if it threw anywhere, every rank throws (its own error or PeerSetupError). */
export function agree<T>(ctx: PgasContext, work: () => T | Promise<T>): Promise<T> {
  return agreeOnOutcome(ctx, work, (ranks) => new PeerSetupError(ranks));
}

/** Every rank contributes `mine` (its slot's content) at float `offset` of a `length`-float array; all get the whole. */
export async function gatherSlots(ctx: PgasContext, mine: Float64Array, offset: number, length: number): Promise<Float64Array> {
  const all = new Float64Array(length);
  all.set(mine, offset);
  if (ctx.size > 1) await ctx.allreduce(all, all, 'sum');
  return all;
}

/** A bound on the wait for the other survivors at the end of a run (never expected to be reached). */
const GATHER_TIMEOUT_MS = 120_000;

/**
 * gatherSlots over the ranks still alive, for the report after training: an asgd run that lost a rank
 * (pgas-run --tolerate-failures) still reports from its survivors. The lost ranks' slots stay zero;
 * `ranks` says whose slots are filled.
 */
export async function gatherSurvivorSlots(ctx: PgasContext, mine: Float64Array, offset: number, length: number): Promise<{ all: Float64Array; ranks: number[] }> {
  const all = new Float64Array(length);
  return withSurvivors(ctx, GATHER_TIMEOUT_MS, async (group, alive) => {
    all.fill(0);
    all.set(mine, offset);
    if (group.size > 1) await ctx.allreduce(all, all, 'sum', group, GATHER_TIMEOUT_MS);
    return { all, ranks: alive };
  });
}

/** The lowest surviving rank's `values` on every survivor (rank 0's unless rank 0 was lost); after training. */
export async function shareFromFirstSurvivor(ctx: PgasContext, values: Float64Array): Promise<Float64Array> {
  const all = new Float64Array(values.length);
  return withSurvivors(ctx, GATHER_TIMEOUT_MS, async (group, alive) => {
    if (alive[0] === ctx.rank) all.set(values);
    else all.fill(0);
    if (group.size > 1) await ctx.allreduce(all, all, 'sum', group, GATHER_TIMEOUT_MS);
    return all;
  });
}
