import type { PgasContext } from '../context.js';
import { Op } from '../transport.js';
import { checkTimeout } from '../validate.js';
import { awaitSignal, deadlineAfter, type Group } from './group.js';

/**
 * Dissemination barrier: in round k every member signals the member 2^k ahead and waits for the one
 * 2^k behind; after ceil(log2 m) rounds everyone has (transitively) heard from everyone.
 */
export async function barrier(ctx: PgasContext, group: Group, timeoutMs: number): Promise<void> {
  checkTimeout(timeoutMs);
  const m = group.size;
  if (m === 1) return;
  const { parity, value } = group.nextStep();
  const deadline = deadlineAfter(timeoutMs);
  const me = group.index;
  for (let k = 0, dist = 1; dist < m; k++, dist *= 2) {
    const to = group.ranks[(me + dist) % m]!;
    const from = group.ranks[(me - dist + m * 2) % m]!;
    const id = group.layout.barrierIds + parity * 32 + k;
    ctx.post(Op.NOTIFY, ctx.internalQueue, -1, 0, to, group.slot, 0, 0, id, value, true);
    await awaitSignal(ctx, group, id, from, deadline, 'barrier');
  }
  await ctx.wait(ctx.internalQueue, Infinity);
}
