/**
 * Runs one LeNet scaling run (bench/lenet-rank.ts) as a real job over the threads transport (one
 * process, a thread per rank, as `pgas-run --transport threads` starts it) and returns every rank's line.
 */
import { fileURLToPath } from 'node:url';
import { runRankJob, taggedLines } from './job.js';
import type { LenetRunLine, LenetRunSpec } from './lenet-spec.js';

export class LenetJobError extends Error {
  override name = 'LenetJobError';
}

const ENTRY = fileURLToPath(new URL('./lenet-rank.js', import.meta.url));

/** The lines of every rank (index = rank) of `spec` run on `ranks` ranks. */
export async function runLenetJob(ranks: number, spec: LenetRunSpec, timeoutMs = 900_000): Promise<LenetRunLine[]> {
  const result = await runRankJob({ transport: 'threads', size: ranks, entry: ENTRY, args: [JSON.stringify(spec)], timeoutMs });
  const what = `LeNet ${spec.parallel} on ${ranks} rank(s)${spec.threads > 1 ? ` × ${spec.threads} threads` : ''}`;
  if (result.codes.some((c) => c !== 0) || result.timedOut) {
    throw new LenetJobError(`${what} failed: exit codes ${JSON.stringify(result.codes)}\n${result.stderr.slice(-3000)}`);
  }
  const byRank: LenetRunLine[] = [];
  for (const line of taggedLines<LenetRunLine>(result.stdout, 'LENETRUN')) byRank[line.rank] = line;
  if (byRank.filter(Boolean).length !== ranks) throw new LenetJobError(`${what}: ${byRank.filter(Boolean).length} of ${ranks} ranks reported`);
  return byRank;
}
