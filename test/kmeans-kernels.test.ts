/**
 * Kernels, matching, initialisation and the reference algorithms: hand-checkable cases, brute force,
 * and finite differences.
 */
import test from 'ava';
import { assign, assignAccumulate, batchGradient, centreNorms, inertiaPerPoint } from '../kmeans/kernels.js';
import { centreError, hungarian } from '../kmeans/hungarian.js';
import { kmeansParallel, kmeansPlusPlus, randomInit } from '../kmeans/init.js';
import { lloyd, sculleyStep } from '../kmeans/reference.js';
import { Rng } from '../kmeans/rng.js';
import { UsageError } from '../kmeans/errors.js';
import { SyntheticData } from '../kmeans/synthetic.js';

const f32 = (...v: number[]): Float32Array => Float32Array.from(v);

function norms(centres: Float32Array, k: number, d: number): Float64Array {
  const out = new Float64Array(k);
  centreNorms(centres, k, d, out);
  return out;
}

test('assign: hand case with a three-way tie going to the lowest index', (t) => {
  const points = f32(0, 0, 10, 0, 0, 10, 5, 5);
  const centres = f32(1, 0, 9, 0, 0, 9);
  const labels = new Int32Array(4);
  const dist = new Float64Array(4);
  const total = assign(points, 0, 4, 2, centres, 3, norms(centres, 3, 2), labels, dist);
  t.deepEqual([...labels], [0, 1, 2, 0]);
  t.deepEqual([...dist], [1, 1, 1, 41]);
  t.is(total, 44);
  t.is(inertiaPerPoint(points, 4, 2, centres, 3), 11);
});

test('assign: the blocked kernel equals a naive search for every k and d, paired or not', (t) => {
  const rng = new Rng(3);
  for (const d of [1, 2, 3, 10, 17]) {
    for (const k of [1, 2, 3, 4, 5, 7, 8, 9, 13, 100]) {
      const n = 51; // odd: the last point goes through the one-point path, the others in pairs
      const points = Float32Array.from({ length: n * d }, () => rng.uniform() * 4 - 2);
      const centres = Float32Array.from({ length: k * d }, () => rng.uniform() * 4 - 2);
      const labels = new Int32Array(n);
      const dist = new Float64Array(n);
      // Offset into a bigger array, as batches in a shared buffer are.
      const shifted = new Float32Array(n * d + 3 * d);
      shifted.set(points, 3 * d);
      assign(shifted, 3 * d, n, d, centres, k, norms(centres, k, d), labels, dist);
      for (let i = 0; i < n; i++) {
        let best = Infinity;
        let bestC = -1;
        for (let c = 0; c < k; c++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += (points[i * d + j]! - centres[c * d + j]!) ** 2;
          if (s < best) {
            best = s;
            bestC = c;
          }
        }
        t.is(labels[i], bestC, `d=${d} k=${k} point ${i}`);
        t.true(Math.abs(dist[i]! - best) <= 1e-9 * (1 + best), `d=${d} k=${k} point ${i}: ${dist[i]} vs ${best}`);
      }
    }
  }
});

test('assignAccumulate: sums and counts do not depend on how the points are split into calls', (t) => {
  const rng = new Rng(21);
  const d = 10;
  const k = 13;
  const n = 301;
  const points = Float32Array.from({ length: n * d }, () => rng.uniform() * 2 - 1);
  const centres = Float32Array.from({ length: k * d }, () => rng.uniform() * 2 - 1);
  const nrm = norms(centres, k, d);
  const whole = { sums: new Float64Array(k * d), counts: new Float64Array(k) };
  assignAccumulate(points, 0, n, d, centres, k, nrm, whole.sums, whole.counts);
  for (const split of [1, 3, 64, 777]) {
    const parts = { sums: new Float64Array(k * d), counts: new Float64Array(k) };
    for (let i = 0; i < n; i += split) assignAccumulate(points, i * d, Math.min(split, n - i), d, centres, k, nrm, parts.sums, parts.counts);
    t.deepEqual(parts.sums, whole.sums, `calls of ${split}`);
    t.deepEqual(parts.counts, whole.counts, `calls of ${split}`);
  }
});

test('mini-batch gradient: hand case and finite differences of the mean loss', (t) => {
  const centres = f32(1, 1, 5, 5);
  const points = f32(0, 0, 2, 0);
  const sums = new Float64Array(4);
  const counts = new Float64Array(2);
  const total = assignAccumulate(points, 0, 2, 2, centres, 2, norms(centres, 2, 2), sums, counts);
  t.is(total, 4);
  t.deepEqual([...sums], [2, 0, 0, 0]);
  t.deepEqual([...counts], [2, 0]);
  const grad = new Float32Array(4);
  batchGradient(centres, 2, 2, sums, counts, 2, grad);
  // mean of (c − x) over both points: ((1,1) + (−1,1)) / 2 = (0, 1); centre 1 has no points.
  t.deepEqual([...grad], [0, 1, 0, 0]);

  // Finite differences: L(w) = (1/b)·Σ ½·min_c‖x − c‖², away from ties.
  const rng = new Rng(9);
  const d = 3;
  const k = 4;
  const b = 40;
  const x = Float32Array.from({ length: b * d }, () => rng.uniform() * 2 - 1);
  const w = Float64Array.from({ length: k * d }, () => rng.uniform() * 2 - 1);
  const loss = (ww: Float64Array): number => {
    const c32 = Float32Array.from(ww);
    return (0.5 * assign(x, 0, b, d, c32, k, norms(c32, k, d), null, null)) / b;
  };
  const w32 = Float32Array.from(w);
  const s = new Float64Array(k * d);
  const n = new Float64Array(k);
  assignAccumulate(x, 0, b, d, w32, k, norms(w32, k, d), s, n);
  const g = new Float32Array(k * d);
  batchGradient(w32, k, d, s, n, b, g);
  const h = 1e-3;
  for (let i = 0; i < k * d; i++) {
    const plus = Float64Array.from(Float32Array.from(w32));
    const minus = Float64Array.from(Float32Array.from(w32));
    plus[i]! += h;
    minus[i]! -= h;
    const numeric = (loss(plus) - loss(minus)) / (2 * h);
    t.true(Math.abs(numeric - g[i]!) < 1e-4, `parameter ${i}: analytic ${g[i]} numeric ${numeric}`);
  }
});

function bruteForce(cost: Float64Array, n: number, m: number): number {
  let best = Infinity;
  const used = new Uint8Array(m);
  const go = (row: number, acc: number): void => {
    if (row === n) {
      best = Math.min(best, acc);
      return;
    }
    for (let j = 0; j < m; j++) {
      if (used[j]) continue;
      used[j] = 1;
      go(row + 1, acc + cost[row * m + j]!);
      used[j] = 0;
    }
  };
  go(0, 0);
  return best;
}

test('Hungarian matching equals brute force on random square and rectangular matrices', (t) => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + (trial % 6);
    const m = n + (trial % 3);
    const integer = trial % 2 === 0; // integer costs: many ties
    const cost = Float64Array.from({ length: n * m }, () => (integer ? Math.floor(rng.uniform() * 5) : rng.uniform() * 10 - 3));
    const match = hungarian(cost, n, m);
    t.is(new Set(match).size, n, 'columns distinct');
    let total = 0;
    for (let i = 0; i < n; i++) {
      t.true(match[i]! >= 0 && match[i]! < m);
      total += cost[i * m + match[i]!]!;
    }
    t.true(Math.abs(total - bruteForce(cost, n, m)) < 1e-9, `trial ${trial}`);
  }
  t.throws(() => hungarian(new Float64Array(6), 3, 2), { instanceOf: RangeError });
});

test('centre error: a permutation of the truth is error 0; a shift by δ is error δ', (t) => {
  const truth = f32(0, 0, 1, 0, 0, 1, 1, 1);
  const permuted = f32(1, 1, 0, 0, 0, 1, 1, 0);
  const e = centreError(truth, 4, permuted, 4, 2);
  t.is(e.mean, 0);
  t.deepEqual([...e.match], [1, 3, 2, 0]);
  const shifted = Float32Array.from(permuted, (v, i) => (i % 2 === 0 ? v + 0.25 : v));
  const s = centreError(truth, 4, shifted, 4, 2);
  t.true(Math.abs(s.mean - 0.25) < 1e-7);
  t.true(Math.abs(s.median - 0.25) < 1e-7);
  // More found centres than true ones: the extra one is left out; fewer: only matched pairs count.
  const extra = centreError(truth, 4, f32(...permuted, 9, 9), 5, 2);
  t.is(extra.mean, 0);
  const fewer = centreError(truth, 4, f32(0, 0, 1, 1), 2, 2);
  t.is(fewer.mean, 0);
  t.deepEqual([...fewer.match], [0, -1, -1, 1]);
});

test('k-means++: one centre per well-separated cluster, deterministic in the seed', (t) => {
  const data = new SyntheticData({ seed: 5, points: 1e6, dim: 4, kTrue: 6, spread: 0.01 });
  const m = 3000;
  const sample = new Float32Array(m * 4);
  const labels = new Int32Array(m);
  data.fill(0, m, sample, 0, labels);
  for (let seed = 0; seed < 5; seed++) {
    const out = new Float32Array(6 * 4);
    kmeansPlusPlus(sample, m, 4, 6, new Rng(seed), out);
    const again = new Float32Array(6 * 4);
    kmeansPlusPlus(sample, m, 4, 6, new Rng(seed), again);
    t.deepEqual(out, again);
    // Every initial centre is a sample point, and the six come from six different clusters.
    const clusters = new Set<number>();
    for (let c = 0; c < 6; c++) {
      let found = -1;
      for (let i = 0; i < m && found < 0; i++) {
        let same = true;
        for (let j = 0; j < 4; j++) if (sample[i * 4 + j] !== out[c * 4 + j]) same = false;
        if (same) found = i;
      }
      t.true(found >= 0);
      clusters.add(labels[found]!);
    }
    t.is(clusters.size, 6, `seed ${seed}`);
  }
  const out = new Float32Array(3 * 2);
  randomInit(f32(1, 1, 2, 2, 3, 3), 3, 2, 3, new Rng(1), out);
  t.deepEqual([...out].sort(), [1, 1, 2, 2, 3, 3]);
  t.throws(() => kmeansPlusPlus(f32(1, 2, 3), 3, 1, 4, new Rng(1), new Float32Array(4)), { instanceOf: UsageError, message: /--k 4 is larger than the 3 points/ });
  // Duplicates only: still k centres (k-means++ falls back to uniform draws).
  const dup = new Float32Array(2);
  kmeansPlusPlus(f32(7, 7, 7), 3, 1, 2, new Rng(1), dup);
  t.deepEqual([...dup], [7, 7]);
});

test('oversampled seeding (the default) puts one centre in each of 60 well-separated clusters', (t) => {
  for (let seed = 1; seed <= 4; seed++) {
    const data = new SyntheticData({ seed, points: 1e9, dim: 10, kTrue: 60, spread: 0.05 });
    const m = 6000;
    const sample = new Float32Array(m * 10);
    data.fill(0, m, sample);
    const out = new Float32Array(60 * 10);
    kmeansParallel(sample, m, 10, 60, new Rng(seed), out);
    // Each initial centre's nearest true centre: all 60 different means one centre per cluster.
    const nearest = new Int32Array(60);
    assign(out, 0, 60, 10, data.centres, 60, norms(data.centres, 60, 10), nearest, null);
    t.is(new Set(nearest).size, 60, `seed ${seed}`);
    const again = new Float32Array(60 * 10);
    kmeansParallel(sample, m, 10, 60, new Rng(seed), again);
    t.deepEqual(out, again);
  }
});

test('Lloyd: hand case, monotone objective, and partitioned arithmetic', (t) => {
  const r = lloyd(f32(0, 1, 10, 11), 4, 1, 2, f32(0, 1));
  t.deepEqual([...r.centres], [0.5, 10.5]);
  t.is(r.iterations, 3);
  t.true(r.converged);
  // Iteration 1 at (0, 1): distances 0, 0, 81, 100. Iteration 2 at (0, 22/3): 0, 1, (10−c)², (11−c)².
  // Iteration 3 at (0.5, 10.5): 0.25 each, and nothing moves.
  const c = Math.fround(22 / 3);
  t.is(r.inertia.length, 3);
  t.is(r.inertia[0], 181 / 4);
  t.true(Math.abs(r.inertia[1]! - (1 + (10 - c) ** 2 + (11 - c) ** 2) / 4) < 1e-12);
  t.is(r.inertia[2], 0.25);
  const data = new SyntheticData({ seed: 2, points: 1e6, dim: 3, kTrue: 8, spread: 0.2 });
  const n = 5000;
  const x = new Float32Array(n * 3);
  data.fill(0, n, x);
  const init = x.slice(0, 8 * 3);
  const run = lloyd(x, n, 3, 8, init, { maxIterations: 50 });
  for (let i = 1; i < run.inertia.length; i++) t.true(run.inertia[i]! <= run.inertia[i - 1]! + 1e-12, `iteration ${i}`);
  const parted = lloyd(x, n, 3, 8, init, { maxIterations: 50, partitions: 3 });
  for (let i = 0; i < 24; i++) t.true(Math.abs(parted.centres[i]! - run.centres[i]!) < 1e-5);
});

test('Sculley: each centre is the running mean of the points it got', (t) => {
  const centres = f32(100, -100);
  const counts = new Float64Array(2);
  const scratch = { norms: new Float64Array(2), labels: new Int32Array(0) };
  const xs = [3, 5, 10, -60, 8];
  sculleyStep({ x: f32(...xs.slice(0, 3)), n: 3, source: null, from: 0, to: 0 }, 1, centres, 2, counts, scratch);
  sculleyStep({ x: f32(...xs.slice(3)), n: 2, source: null, from: 0, to: 0 }, 1, centres, 2, counts, scratch);
  // All five are nearer 100 than −100 at the time they are assigned, except −60 (then nearer −100 than 6).
  t.deepEqual([...counts], [4, 1]);
  t.true(Math.abs(centres[0]! - (3 + 5 + 10 + 8) / 4) < 1e-6);
  t.is(centres[1], -60);
});
