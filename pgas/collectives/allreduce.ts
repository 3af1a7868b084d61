import { InvalidArgumentError } from '../errors.js';
import type { PgasContext } from '../context.js';
import { Op } from '../transport.js';
import { checkTimeout } from '../validate.js';
import { awaitSignal, deadlineAfter, type Group } from './group.js';

export type ReduceOp = 'sum' | 'min' | 'max';
/** Arrays the built-in reductions take (Int32 sums wrap modulo 2^32, BigInt64 sums modulo 2^64). */
export type ReduceArray = Float32Array | Float64Array | Int32Array | BigInt64Array;
/** Arrays a user-defined reduction may take. */
export type UserReduceArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array;
/**
 * A user-defined reduction (GASPI allreduce_user): combine `x` into `acc` element by element (both have
 * the same length; `state` is what the caller passed). It is applied to blocks of the arrays, in member
 * order, so it must work element-wise; every rank then gets bit-identical results.
 */
export type UserReduce<T extends UserReduceArray, S> = (acc: T, x: T, state: S) => void;

const BUILT_IN = [Float32Array, Float64Array, Int32Array, BigInt64Array] as const;
const USER_KINDS = [Float32Array, Float64Array, Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array] as const;

/**
 * Reduce-scatter then allgather, chunk by chunk: member b reduces block b of the chunk from every
 * member's contribution (in member order, so every rank gets bit-identical results) and puts the
 * reduced block to everyone. Each member sends and receives about 2·(m−1)/m of the data: the
 * bandwidth optimum, in two latency steps.
 */
export async function allreduce(
  ctx: PgasContext, input: ReduceArray, output: ReduceArray, op: ReduceOp, group: Group, timeoutMs: number,
): Promise<void> {
  if (!BUILT_IN.some((Kind) => input instanceof Kind)) {
    throw new InvalidArgumentError('allreduce input must be a Float32Array, Float64Array, Int32Array or BigInt64Array');
  }
  if (op !== 'sum' && op !== 'min' && op !== 'max') throw new InvalidArgumentError(`allreduce op must be sum, min or max, got '${String(op)}'`);
  const combine = input instanceof BigInt64Array ? bigCombine(op) : numberCombine(op);
  await allreduceWith(ctx, input, output, combine as Combine, group, timeoutMs);
}

/** allreduce with a user-defined reduction function and state (GASPI allreduce_user). */
export async function allreduceUser<T extends UserReduceArray, S>(
  ctx: PgasContext, input: T, output: T, reduce: UserReduce<T, S>, state: S, group: Group, timeoutMs: number,
): Promise<void> {
  if (!USER_KINDS.some((Kind) => input instanceof Kind)) {
    throw new InvalidArgumentError('allreduceUser input must be a typed array of numbers or bigints (not a DataView or Float16Array)');
  }
  if (typeof reduce !== 'function') throw new InvalidArgumentError('allreduceUser needs a reduction function (acc, x, state) => void');
  await allreduceWith(ctx, input, output, ((acc: T, x: T) => reduce(acc, x, state)) as unknown as Combine, group, timeoutMs);
}

type AnyArray = UserReduceArray;
type Combine = (acc: AnyArray, x: AnyArray) => void;

async function allreduceWith(
  ctx: PgasContext, input: AnyArray, output: AnyArray, combine: Combine, group: Group, timeoutMs: number,
): Promise<void> {
  checkTimeout(timeoutMs);
  if (output.constructor !== input.constructor || output.length !== input.length) {
    throw new InvalidArgumentError('allreduce output must be the same type and length as the input');
  }
  if (group.index < 0) throw new InvalidArgumentError(`rank ${ctx.rank} is not a member of the group`);
  const m = group.size;
  if (m === 1) {
    if (output !== input) (output as Float64Array).set(input as Float64Array);
    return;
  }
  const width = input.BYTES_PER_ELEMENT;
  const perChunk = Math.floor(group.layout.chunk / width);
  const deadline = deadlineAfter(timeoutMs);
  for (let start = 0; start < input.length; start += perChunk) {
    const n = Math.min(perChunk, input.length - start);
    await reduceChunk(ctx, input, output, start, n, width, combine, group, deadline);
  }
}

/** The largest element count one allreduce round moves for elements of `elementBytes` (longer arrays take several rounds). */
export function allreduceElemMax(chunkBytes: number, elementBytes: number): number {
  return Math.floor(chunkBytes / elementBytes);
}

async function reduceChunk(
  ctx: PgasContext, input: AnyArray, output: AnyArray, start: number, n: number, width: number,
  combine: Combine, group: Group, deadline: number,
): Promise<void> {
  const segment = ctx.slot(group.slot)!;
  const L = group.layout;
  const m = group.size;
  const me = group.index;
  const q = ctx.internalQueue;
  const View = viewMaker(input);
  const { parity, value } = group.nextStep();
  const block = Math.ceil(n / m);
  const blockStart = (b: number): number => Math.min(n, b * block);
  const blockLength = (b: number): number => blockStart(b + 1) - blockStart(b);

  const staging = View(segment.buffer, L.staging, n);
  (staging as Float64Array).set(input.subarray(start, start + n) as Float64Array);
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
    if (j === 0) (reduced as Float64Array).set(source as Float64Array);
    else combine(reduced, source);
  }
  (output as Float64Array).set(reduced as Float64Array, start + myOffset);
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
    if (len > 0) (output as Float64Array).set(View(segment.buffer, L.gather + blockStart(j) * width, len) as Float64Array, start + blockStart(j));
  }
  // Staging and the reduced block are reused by the next chunk: their puts must be done.
  await ctx.wait(q, Infinity);
}

function numberCombine(op: ReduceOp): (acc: Float64Array, x: Float64Array) => void {
  if (op === 'sum') return (acc, x) => { for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + x[i]!; };
  if (op === 'min') return (acc, x) => { for (let i = 0; i < acc.length; i++) acc[i] = Math.min(acc[i]!, x[i]!); };
  return (acc, x) => { for (let i = 0; i < acc.length; i++) acc[i] = Math.max(acc[i]!, x[i]!); };
}

function bigCombine(op: ReduceOp): (acc: BigInt64Array, x: BigInt64Array) => void {
  if (op === 'sum') return (acc, x) => { for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + x[i]!; };
  if (op === 'min') return (acc, x) => { for (let i = 0; i < acc.length; i++) if (x[i]! < acc[i]!) acc[i] = x[i]!; };
  return (acc, x) => { for (let i = 0; i < acc.length; i++) if (x[i]! > acc[i]!) acc[i] = x[i]!; };
}

type ViewMaker = (buffer: SharedArrayBuffer, byteOffset: number, length: number) => AnyArray;

/** Views of the same element type as `like` over the group's segment. */
function viewMaker(like: AnyArray): ViewMaker {
  const Kind = like.constructor as new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => AnyArray;
  return (buffer, byteOffset, length) => new Kind(buffer, byteOffset, length);
}
