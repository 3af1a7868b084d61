/**
 * The synthetic generator: Philox against Random123's known answers, point identity under any
 * slicing, and the statistics of the mixture (means, variances, cluster proportions) against the
 * configuration, with bounds of several standard errors so that a correct generator fails by chance
 * far less than once in a million runs while a biased one fails outright.
 */
import test from 'ava';
import { philox4x32 } from '../kmeans/philox.js';
import { SyntheticData, STREAM_HELDOUT, parseImbalance, partitionRange } from '../kmeans/synthetic.js';
import { UsageError } from '../kmeans/errors.js';

test('Philox4x32-10 matches the Random123 known-answer vectors', (t) => {
  const out = new Uint32Array(4);
  const kat: [number[], number[], number[]][] = [
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
  ];
  for (const [c, k, expected] of kat) {
    philox4x32(c[0]!, c[1]!, c[2]!, c[3]!, k[0]!, k[1]!, out);
    t.deepEqual([...out], expected);
  }
});

const spec = { seed: 12345, points: 1e12, dim: 7, kTrue: 6, spread: 0.3 };

test('the same index gives the same point on any slicing, partitioning and index range', (t) => {
  const data = new SyntheticData(spec);
  const d = spec.dim;
  // Ranges around the 2^32 boundary of the counter's low word and near the top of the index space.
  for (const start of [0, 2 ** 32 - 40, 2 ** 53 - 200]) {
    const n = 97;
    const whole = new Float32Array(n * d);
    const labels = new Int32Array(n);
    data.fill(start, start + n, whole, 0, labels);
    // Random slicing into one buffer, offset by one point, as a rank filling a batch would.
    const sliced = new Float32Array((n + 1) * d);
    let at = 0;
    let seed = 7;
    while (at < n) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const len = Math.min(n - at, 1 + (seed % 13));
      data.fill(start + at, start + at + len, sliced, (at + 1) * d);
      at += len;
    }
    t.deepEqual(new Uint32Array(sliced.buffer, d * 4), new Uint32Array(whole.buffer), `slices from ${start}`);
    const one = new Float32Array(d);
    for (let i = 0; i < n; i += 8) {
      data.point(start + i, one);
      t.deepEqual(new Uint32Array(one.buffer), new Uint32Array(whole.buffer, i * d * 4, d));
      t.is(data.clusterOf(start + i), labels[i]!);
    }
  }
  // A second generator from the same spec (another rank) agrees; another seed does not.
  const again = new SyntheticData(spec);
  const a = new Float32Array(10 * d);
  const b = new Float32Array(10 * d);
  data.fill(500, 510, a);
  again.fill(500, 510, b);
  t.deepEqual(a, b);
  t.deepEqual(data.centres, again.centres);
  new SyntheticData({ ...spec, seed: 12346 }).fill(500, 510, b);
  t.notDeepEqual(a, b);
  // The held-out stream is a different sequence.
  data.fill(500, 510, b, 0, undefined, 0, STREAM_HELDOUT);
  t.notDeepEqual(a, b);
});

test('partitions cover the index range exactly, sizes differing by at most one', (t) => {
  for (const [n, parts] of [[10, 3], [7, 7], [3, 5], [2 ** 53 - 1, 1024], [1e12, 64 * 16]] as const) {
    let next = 0;
    let min = Infinity;
    let max = 0;
    for (let p = 0; p < parts; p++) {
      const [from, to] = partitionRange(n, p, parts);
      t.is(from, next);
      next = to;
      min = Math.min(min, to - from);
      max = Math.max(max, to - from);
    }
    t.is(next, n);
    t.true(max - min <= 1);
  }
});

test('true centres: uniform in the box, separated, and sample means and variances match', (t) => {
  const data = new SyntheticData(spec);
  const { dim: d, kTrue: k, spread: sigma } = spec;
  for (const v of data.centres) t.true(v >= -1 && v <= 1);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < a; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (data.centres[a * d + j]! - data.centres[b * d + j]!) ** 2;
      t.true(Math.sqrt(s) >= 4 * sigma);
    }
  }
  const n = 120000;
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  data.fill(3_000_000_000, 3_000_000_000 + n, x, 0, labels);
  const count = new Float64Array(k);
  const sum = new Float64Array(k * d);
  const sumSq = new Float64Array(k * d);
  let inside1 = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    count[c]!++;
    for (let j = 0; j < d; j++) {
      const dev = x[i * d + j]! - data.centres[c * d + j]!;
      sum[c * d + j]! += dev;
      sumSq[c * d + j]! += dev * dev;
      if (Math.abs(dev) < sigma) inside1++;
    }
  }
  for (let c = 0; c < k; c++) {
    const m = count[c]!;
    for (let j = 0; j < d; j++) {
      const mean = sum[c * d + j]! / m;
      const variance = sumSq[c * d + j]! / m - mean * mean;
      // Standard error of the mean σ/√m; of the variance σ²·√(2/m). Six of them: a chance failure
      // has probability ~1e-9 per check.
      t.true(Math.abs(mean) < 6 * sigma / Math.sqrt(m), `cluster ${c} coordinate ${j}: mean offset ${mean}`);
      t.true(Math.abs(variance - sigma * sigma) < 6 * sigma * sigma * Math.sqrt(2 / m), `cluster ${c} coordinate ${j}: variance ${variance}`);
    }
  }
  // Gaussian shape, not just moments: P(|z| < 1) = 0.682689.
  const p = inside1 / (n * d);
  t.true(Math.abs(p - 0.682689) < 6 * Math.sqrt(0.682689 * 0.317311 / (n * d)), `P(|z|<1) = ${p}`);
});

function proportionsWithinBounds(t: { true: (v: boolean, m?: string) => void }, data: SyntheticData, n: number): void {
  const counts = new Float64Array(data.kTrue);
  for (let i = 0; i < n; i++) counts[data.clusterOf(i)]!++;
  for (let c = 0; c < data.kTrue; c++) {
    const p = data.proportions[c]!;
    const bound = 6 * Math.sqrt(p * (1 - p) / n);
    t.true(Math.abs(counts[c]! / n - p) < bound, `cluster ${c}: ${counts[c]! / n} vs ${p} ± ${bound}`);
  }
}

test('cluster proportions: balanced and imbalanced mixtures within binomial bounds', (t) => {
  proportionsWithinBounds(t, new SyntheticData({ ...spec, kTrue: 10, spread: 0.05 }), 200000);
  const weights = parseImbalance('10', 10)!;
  t.is(weights.length, 10);
  t.is(weights[0], 1);
  t.true(Math.abs(weights[9]! - 0.1) < 1e-12);
  const skewed = new SyntheticData({ ...spec, kTrue: 10, spread: 0.05, weights });
  t.true(Math.abs(skewed.proportions[0]! / skewed.proportions[9]! - 10) < 1e-9);
  proportionsWithinBounds(t, skewed, 200000);
  proportionsWithinBounds(t, new SyntheticData({ ...spec, kTrue: 3, weights: parseImbalance('1,2,7', 3)! }), 100000);
  t.is(parseImbalance('1', 10), undefined);
});

test('bad generator configuration is a UsageError naming the option', (t) => {
  t.throws(() => new SyntheticData({ ...spec, dim: 0 }), { instanceOf: UsageError, message: /--dim/ });
  t.throws(() => new SyntheticData({ ...spec, kTrue: 2.5 }), { instanceOf: UsageError, message: /--k-true/ });
  t.throws(() => new SyntheticData({ ...spec, spread: -1 }), { instanceOf: UsageError, message: /--spread/ });
  t.throws(() => new SyntheticData({ ...spec, seed: -3 }), { instanceOf: UsageError, message: /seed/ });
  t.throws(() => new SyntheticData({ ...spec, kTrue: 200, dim: 1, spread: 0.05 }), { instanceOf: UsageError, message: /cannot place 200 centres/ });
  t.throws(() => parseImbalance('0.5', 4), { instanceOf: UsageError, message: /at least 1/ });
  t.throws(() => parseImbalance('1,2', 4), { instanceOf: UsageError, message: /2 weights given for 4/ });
  t.throws(() => parseImbalance('1,x,2,3', 4), { instanceOf: UsageError, message: /--imbalance/ });
  t.throws(() => new SyntheticData(spec).fill(5, 10, new Float32Array(10)), { instanceOf: RangeError });
});
