/**
 * Hogwild (threads of one rank sharing one state) and the parameter server (AsySG-con): one thread /
 * one worker equals SGD bit for bit, convergence with several, staleness 0 with one worker and
 * bounded by the worker count otherwise, boosted optimizers where Δw exists.
 */
import test from 'ava';
import type { SolverConfig } from '../runtime/asgd/config.js';
import { syntheticOptimum, type SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';
import { distance, referenceSgd, solverJob } from './fixtures/asgd-lib.js';

const LSQ: SyntheticArgs = { kind: 'leastsq', rows: 512, dim: 8, l2: 0.01, noise: 0.1 };
const optimum = syntheticOptimum(LSQ);
const config = (solver: SolverConfig['solver'], steps: number, extra: Partial<SolverConfig> = {}): SolverConfig => ({
  solver, optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 8, seed: 11, stop: { steps }, ...extra,
});

test.serial('hogwild with one thread is plain SGD, bit for bit', async (t) => {
  const out = await solverJob('threads', 1, { problem: LSQ, config: config('hogwild', 300, { hogwild: { threads: 1 } }) });
  t.is(out.ranks.length, 1, out.stderr);
  t.deepEqual(out.ranks[0]!.params, Array.from(referenceSgd(LSQ, 11, 0.05, 8, 300)));
  t.is(out.ranks[0]!.steps, 300);
});

for (const [threads, size, optimizer] of [[2, 1, 'sgd'], [4, 1, 'sgd'], [2, 2, 'sgd'], [2, 1, 'boosted-sgd'], [3, 1, 'boosted-momentum']] as const) {
  test.serial(`hogwild: ${threads} threads on ${size} rank${size > 1 ? 's' : ''} with ${optimizer} converge to the optimum`, async (t) => {
    const opt = optimizer === 'boosted-momentum' ? { name: optimizer, lr: 0.01, momentum: 0.8 } as const : { name: optimizer, lr: 0.05 } as const;
    const out = await solverJob('threads', size, { problem: LSQ, config: config('hogwild', 3000, { hogwild: { threads }, optimizer: opt }) });
    t.is(out.ranks.length, size, out.stderr);
    for (const r of out.ranks) {
      t.true(distance(r.params, optimum) < 0.06, `rank ${r.rank}: ${distance(r.params, optimum)}`);
      t.is(r.steps, 3000, 'the step budget counts every thread\'s updates');
      t.is(r.samples, 3000 * 8);
    }
  });
}

test.serial('paramserver with one rank, and with one worker, is plain SGD bit for bit with staleness 0', async (t) => {
  const alone = await solverJob('threads', 1, { problem: LSQ, config: config('paramserver', 300) });
  t.deepEqual(alone.ranks[0]!.params, Array.from(referenceSgd(LSQ, 11, 0.05, 8, 300)));
  const one = await solverJob('threads', 2, { problem: LSQ, config: config('paramserver', 300) });
  t.is(one.ranks.length, 2, one.stderr);
  t.deepEqual(one.ranks[0]!.params, Array.from(referenceSgd(LSQ, 11, 0.05, 8, 300)), 'the server state');
  t.deepEqual(one.ranks[1]!.params, one.ranks[0]!.params, 'every rank returns the server state');
  const staleness = one.ranks[0]!.summary!.staleness!;
  t.like(staleness, { count: 300, mean: 0, max: 0 });
  t.is(staleness.histogram![0], 300);
});

for (const workers of [2, 3]) {
  test.serial(`paramserver with ${workers} workers: staleness ≤ ${workers - 1}, every gradient applied once, convergence`, async (t) => {
    const out = await solverJob('threads', workers + 1, { problem: LSQ, config: config('paramserver', 3000) });
    t.is(out.ranks.length, workers + 1, out.stderr);
    const summary = out.ranks[0]!.summary!;
    const st = summary.staleness!;
    t.is(st.count, 3000);
    t.true(st.max <= workers - 1, `max staleness ${st.max}`);
    t.is(st.histogram!.reduce((a, b) => a + b, 0), 3000);
    t.true(st.histogram!.slice(workers).every((c) => c === 0));
    t.true(st.mean > 0, 'workers did overlap');
    t.log(`staleness histogram ${JSON.stringify(st.histogram!.slice(0, workers))}, mean ${st.mean.toFixed(2)}`);
    const pushed = out.ranks.slice(1).reduce((s, r) => s + r.counters.sent!, 0);
    t.true(pushed >= 3000 && pushed <= 3000 + workers, `pushed ${pushed}`);
    for (const r of out.ranks) t.true(distance(r.params, optimum) < 0.06, `rank ${r.rank}: ${distance(r.params, optimum)}`);
  });
}

test.serial('paramserver without the clock bound records staleness; boosted optimizers get Δw from the read snapshot', async (t) => {
  const free = await solverJob('threads', 4, { problem: LSQ, config: config('paramserver', 2000, { paramserver: { maxClockGap: Infinity } }) });
  t.is(free.ranks.length, 4, free.stderr);
  t.is(free.ranks[0]!.summary!.staleness!.count, 2000);
  t.true(distance(free.ranks[0]!.params, optimum) < 0.06);
  for (const name of ['boosted-sgd', 'boosted-adagrad'] as const) {
    const boosted = await solverJob('threads', 3, { problem: LSQ, config: config('paramserver', 2000, { optimizer: name === 'boosted-sgd' ? { name, lr: 0.05 } : { name, lr: 0.1 } }) });
    t.is(boosted.ranks.length, 3, boosted.stderr);
    t.true(distance(boosted.ranks[0]!.params, optimum) < 0.08, `${name}: ${distance(boosted.ranks[0]!.params, optimum)}`);
  }
});
