/**
 * Runs a list of runtime/asgd solver runs (bench/solver-rank.ts) as one real job of `ranks` ranks:
 * threads (one process, a thread per rank) or uws (a process per rank). Every run of the list uses the
 * same job, so the start-up cost is paid once per list.
 */
import { fileURLToPath } from 'node:url';
import { runRankJob, taggedLines } from './job.js';
import type { SolverRunLine, SolverRunSpec } from './solver-rank.js';

export type { SolverRunLine, SolverRunSpec };

export class SolverJobError extends Error {
  override name = 'SolverJobError';
}

const ENTRY = fileURLToPath(new URL('./solver-rank.js', import.meta.url));

/** Per run of `specs`, the lines of every rank (index = rank). */
export async function runSolverJob(transport: 'threads' | 'uws', ranks: number, specs: SolverRunSpec[], timeoutMs = 600_000): Promise<SolverRunLine[][]> {
  const result = await runRankJob({ transport, size: ranks, entry: ENTRY, args: [JSON.stringify(specs)], timeoutMs });
  if (result.codes.some((c) => c !== 0) || result.timedOut) {
    throw new SolverJobError(`solver job (${ranks} ${transport} ranks, ${specs.length} runs) failed: exit codes ${JSON.stringify(result.codes)}\n${result.stderr.slice(-3000)}`);
  }
  const lines = taggedLines<SolverRunLine>(result.stdout, 'SOLVERRUN');
  return specs.map((spec) => {
    const mine = lines.filter((l) => l.label === spec.label);
    const byRank: SolverRunLine[] = [];
    for (const l of mine) byRank[l.rank] = l;
    if (byRank.filter(Boolean).length !== ranks) throw new SolverJobError(`solver job: run '${spec.label}' reported from ${mine.length} of ${ranks} ranks`);
    return byRank;
  });
}
