import { PeerDeadError, type Group, type PgasContext } from '../../../pgas/index.js';

/** How many times the end of a run is retried when another rank dies during it. */
const MAX_ATTEMPTS = 8;

/** The ranks this rank currently sees alive (itself included), ascending. */
export function aliveRanks(ctx: PgasContext): number[] {
  return Array.from({ length: ctx.size }, (_, r) => r).filter((r) => r === ctx.rank || ctx.isAlive(r));
}

/**
 * Run the collective end of an asynchronous run over the ranks that are still alive, so that a job
 * that lost ranks (SIGKILL, a vanished host) still ends with a result made from the survivors.
 *
 * Every survivor learns of a death from the same heartbeat notice, but not at the same instant: a
 * rank that has not heard yet runs `work` over the old membership, and its collective fails with
 * PeerDeadError as soon as the notice arrives (collectives wake on death), so it retries with the
 * new membership and meets the others there. A rank that dies during `work` is handled the same way.
 * Any other error, and a TimeoutError after `timeoutMs`, is thrown: a bounded wait, never a hang.
 */
export async function withSurvivors<T>(ctx: PgasContext, timeoutMs: number, work: (group: Group, alive: number[]) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const alive = aliveRanks(ctx);
    let group: Group;
    try {
      group = alive.length === ctx.size ? ctx.world : await ctx.createGroup(alive, timeoutMs);
    } catch (error) {
      if (!(error instanceof PeerDeadError)) throw error;
      lastError = error;
      continue;
    }
    try {
      const result = await work(group, alive);
      // the result stands even if a member dies while the group's buffers are released
      if (group !== ctx.world) await ctx.deleteGroup(group).catch(() => undefined);
      return result;
    } catch (error) {
      if (!(error instanceof PeerDeadError)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}
