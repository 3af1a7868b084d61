/**
 * The K-Means model and its data source, in process: the step rules against their definitions and
 * against the literal Sculley reference, streamed full batches against in-memory ones, and the batch
 * stream's coverage and reproducibility.
 */
import test from 'ava';
import { KmeansDataSource, type KmeansBatch } from '../kmeans/batches.js';
import { KmeansModel } from '../kmeans/model.js';
import { sculleyStep } from '../kmeans/reference.js';
import { Rng } from '../kmeans/rng.js';
import { SyntheticData } from '../kmeans/synthetic.js';
import { SyntheticSource, type PointSource } from '../kmeans/source.js';
import { UsageError } from '../kmeans/errors.js';
import { drawFromPartition, sampleIndices } from '../kmeans/data.js';

const f32 = (...v: number[]): Float32Array => Float32Array.from(v);
const memory = (x: Float32Array, n: number): KmeansBatch => ({ x, n, source: null, from: 0, to: 0 });

/** An in-memory, non-iid source: rows 0..n-1, row i = (i, -i). */
class CountingSource implements PointSource {
  readonly description = 'counting';
  readonly dim = 2;
  readonly iid = false;
  constructor(readonly count: number) {}
  read(from: number, to: number, out: Float32Array, offset = 0): void {
    for (let i = from; i < to; i++) {
      out[offset + (i - from) * 2] = i;
      out[offset + (i - from) * 2 + 1] = -i;
    }
  }
  close(): void {}
}

test('per-centre step: the first step with ε = 1 jumps to the batch means; counts carry over', (t) => {
  const model = new KmeansModel({ k: 2, dim: 1, step: 'per-centre', init: 'random', sample: f32(0, 10), initial: f32(0, 10) });
  const w = new Float32Array(2);
  model.init(w, new Rng(1));
  t.deepEqual([...w], [0, 10]);
  const g = new Float32Array(2);
  const loss = model.gradient(w, memory(f32(1, 2, 12), 3), g);
  t.is(loss, (0.5 * (1 + 4 + 4)) / 3);
  for (let i = 0; i < 2; i++) w[i]! -= g[i]!;
  t.deepEqual([...w], [1.5, 12]);
  t.deepEqual([...model.counts], [2, 1]);
  // Second batch: centre 0 gets 4 → running mean of (1, 2, 4); centre 1 gets nothing and stays.
  model.gradient(w, memory(f32(4), 1), g);
  for (let i = 0; i < 2; i++) w[i]! -= g[i]!;
  t.true(Math.abs(w[0]! - 7 / 3) < 1e-6);
  t.is(w[1], 12);
});

test('constant step: the gradient of the mean loss (1/b)·Σ(w_c − x)', (t) => {
  const model = new KmeansModel({ k: 2, dim: 1, step: 'constant', init: 'random', sample: f32(0, 10) });
  const g = new Float32Array(2);
  model.gradient(f32(0, 10), memory(f32(1, 2, 12, 13), 4), g);
  t.deepEqual([...g], [(-1 - 2) / 4, (-2 - 3) / 4]);
});

test('model + SGD at ε = 1 reproduces the literal Sculley algorithm', (t) => {
  const data = new SyntheticData({ seed: 4, points: 1e6, dim: 5, kTrue: 8, spread: 0.1 });
  const k = 8;
  const init = new Float32Array(k * 5);
  data.fill(100, 100 + k, init);
  const model = new KmeansModel({ k, dim: 5, step: 'per-centre', init: 'random', sample: init, initial: init });
  const w = new Float32Array(k * 5);
  model.init(w, new Rng(1));
  const reference = init.slice();
  const counts = new Float64Array(k);
  const scratch = { norms: new Float64Array(k), labels: new Int32Array(0) };
  const a = new KmeansDataSource(new SyntheticSource(data), { seed: 1 });
  const b = new KmeansDataSource(new SyntheticSource(data), { seed: 1 });
  const g = new Float32Array(k * 5);
  for (let step = 0; step < 200; step++) {
    model.gradient(w, a.next(64), g);
    for (let i = 0; i < w.length; i++) w[i]! -= g[i]!;
    sculleyStep(b.next(64), 5, reference, k, counts, scratch);
  }
  t.deepEqual([...model.counts], [...counts]);
  for (let i = 0; i < w.length; i++) t.true(Math.abs(w[i]! - reference[i]!) < 1e-4, `${i}: ${w[i]} vs ${reference[i]}`);
});

test('a streamed full batch gives the same gradient and loss as the same rows in memory', (t) => {
  const data = new SyntheticData({ seed: 6, points: 5000, dim: 3, kTrue: 4, spread: 0.2 });
  const source = new SyntheticSource(data);
  const all = new Float32Array(5000 * 3);
  source.read(0, 5000, all);
  const opts = { k: 4, dim: 3, step: 'constant' as const, init: 'random' as const, sample: all.subarray(0, 12), chunkRows: 777 };
  const streamed = new KmeansModel(opts);
  const inMemory = new KmeansModel(opts);
  const w = all.slice(0, 12);
  const g1 = new Float32Array(12);
  const g2 = new Float32Array(12);
  const ds = new KmeansDataSource(source, { seed: 1 });
  const l1 = streamed.gradient(w, ds.all(), g1);
  const l2 = inMemory.gradient(w, memory(all, 5000), g2);
  // Sums and counts accumulate in row order either way: the gradient is bit-identical. The loss is
  // summed per chunk when streamed, so only its last bits may differ.
  t.deepEqual(g1, g2);
  t.true(Math.abs(l1 - l2) < 1e-12 * l2);
  t.true(Math.abs(streamed.loss(w, ds.all()) - inMemory.loss(w, memory(all, 5000))) < 1e-12);
});

test('batches: iid sources read in order; others visit every row once per epoch, shuffled, reproducibly', (t) => {
  const data = new SyntheticData({ seed: 6, points: 1000, dim: 2, kTrue: 2 });
  const iid = new KmeansDataSource(new SyntheticSource(data), { seed: 3 });
  const expected = new Float32Array(300 * 2);
  data.fill(0, 300, expected);
  t.deepEqual(iid.next(300).x.subarray(0, 600), expected);

  const n = 1000;
  const source = new KmeansDataSource(new CountingSource(n), { seed: 3, blockRows: 64 });
  const seen = new Int32Array(n);
  const order: number[] = [];
  for (let i = 0; i < 10; i++) {
    const batch = source.next(100);
    for (let r = 0; r < 100; r++) {
      seen[batch.x[r * 2]!]!++;
      order.push(batch.x[r * 2]!);
      t.is(batch.x[r * 2 + 1], -batch.x[r * 2]!);
    }
  }
  t.true(seen.every((c) => c === 1), 'each row exactly once in the first epoch');
  t.notDeepEqual(order.slice(0, 50), Array.from({ length: 50 }, (_, i) => i), 'shuffled');
  t.is(source.samples, 1000);
  // A batch across the epoch boundary, a saved cursor, and the stream after it.
  source.next(37);
  const cursor = source.saveCursor();
  const after = Array.from(source.next(250).x.subarray(0, 500));
  const other = new KmeansDataSource(new CountingSource(n), { seed: 3, blockRows: 64 });
  other.restoreCursor(cursor);
  t.deepEqual(Array.from(other.next(250).x.subarray(0, 500)), after);
  // Another seed, another order; the same seed, the same order.
  const again = new KmeansDataSource(new CountingSource(n), { seed: 3, blockRows: 64 });
  t.deepEqual(Array.from(again.next(100).x.subarray(0, 200)), order.slice(0, 100).flatMap((v) => [v, -v]));
  const reseeded = new KmeansDataSource(new CountingSource(n), { seed: 4, blockRows: 64 });
  t.notDeepEqual(Array.from(reseeded.next(100).x.subarray(0, 200)), order.slice(0, 100).flatMap((v) => [v, -v]));
});

test('model options are checked', (t) => {
  t.throws(() => new KmeansModel({ k: 5, dim: 1, step: 'constant', init: 'random', sample: f32(1, 2, 3) }), { instanceOf: UsageError, message: /--k 5 is larger than the 3 points/ });
  t.throws(() => new KmeansModel({ k: 0, dim: 1, step: 'constant', init: 'random', sample: f32(1) }), { instanceOf: UsageError });
  t.throws(() => new KmeansModel({ k: 1, dim: 1, step: 'sideways' as 'constant', init: 'random', sample: f32(1) }), { instanceOf: UsageError, message: /--step/ });
});

test('samples from a partition: distinct rows in order, dense or sparse, the same for the same seed', (t) => {
  for (const [n, m] of [[100000, 300], [1000, 900], [50, 80]] as const) {
    const source = new CountingSource(n);
    const out = new Float32Array(Math.min(n, m) * 2);
    drawFromPartition(source, m, 9, 2, 0, out, 0);
    const rows = Array.from({ length: Math.min(n, m) }, (_, i) => out[2 * i]!);
    for (let i = 0; i < rows.length; i++) {
      t.is(out[2 * i + 1], -rows[i]!);
      if (i > 0) t.true(rows[i]! > rows[i - 1]!);
    }
    t.deepEqual(rows, Array.from(sampleIndices(n, m, new Rng(9, 2, 0))));
  }
});
