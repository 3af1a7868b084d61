import { InvalidArgumentError } from '../errors.js';
import type { PgasContext } from '../context.js';
import { Op } from '../transport.js';
import { checkTimeout } from '../validate.js';
import { awaitSignal, deadlineAfter, type Group } from './group.js';

export type ReduceOp = 'sum' | 'min' | 'max';
export type ReduceArray = Float32Array | Float64Array;

/**
 * Reduce-scatter then allgather, chunk by chunk: member b reduces block b of the chunk from every
 * member's contribution (in member order, so every rank gets bit-identical results) and puts the
 * reduced block to everyone. Each member sends and receives about 2·(m−1)/m of the data: the
 * bandwidth optimum, in two latency steps.
 */
export async function allreduce(
  ctx: PgasContext, input: ReduceArray, output: ReduceArray, op: ReduceOp, group: Group, timeoutMs: number,
): Promise<void> {
  checkTimeout(timeoutMs);
  if (!(input instanceof Float32Array || input instanceof Float64Array)) {
    throw new InvalidArgumentError('allreduce input must be a Float32Array or a Float64Array');
  }
  if (output.constructor !== input.constructor || output.length !== input.length) {
    throw new InvalidArgumentError('allreduce output must be the same type and length as the input');
  }
  if (op !== 'sum' && op !== 'min' && op !== 'max') throw new InvalidArgumentError(`allreduce op must be sum, min or max, got '${String(op)}'`);
  if (group.index < 0) throw new InvalidArgumentError(`rank ${ctx.rank} is not a member of the group`);
  const m = group.size;
  if (m === 1) {
    if (output !== input) output.set(input);
    return;
  }
  const width = input.BYTES_PER_ELEMENT;
  const perChunk = Math.floor(group.layout.chunk / width);
  const deadline = deadlineAfter(timeoutMs);
  for (let start = 0; start < input.length; start += perChunk) {
    const n = Math.min(perChunk, input.length - start);
    await reduceChunk(ctx, input, output, start, n, width, op, group, deadline);
  }
}

async function reduceChunk(
  ctx: PgasContext, input: ReduceArray, output: ReduceArray, start: number, n: number, width: number,
  op: ReduceOp, group: Group, deadline: number,
): Promise<void> {
  const segment = ctx.slot(group.slot)!;
  const L = group.layout;
  const m = group.size;
  const me = group.index;
  const q = ctx.internalQueue;
  const View = viewMaker(width);
  const { parity, value } = group.nextStep();
  const block = Math.ceil(n / m);
  const blockStart = (b: number): number => Math.min(n, b * block);
  const blockLength = (b: number): number => blockStart(b + 1) - blockStart(b);

  const staging = View(segment.buffer, L.staging, n);
  staging.set(input.subarray(start, start + n));
  // Scatter: block b of my contribution goes to member b's scatter slot reserved for me.
  for (let b = 0; b < m; b++) {
    if (b === me) continue;
    const len = blockLength(b);
    const id = L.scatterIds + parity * m + me;
    if (len === 0) ctx.post(Op.NOTIFY, q, -1, 0, group.ranks[b]!, group.slot, 0, 0, id, value, true);
    else ctx.post(Op.PUT_NOTIFY, q, group.slot, L.staging + blockStart(b) * width, group.ranks[b]!, group.slot, L.scatter + me * L.block, len * width, id, value, true);
  }
  for (let j = 0; j < m; j++) {
    if (j !== me) await awaitSignal(ctx, group, L.scatterIds + parity * m + j, group.ranks[j]!, deadline, 'allreduce');
  }
  // Reduce my block in member order.
  const myLength = blockLength(me);
  const reduced = View(segment.buffer, L.reduced, myLength);
  const myOffset = blockStart(me);
  for (let j = 0; j < m; j++) {
    const source = j === me ? staging.subarray(myOffset, myOffset + myLength) : View(segment.buffer, L.scatter + j * L.block, myLength);
    if (j === 0) reduced.set(source);
    else combine(reduced, source, op);
  }
  output.set(reduced, start + myOffset);
  // Allgather: my reduced block to everyone's gather area.
  for (let b = 0; b < m; b++) {
    if (b === me) continue;
    const id = L.gatherIds + parity * m + me;
    if (myLength === 0) ctx.post(Op.NOTIFY, q, -1, 0, group.ranks[b]!, group.slot, 0, 0, id, value, true);
    else ctx.post(Op.PUT_NOTIFY, q, group.slot, L.reduced, group.ranks[b]!, group.slot, L.gather + myOffset * width, myLength * width, id, value, true);
  }
  for (let j = 0; j < m; j++) {
    if (j === me) continue;
    await awaitSignal(ctx, group, L.gatherIds + parity * m + j, group.ranks[j]!, deadline, 'allreduce');
    const len = blockLength(j);
    if (len > 0) output.set(View(segment.buffer, L.gather + blockStart(j) * width, len), start + blockStart(j));
  }
  // Staging and the reduced block are reused by the next chunk: their puts must be done.
  await ctx.wait(q, Infinity);
}

function combine(acc: ReduceArray, x: ReduceArray, op: ReduceOp): void {
  const n = acc.length;
  if (op === 'sum') for (let i = 0; i < n; i++) acc[i] = acc[i]! + x[i]!;
  else if (op === 'min') for (let i = 0; i < n; i++) acc[i] = Math.min(acc[i]!, x[i]!);
  else for (let i = 0; i < n; i++) acc[i] = Math.max(acc[i]!, x[i]!);
}

type ViewMaker = (buffer: SharedArrayBuffer, byteOffset: number, length: number) => ReduceArray;

function viewMaker(width: number): ViewMaker {
  return width === 8
    ? (buffer, byteOffset, length) => new Float64Array(buffer, byteOffset, length)
    : (buffer, byteOffset, length) => new Float32Array(buffer, byteOffset, length);
}
