/**
 * agreeOnOutcome (the set-up agreement of the solvers' preflight and of the K-Means run): every rank
 * throws when any rank failed. Two in-process "ranks" share a summing allreduce, so the failure paths
 * run without spawning a job (the multi-rank runs in kmeans-cli.test cover it end to end).
 */
import test from 'ava';
import type { PgasContext } from '../pgas/index.js';
import { agreeOnOutcome } from '../runtime/asgd/index.js';

/** `size` fake contexts whose allreduce (sum, Float64Array) waits for all of them, like the real one. */
function fakeRanks(size: number): PgasContext[] {
  let arrived: Float64Array[] = [];
  let release: (() => void) | undefined;
  let done = new Promise<void>((resolve) => (release = resolve));
  return Array.from({ length: size }, (_, rank) => ({
    rank,
    size,
    async allreduce(src: Float64Array, dst: Float64Array): Promise<void> {
      const mine = src.slice();
      arrived.push(mine);
      const wait = done;
      const all = arrived;
      if (all.length === size) {
        arrived = [];
        release!();
        done = new Promise<void>((resolve) => (release = resolve));
      }
      await wait;
      dst.fill(0);
      for (const part of all) for (let i = 0; i < dst.length; i++) dst[i]! += part[i]!;
    },
  }) as unknown as PgasContext);
}

class PeerError extends Error {
  constructor(readonly ranks: number[]) {
    super(`ranks ${ranks.join(', ')} failed`);
  }
}

test('every rank succeeds: each gets its own result', async (t) => {
  const ranks = fakeRanks(3);
  const results = await Promise.all(ranks.map((ctx) => agreeOnOutcome(ctx, () => ctx.rank * 10, (r) => new PeerError(r))));
  t.deepEqual(results, [0, 10, 20]);
});

test('a rank that throws rethrows its own error; the others throw the peer error naming it', async (t) => {
  const ranks = fakeRanks(3);
  const own = new Error('bad file on rank 1');
  const outcomes = await Promise.allSettled(ranks.map((ctx) => agreeOnOutcome(ctx, async () => {
    if (ctx.rank === 1) throw own;
    return ctx.rank;
  }, (r) => new PeerError(r))));
  t.is(outcomes[1]!.status, 'rejected');
  t.is((outcomes[1] as PromiseRejectedResult).reason, own);
  for (const i of [0, 2]) {
    const reason = (outcomes[i] as PromiseRejectedResult).reason as PeerError;
    t.true(reason instanceof PeerError, `rank ${i}`);
    t.deepEqual(reason.ranks, [1]);
  }
});

test('one rank alone needs no allreduce and rethrows its error', async (t) => {
  const [ctx] = fakeRanks(1);
  await t.throwsAsync(agreeOnOutcome(ctx!, () => {
    throw new RangeError('alone');
  }, (r) => new PeerError(r)), { instanceOf: RangeError, message: 'alone' });
});
