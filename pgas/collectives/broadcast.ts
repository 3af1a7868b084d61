import { InvalidArgumentError } from '../errors.js';
import type { PgasContext } from '../context.js';
import { Op } from '../transport.js';
import { checkTimeout } from '../validate.js';
import { awaitSignal, deadlineAfter, type Group } from './group.js';

/**
 * The root puts each chunk straight into every member's broadcast area; members copy it out and
 * acknowledge, and the root sends the next chunk only after every acknowledgement (so it never
 * overwrites a chunk that someone is still reading).
 */
export async function broadcast(
  ctx: PgasContext, data: Float32Array | Float64Array | Uint8Array, root: number, group: Group, timeoutMs: number,
): Promise<void> {
  checkTimeout(timeoutMs);
  if (!ArrayBuffer.isView(data)) throw new InvalidArgumentError('broadcast data must be a typed array');
  const rootIndex = group.ranks.indexOf(root);
  if (rootIndex < 0) throw new InvalidArgumentError(`broadcast root ${String(root)} is not a member of the group`);
  if (group.index < 0) throw new InvalidArgumentError(`rank ${ctx.rank} is not a member of the group`);
  const m = group.size;
  if (m === 1 || data.byteLength === 0) return;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const segment = ctx.slot(group.slot)!;
  const L = group.layout;
  const q = ctx.internalQueue;
  const me = group.index;
  const deadline = deadlineAfter(timeoutMs);
  for (let start = 0; start < bytes.length; start += L.chunk) {
    const n = Math.min(L.chunk, bytes.length - start);
    const { parity, value } = group.nextStep();
    if (me === rootIndex) {
      segment.u8.set(bytes.subarray(start, start + n), L.staging);
      for (let b = 0; b < m; b++) {
        if (b !== me) ctx.post(Op.PUT_NOTIFY, q, group.slot, L.staging, group.ranks[b]!, group.slot, L.broadcast, n, L.bcastIds + parity, value, true);
      }
      for (let b = 0; b < m; b++) {
        if (b !== me) await awaitSignal(ctx, group, L.bcastAckIds + parity * m + b, group.ranks[b]!, deadline, 'broadcast');
      }
    } else {
      await awaitSignal(ctx, group, L.bcastIds + parity, root, deadline, 'broadcast');
      bytes.set(segment.u8.subarray(L.broadcast, L.broadcast + n), start);
      ctx.post(Op.NOTIFY, q, -1, 0, root, group.slot, 0, 0, L.bcastAckIds + parity * m + me, value, true);
    }
    await ctx.wait(q, Infinity);
  }
}
