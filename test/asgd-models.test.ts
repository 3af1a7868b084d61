/**
 * The test models and the data source: gradients against finite differences, the exact optima are
 * stationary points, partitions are disjoint and complete, and a saved cursor continues the batch
 * stream exactly.
 */
import test from 'ava';
import { DenseDataSource, partitionIndices, type DenseBatch } from '../runtime/asgd/data/dense.js';
import type { Model } from '../runtime/asgd/model.js';
import { Rng } from '../runtime/asgd/rng.js';
import { syntheticDataset, syntheticModel, syntheticOptimum, syntheticProblem, type SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';

function gradientCheck(model: Model<DenseBatch>, batch: DenseBatch, params: Float32Array): number {
  const g = new Float32Array(model.paramCount);
  const loss = model.gradient(params, batch, g);
  const direct = model.loss(params, batch);
  if (Math.abs(loss - direct) > 1e-9 * Math.max(1, Math.abs(direct))) return Infinity;
  let worst = 0;
  for (let k = 0; k < model.paramCount; k++) {
    const w = Float64Array.from(params);
    const h = 1e-3;
    const plus = Float32Array.from(w);
    plus[k] = w[k]! + h;
    const minus = Float32Array.from(w);
    minus[k] = w[k]! - h;
    const fd = (model.loss(plus, batch) - model.loss(minus, batch)) / (plus[k]! - minus[k]!);
    worst = Math.max(worst, Math.abs(fd - g[k]!) / Math.max(1, Math.abs(fd)));
  }
  return worst;
}

const kinds: SyntheticArgs[] = [
  { kind: 'leastsq', rows: 40, dim: 5, l2: 0.01, conditioning: 4 },
  { kind: 'logistic', rows: 60, dim: 4, l2: 0.05 },
  { kind: 'quadratic', rows: 30, dim: 6, conditioning: 10 },
];

for (const args of kinds) {
  test(`${args.kind}: gradient matches finite differences, loss matches gradient's return`, (t) => {
    const problem = syntheticProblem({ part: 0, parts: 1, seed: 3, args });
    const params = new Float32Array(problem.model.paramCount);
    const rng = new Rng(11);
    for (let k = 0; k < params.length; k++) params[k] = 0.5 * rng.gaussian();
    const worst = gradientCheck(problem.model, problem.data.next(7), params);
    t.true(worst < 2e-3, `worst relative error ${worst}`);
  });

  test(`${args.kind}: the exact optimum is a stationary point of the full loss`, (t) => {
    const data = syntheticDataset(args);
    const model = syntheticModel(args, data);
    const optimum = Float32Array.from(syntheticOptimum(args));
    const all: DenseBatch = { x: data.x, y: data.y, dim: data.dim, idx: Int32Array.from({ length: data.rows }, (_, i) => i), size: data.rows };
    const g = new Float32Array(model.paramCount);
    model.gradient(optimum, all, g);
    const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    t.true(norm < 1e-5, `gradient norm at the optimum ${norm}`);
    const moved = optimum.slice();
    moved[0] = moved[0]! + 0.05;
    t.true(model.loss(moved, all) > model.loss(optimum, all), 'moving away increases the loss');
  });
}

test('partitions are disjoint, cover every row, and differ in size by at most one', (t) => {
  for (const parts of [1, 2, 3, 4, 7]) {
    const seen = new Int32Array(103);
    const sizes: number[] = [];
    for (let p = 0; p < parts; p++) {
      const idx = partitionIndices(103, p, parts, 42);
      sizes.push(idx.length);
      for (const i of idx) seen[i] = seen[i]! + 1;
    }
    t.true(seen.every((c) => c === 1), `parts ${parts}`);
    t.true(Math.max(...sizes) - Math.min(...sizes) <= 1);
  }
  t.notDeepEqual(Array.from(partitionIndices(50, 0, 2, 1)), Array.from(partitionIndices(50, 0, 2, 2)), 'the seed matters');
});

test('mini-batches: every epoch visits each row once, epochs are reshuffled, a cursor resumes exactly', (t) => {
  const data = syntheticDataset({ kind: 'quadratic', rows: 20, dim: 2 });
  const indices = partitionIndices(20, 1, 2, 5);
  const source = new DenseDataSource(data, indices, 5, 1);
  const epoch1 = Array.from(source.next(10).idx.subarray(0, 10));
  t.deepEqual([...epoch1].sort((a, b) => a - b), Array.from(indices).sort((a, b) => a - b));
  const epoch2 = Array.from(source.next(10).idx.subarray(0, 10));
  t.notDeepEqual(epoch1, epoch2, 'a new permutation per epoch');
  source.next(3);
  const cursor = source.saveCursor();
  const continued = Array.from(source.next(9).idx.subarray(0, 9)); // crosses into epoch 4
  const fresh = new DenseDataSource(data, indices, 5, 1);
  fresh.restoreCursor(JSON.parse(JSON.stringify(cursor)));
  t.deepEqual(Array.from(fresh.next(9).idx.subarray(0, 9)), continued);
  t.is(fresh.samples, 32);
  const again = new DenseDataSource(data, indices, 5, 1);
  t.deepEqual(Array.from(again.next(10).idx.subarray(0, 10)), epoch1, 'same seed, same stream');
});

test('rng: streams are reproducible, distinct, and restorable', (t) => {
  const a = new Rng(7, 1, 2);
  const b = new Rng(7, 1, 2);
  const c = new Rng(7, 2, 1);
  const xs = Array.from({ length: 5 }, () => a.nextU32());
  t.deepEqual(Array.from({ length: 5 }, () => b.nextU32()), xs);
  t.notDeepEqual(Array.from({ length: 5 }, () => c.nextU32()), xs);
  const saved = a.saveState();
  const next = a.uniform();
  b.restoreState(saved);
  t.is(b.uniform(), next);
  let sum = 0;
  let sq = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const v = a.gaussian();
    sum += v;
    sq += v * v;
  }
  t.true(Math.abs(sum / n) < 0.05 && Math.abs(sq / n - 1) < 0.05, `mean ${sum / n}, variance ${sq / n}`);
  const counts = new Array(5).fill(0);
  for (let i = 0; i < 5000; i++) counts[a.int(5)]++;
  t.true(counts.every((c) => c > 850 && c < 1150), JSON.stringify(counts));
});
