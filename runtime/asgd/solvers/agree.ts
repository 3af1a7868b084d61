import type { PgasContext } from '../../../pgas/index.js';

/**
 * Run `work` on every rank, then agree on the outcome (an allreduce of one failure flag per rank): if
 * it threw anywhere, every rank throws, its own error or, where it did nothing wrong itself, the
 * error `peerFailed` makes of the failed ranks. A collective that comes after can then not hang on a
 * rank that gave up.
 */
export async function agreeOnOutcome<T>(ctx: PgasContext, work: () => T | Promise<T>, peerFailed: (ranks: number[]) => Error): Promise<T> {
  let result: T | undefined;
  let failure: unknown;
  try {
    result = await work();
  } catch (error) {
    failure = error;
  }
  if (ctx.size > 1) {
    const flags = new Float64Array(ctx.size);
    flags[ctx.rank] = failure === undefined ? 0 : 1;
    await ctx.allreduce(flags, flags, 'sum');
    const failed = Array.from(flags.keys()).filter((r) => flags[r] !== 0);
    if (failure === undefined && failed.length > 0) throw peerFailed(failed);
  }
  if (failure !== undefined) throw failure;
  return result as T;
}
