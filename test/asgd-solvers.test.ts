/**
 * asgd, simuparallel and sync as real jobs (threads transport): one-rank equivalence with plain SGD
 * bit for bit, convergence to the known optimum on 1, 2 and 4 ranks (least squares, logistic
 * regression), ALGORITHMS-DETAIL §1.8's rejection example, sync's identical states after every
 * step, SimuParallelSGD's average.
 */
import test from 'ava';
import type { SolverConfig } from '../runtime/asgd/config.js';
import { syntheticDataset, syntheticModel, syntheticOptimum, syntheticProblem, type SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';
import { Rng, Stream } from '../runtime/asgd/rng.js';
import { distance, maxAbsDiff, referenceSgd, solverJob } from './fixtures/asgd-lib.js';

const LSQ: SyntheticArgs = { kind: 'leastsq', rows: 512, dim: 8, l2: 0.01, noise: 0.1 };
const LOGISTIC: SyntheticArgs = { kind: 'logistic', rows: 4000, dim: 4, l2: 0.1 };

function config(solver: SolverConfig['solver'], steps: number, extra: Partial<SolverConfig> = {}): SolverConfig {
  return { solver, optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 8, seed: 7, stop: { steps }, ...extra };
}

for (const solver of ['asgd', 'sync', 'simuparallel'] as const) {
  test.serial(`${solver} on one rank is plain mini-batch SGD, bit for bit`, async (t) => {
    const out = await solverJob('threads', 1, { problem: LSQ, config: config(solver, 300) });
    t.is(out.ranks.length, 1, out.stderr);
    t.deepEqual(out.ranks[0]!.params, Array.from(referenceSgd(LSQ, 7, 0.05, 8, 300)));
  });
}

test.serial('asgd with exchangeEvery = ∞ on 2 ranks: each rank is plain SGD on its own partition, bit for bit', async (t) => {
  const out = await solverJob('threads', 2, { problem: LSQ, config: config('asgd', 300, { asgd: { exchangeEvery: Infinity } }) });
  t.is(out.ranks.length, 2, out.stderr);
  for (const r of out.ranks) {
    t.deepEqual(r.params, Array.from(referenceSgd(LSQ, 7, 0.05, 8, 300, r.rank, 2)), `rank ${r.rank}`);
    t.is(r.counters.sent, 0);
  }
});

const plans: [string, SolverConfig['solver'], number, Partial<SolverConfig>][] = [
  ['asgd', 'asgd', 3000, {}],
  ['asgd --no-window', 'asgd', 3000, { asgd: { window: 'off' } }],
  ['asgd, exchange every 4 steps, mix replace', 'asgd', 3000, { asgd: { exchangeEvery: 4, mix: 'replace' } }],
  ['simuparallel', 'simuparallel', 3000, {}],
  ['sync', 'sync', 600, {}],
];
for (const [name, solver, steps, extra] of plans) {
  for (const size of [1, 2, 4]) {
    test.serial(`${name} converges to the least-squares optimum on ${size} rank${size > 1 ? 's' : ''}`, async (t) => {
      const out = await solverJob('threads', size, { problem: { ...LSQ, dim: 16 }, config: config(solver, steps, extra) });
      t.is(out.ranks.length, size, out.stderr + JSON.stringify(out.errors));
      const optimum = syntheticOptimum({ ...LSQ, dim: 16 });
      const start = distance(new Float32Array(16), optimum);
      for (const r of out.ranks) {
        const d = distance(r.params, optimum);
        t.true(d < 0.06, `rank ${r.rank}: distance ${d.toFixed(4)} from the optimum (start ${start.toFixed(2)})`);
      }
      if (solver === 'asgd' && size > 1 && !('exchangeEvery' in (extra.asgd ?? {}))) {
        const totals = out.ranks[0]!.summary!.totals;
        t.true(totals.sent === size * steps, `every step sent a state: ${totals.sent}`);
        t.true(totals.received > 0, 'states were received');
        t.is(totals.torn, 0);
        if (extra.asgd?.window === 'off') t.is(totals.accepted, totals.received - totals.rejectedNonFinite);
        t.log(`received ${totals.received}, accepted ${totals.accepted}, window rejected ${totals.rejectedWindow}`);
      }
    });
  }
}

const logisticOptimum = syntheticOptimum(LOGISTIC);
for (const [solver, steps] of [['asgd', 2000], ['sync', 1000]] as const) {
  for (const size of [1, 2, 4]) {
    test.serial(`${solver} fits the logistic regression on ${size} rank${size > 1 ? 's' : ''}`, async (t) => {
      const out = await solverJob('threads', size, {
        problem: LOGISTIC,
        config: { solver, optimizer: { name: 'sgd', lr: 1 }, schedule: { policy: 'inv', gamma: 0.01, power: 0.75 }, batchSize: 32, seed: 3, stop: { steps } },
      });
      t.is(out.ranks.length, size, out.stderr);
      const data = syntheticDataset(LOGISTIC);
      const model = syntheticModel(LOGISTIC, data);
      const all = { x: data.x, y: data.y, dim: data.dim, idx: Int32Array.from({ length: data.rows }, (_, i) => i), size: data.rows };
      const best = model.loss(Float32Array.from(logisticOptimum), all);
      for (const r of out.ranks) {
        const gap = model.loss(Float32Array.from(r.params), all) - best;
        const d = distance(r.params, logisticOptimum);
        t.true(gap < 4e-3 && d < 0.2, `rank ${r.rank}: loss gap ${gap.toExponential(2)}, distance ${d.toFixed(3)}`);
        t.true(r.finalScore! > 0.6, `accuracy ${r.finalScore}`);
      }
    });
  }
}

test.serial('ALGORITHMS-DETAIL §1.8 #6: losses ½(w−1)² and ½(w+1)², ε = 0.5 — every state rejected, trajectories ±(0.5, 0.75, 0.875)', async (t) => {
  const problem: SyntheticArgs = { kind: 'quadratic', points: [[1], [-1]] };
  for (const steps of [1, 2, 3]) {
    const out = await solverJob('threads', 2, { problem, config: { solver: 'asgd', optimizer: { name: 'sgd', lr: 0.5 }, batchSize: 1, seed: 1, stop: { steps } } });
    t.is(out.ranks.length, 2, out.stderr);
    const expected = [0.5, 0.75, 0.875][steps - 1]!;
    const finals = out.ranks.map((r) => r.params[0]!).sort((a, b) => a - b);
    t.deepEqual(finals, [-expected, expected]);
    const totals = out.ranks[0]!.summary!.totals;
    t.is(totals.accepted, 0);
    t.is(totals.received, totals.rejectedWindow);
  }
});

test.serial('sync: every rank holds the identical state after every step, and matches SGD on the combined batches', async (t) => {
  const steps = 40;
  for (const size of [2, 4]) {
    const out = await solverJob('threads', size, { problem: LSQ, config: config('sync', steps), trace: true });
    t.is(out.ranks.length, size, out.stderr);
    const first = out.ranks[0]!.trace!;
    t.is(first.length, steps);
    for (const r of out.ranks) t.deepEqual(r.trace, first, `rank ${r.rank} trace`);
    // reference: the mean of the ranks' batch gradients, each rank drawing from its own partition
    const parts = Array.from({ length: size }, (_, p) => syntheticProblem({ part: p, parts: size, seed: 7, args: LSQ }));
    const w = new Float32Array(8);
    parts[0]!.model.init(w, new Rng(7, Stream.Init));
    const g = new Float32Array(8);
    const mean = new Float64Array(8);
    for (let s = 0; s < steps; s++) {
      mean.fill(0);
      for (const p of parts) {
        p.model.gradient(w, p.data.next(8), g);
        for (let k = 0; k < 8; k++) mean[k] = mean[k]! + g[k]! / size;
      }
      for (let k = 0; k < 8; k++) w[k] = w[k]! - 0.05 * mean[k]!;
    }
    t.true(maxAbsDiff(out.ranks[0]!.params, w) < 1e-5, `difference ${maxAbsDiff(out.ranks[0]!.params, w)}`);
  }
});

test.serial("sync with batchSize 'full' is the BATCH solver: w ← w − ε·∇L(w) on all data", async (t) => {
  const out = await solverJob('threads', 3, { problem: LSQ, config: { ...config('sync', 25), batchSize: 'full' } });
  t.is(out.ranks.length, 3, out.stderr);
  const { model, data } = syntheticProblem({ part: 0, parts: 1, seed: 7, args: LSQ });
  const w = new Float32Array(8);
  const g = new Float32Array(8);
  for (let s = 0; s < 25; s++) {
    model.gradient(w, data.all(), g);
    for (let k = 0; k < 8; k++) w[k] = w[k]! - 0.05 * g[k]!;
  }
  t.true(maxAbsDiff(out.ranks[1]!.params, w) < 1e-5, `difference ${maxAbsDiff(out.ranks[1]!.params, w)}`);
  t.is(out.ranks.reduce((s, r) => s + r.samples, 0), 25 * 512, 'every step used each rank\'s whole partition');
});

test.serial('simuparallel: the result is the mean of the local states; identical partitions end equal', async (t) => {
  const out = await solverJob('threads', 4, { problem: LSQ, config: config('simuparallel', 200) });
  t.is(out.ranks.length, 4, out.stderr);
  const mean = new Float64Array(8);
  for (const r of out.ranks) for (let k = 0; k < 8; k++) mean[k] = mean[k]! + r.local![k]! / 4;
  for (const r of out.ranks) {
    t.true(maxAbsDiff(r.params, mean) < 1e-6, 'the average');
    t.deepEqual(r.params, out.ranks[0]!.params, 'the same on every rank');
    t.deepEqual(r.local, Array.from(referenceSgd(LSQ, 7, 0.05, 8, 200, r.rank, 4)), 'no communication before the end');
  }
  t.notDeepEqual(out.ranks[0]!.local, out.ranks[1]!.local);
  const same = await solverJob('threads', 3, { problem: { ...LSQ, partition: 'identical' }, config: config('simuparallel', 200) });
  for (const r of same.ranks) t.deepEqual(r.local, same.ranks[0]!.local, 'identical partitions, identical trajectories');
});

for (const optimizer of [{ name: 'momentum', lr: 0.01, momentum: 0.8 }, { name: 'adam', lr: 0.01 }, { name: 'boosted-sgd', lr: 0.05 }, { name: 'boosted-adagrad', lr: 0.2, boostSign: -1 }] as const) {
  test.serial(`asgd with ${optimizer.name} (the pull, then the optimizer's step; boosted: Δw = the merge displacement) converges on 2 ranks`, async (t) => {
    const out = await solverJob('threads', 2, { problem: LSQ, config: { ...config('asgd', 3000), optimizer } });
    t.is(out.ranks.length, 2, out.stderr);
    const optimum = syntheticOptimum(LSQ);
    for (const r of out.ranks) t.true(distance(r.params, optimum) < 0.06, `rank ${r.rank}: ${distance(r.params, optimum)}`);
  });
}

test.serial("asgd finalState 'average': one allreduce at the end, every rank returns the mean", async (t) => {
  const out = await solverJob('threads', 3, { problem: LSQ, config: config('asgd', 500, { asgd: { finalState: 'average' } }) });
  t.is(out.ranks.length, 3, out.stderr);
  for (const r of out.ranks) t.deepEqual(r.params, out.ranks[0]!.params);
  t.true(distance(out.ranks[0]!.params, syntheticOptimum(LSQ)) < 0.06);
});
