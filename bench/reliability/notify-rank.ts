/**
 * Notifications under contention (issue 9, "Load"), on every rank of the job at once:
 *
 * distinct ids: in rounds, every rank notifies every other rank on K ids of its own (value = round+1);
 *   after a barrier each target checks that every id of every sender holds this round's value and
 *   clears it. A missing or wrong value is a lost notification.
 * shared ids with fetchAdd counters: every rank does fetchAdd(+1) on one of C counters of a random
 *   other rank, then notifies that rank's shared id for that counter (all senders collide on it). At
 *   the end each counter must equal the number of fetchAdds aimed at it (an allreduce of what the
 *   senders counted), and the old values fetchAdd returned for it must be 0..n-1 each once (their sum
 *   and sum of squares are checked), and every shared id that was aimed at must be set.
 *
 * argv: distinctTotal sharedTotal (over the whole job). Prints `RESULT <rank> <json>`.
 */
import { init, QueueFullError } from '../../pgas/index.js';

const distinctTotal = Number(process.argv[2] ?? 100_000);
const sharedTotal = Number(process.argv[3] ?? 20_000);
const COUNTERS = 8;
const QUEUE = 1;
const IN_FLIGHT = 64;

const ctx = await init();
const { rank, size } = ctx;
const ids = ctx.config.notificationsPerSegment;
const K = Math.max(1, Math.min(Math.floor((ids - COUNTERS) / size), Math.ceil(distinctTotal / (size * (size - 1)))));
const rounds = Math.ceil(distinctTotal / (size * (size - 1) * K));
const SHARED_BASE = size * K;
const seg = await ctx.createSegment(0, 8 * COUNTERS);
await ctx.barrier();

async function post(fn: () => void): Promise<void> {
  for (;;) {
    try { fn(); return; } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
      await ctx.wait(QUEUE);
    }
  }
}

// ---- distinct ids ----
let t0 = performance.now();
let sentDistinct = 0;
let receivedDistinct = 0;
let lostDistinct = 0;
for (let round = 0; round < rounds; round++) {
  for (let d = 1; d < size; d++) {
    const target = (rank + d) % size;
    for (let k = 0; k < K; k++) {
      await post(() => ctx.notify(target, 0, rank * K + k, round + 1, QUEUE));
      sentDistinct++;
    }
  }
  await ctx.wait(QUEUE);
  await ctx.barrier();
  for (let s = 0; s < size; s++) {
    if (s === rank) continue;
    for (let k = 0; k < K; k++) {
      if (ctx.resetNotify(0, s * K + k) === round + 1) receivedDistinct++;
      else lostDistinct++;
    }
  }
  await ctx.barrier();
}
const distinctSeconds = (performance.now() - t0) / 1000;

// ---- shared ids with fetchAdd counters ----
const mine = Math.floor(sharedTotal / size) + (rank < sharedTotal % size ? 1 : 0);
const aimed = new Float64Array(size * COUNTERS); // fetchAdds this rank aimed at (target, counter)
const oldSum = new Float64Array(size * COUNTERS);
const oldSq = new Float64Array(size * COUNTERS);
let seed = (rank + 1) * 2654435761;
const nextTarget = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  const r = seed % (size - 1);
  return r >= rank ? r + 1 : r;
};
t0 = performance.now();
let issued = 0;
async function worker(): Promise<void> {
  while (issued < mine) {
    const i = issued++;
    const target = size === 1 ? rank : nextTarget();
    const c = i % COUNTERS;
    const old = Number(await ctx.fetchAdd(target, 0, 8 * c, 1n));
    const cell = target * COUNTERS + c;
    aimed[cell]!++;
    oldSum[cell]! += old;
    oldSq[cell]! += old * old;
    await post(() => ctx.notify(target, 0, SHARED_BASE + c, rank + 1, QUEUE));
  }
}
await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
await ctx.wait(QUEUE);
const sharedSeconds = (performance.now() - t0) / 1000;
await ctx.barrier();
await ctx.allreduce(aimed, aimed, 'sum');
await ctx.allreduce(oldSum, oldSum, 'sum');
await ctx.allreduce(oldSq, oldSq, 'sum');
const counters = new BigInt64Array(seg.buffer, 0, COUNTERS);
let counterMismatch = 0;
let oldValueMismatch = 0;
let sharedIdsUnset = 0;
let counted = 0;
for (let c = 0; c < COUNTERS; c++) {
  const n = aimed[rank * COUNTERS + c]!;
  const have = Number(Atomics.load(counters, c));
  counted += have;
  if (have !== n) counterMismatch++;
  if (oldSum[rank * COUNTERS + c] !== (n * (n - 1)) / 2 || oldSq[rank * COUNTERS + c] !== ((n - 1) * n * (2 * n - 1)) / 6) oldValueMismatch++;
  const v = ctx.resetNotify(0, SHARED_BASE + c);
  if (n > 0 && (v < 1 || v > size)) sharedIdsUnset++;
}
await ctx.barrier();
console.log(`RESULT ${rank} ${JSON.stringify({
  distinct: { perRound: K, rounds, sent: sentDistinct, received: receivedDistinct, lost: lostDistinct, seconds: distinctSeconds },
  shared: { fetchAdds: mine, countedHere: counted, counterMismatch, oldValueMismatch, sharedIdsUnset, seconds: sharedSeconds },
})}`);
await ctx.close();
