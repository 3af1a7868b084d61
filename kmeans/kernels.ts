/**
 * The hot kernels of K-Means: assign a block of points to the nearest of k centres, and accumulate
 * what the update needs (per-centre sums and counts). Written for V8: typed arrays only, no allocation
 * and no closures per point.
 *
 * Distances: ‖x − c‖² = ‖x‖² − 2·x·c + ‖c‖², and only x·c depends on both, so the nearest centre is
 * the argmin of ‖c‖² − 2·x·c with ‖c‖² computed once per centre set (centreNorms). The loop is
 * register-blocked two points × four centres: per coordinate, 6 loads feed 8 multiply-adds (instead
 * of 2 loads per multiply-add), measured 1.2x faster than four centres × one point here and 1.5x
 * faster than no blocking. Every dot product still sums its terms in coordinate order, so a point's
 * label and distance do not depend on the blocking or on its neighbour. Ties go to the lowest centre
 * index (strict <, centres in order), so the result is deterministic on every rank. All arithmetic is
 * in doubles (a float32 product is exact in a double).
 */

/** ‖c‖² for each of k centres of dimension d into norms[0..k). */
export function centreNorms(centres: Float32Array, k: number, d: number, norms: Float64Array): void {
  for (let c = 0; c < k; c++) {
    let s = 0;
    const base = c * d;
    for (let j = 0; j < d; j++) {
      const v = centres[base + j]!;
      s += v * v;
    }
    norms[c] = s;
  }
}

/**
 * Nearest centre of one point, the point starting at points[p]: returns the centre index and leaves
 * ‖c‖² − 2·x·c of the winner in `scratch[0]`. The body of every kernel below.
 */
function nearest(points: Float32Array, p: number, d: number, centres: Float32Array, k: number, norms: Float64Array, scratch: Float64Array): number {
  let best = Infinity;
  let bestC = 0;
  let c = 0;
  for (; c + 4 <= k; c += 4) {
    const b0 = c * d;
    const b1 = b0 + d;
    const b2 = b1 + d;
    const b3 = b2 + d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < d; j++) {
      const x = points[p + j]!;
      s0 += x * centres[b0 + j]!;
      s1 += x * centres[b1 + j]!;
      s2 += x * centres[b2 + j]!;
      s3 += x * centres[b3 + j]!;
    }
    const d0 = norms[c]! - 2 * s0;
    const d1 = norms[c + 1]! - 2 * s1;
    const d2 = norms[c + 2]! - 2 * s2;
    const d3 = norms[c + 3]! - 2 * s3;
    if (d0 < best) { best = d0; bestC = c; }
    if (d1 < best) { best = d1; bestC = c + 1; }
    if (d2 < best) { best = d2; bestC = c + 2; }
    if (d3 < best) { best = d3; bestC = c + 3; }
  }
  for (; c < k; c++) {
    const b0 = c * d;
    let s0 = 0;
    for (let j = 0; j < d; j++) s0 += points[p + j]! * centres[b0 + j]!;
    const d0 = norms[c]! - 2 * s0;
    if (d0 < best) { best = d0; bestC = c; }
  }
  scratch[0] = best;
  return bestC;
}

/**
 * Nearest centres of two points at once (starting at points[p] and points[q]): the labels go to
 * pair[2], pair[3] and the winners' ‖c‖² − 2·x·c to pair[0], pair[1].
 */
function nearest2(points: Float32Array, p: number, q: number, d: number, centres: Float32Array, k: number, norms: Float64Array, pair: Float64Array): void {
  let best0 = Infinity;
  let best1 = Infinity;
  let label0 = 0;
  let label1 = 0;
  let c = 0;
  for (; c + 4 <= k; c += 4) {
    const b0 = c * d;
    const b1 = b0 + d;
    const b2 = b1 + d;
    const b3 = b2 + d;
    let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
    let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
    for (let j = 0; j < d; j++) {
      const x0 = points[p + j]!;
      const x1 = points[q + j]!;
      const c0 = centres[b0 + j]!;
      const c1 = centres[b1 + j]!;
      const c2 = centres[b2 + j]!;
      const c3 = centres[b3 + j]!;
      s00 += x0 * c0; s01 += x0 * c1; s02 += x0 * c2; s03 += x0 * c3;
      s10 += x1 * c0; s11 += x1 * c1; s12 += x1 * c2; s13 += x1 * c3;
    }
    const n0 = norms[c]!;
    const n1 = norms[c + 1]!;
    const n2 = norms[c + 2]!;
    const n3 = norms[c + 3]!;
    let v = n0 - 2 * s00;
    if (v < best0) { best0 = v; label0 = c; }
    v = n1 - 2 * s01;
    if (v < best0) { best0 = v; label0 = c + 1; }
    v = n2 - 2 * s02;
    if (v < best0) { best0 = v; label0 = c + 2; }
    v = n3 - 2 * s03;
    if (v < best0) { best0 = v; label0 = c + 3; }
    v = n0 - 2 * s10;
    if (v < best1) { best1 = v; label1 = c; }
    v = n1 - 2 * s11;
    if (v < best1) { best1 = v; label1 = c + 1; }
    v = n2 - 2 * s12;
    if (v < best1) { best1 = v; label1 = c + 2; }
    v = n3 - 2 * s13;
    if (v < best1) { best1 = v; label1 = c + 3; }
  }
  for (; c < k; c++) {
    const b0 = c * d;
    let s0 = 0;
    let s1 = 0;
    for (let j = 0; j < d; j++) {
      const cj = centres[b0 + j]!;
      s0 += points[p + j]! * cj;
      s1 += points[q + j]! * cj;
    }
    const v0 = norms[c]! - 2 * s0;
    if (v0 < best0) { best0 = v0; label0 = c; }
    const v1 = norms[c]! - 2 * s1;
    if (v1 < best1) { best1 = v1; label1 = c; }
  }
  pair[0] = best0;
  pair[1] = best1;
  pair[2] = label0;
  pair[3] = label1;
}

function squaredNorm(points: Float32Array, p: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const v = points[p + j]!;
    s += v * v;
  }
  return s;
}

/** one per module: `nearest` and `nearest2` return their results here (no allocation per call) */
const best = new Float64Array(1);
const pair = new Float64Array(4);

/**
 * Assign points [0, n) (row-major from float `offset`) to their nearest centres: labels[i] gets the
 * centre, dist2[i] (when given) the squared distance. Returns the sum of squared distances.
 * `norms` must be centreNorms of `centres`.
 */
export function assign(
  points: Float32Array, offset: number, n: number, d: number,
  centres: Float32Array, k: number, norms: Float64Array,
  labels: Int32Array | null, dist2: Float64Array | null,
): number {
  let total = 0;
  let i = 0;
  let p = offset;
  for (; i + 2 <= n; i += 2, p += 2 * d) {
    nearest2(points, p, p + d, d, centres, k, norms, pair);
    // Rounding can make a distance to a point's own copy slightly negative: clamp at 0.
    const dist0 = Math.max(0, pair[0]! + squaredNorm(points, p, d));
    const dist1 = Math.max(0, pair[1]! + squaredNorm(points, p + d, d));
    if (labels !== null) {
      labels[i] = pair[2]!;
      labels[i + 1] = pair[3]!;
    }
    if (dist2 !== null) {
      dist2[i] = dist0;
      dist2[i + 1] = dist1;
    }
    total += dist0;
    total += dist1;
  }
  if (i < n) {
    const c = nearest(points, p, d, centres, k, norms, best);
    const dist = Math.max(0, best[0]! + squaredNorm(points, p, d));
    if (labels !== null) labels[i] = c;
    if (dist2 !== null) dist2[i] = dist;
    total += dist;
  }
  return total;
}

/**
 * Assign points [0, n) and add each to its centre's running sum and count (Float64 accumulators,
 * k·d and k long): the map step of Lloyd and of every mini-batch gradient. Returns the sum of
 * squared distances at the given centres.
 */
export function assignAccumulate(
  points: Float32Array, offset: number, n: number, d: number,
  centres: Float32Array, k: number, norms: Float64Array,
  sums: Float64Array, counts: Float64Array,
): number {
  let total = 0;
  let i = 0;
  let p = offset;
  // Points are added to the sums in their order (the first of a pair before the second), exactly as
  // one at a time: the sums do not depend on the pairing.
  for (; i + 2 <= n; i += 2, p += 2 * d) {
    nearest2(points, p, p + d, d, centres, k, norms, pair);
    total += Math.max(0, pair[0]! + squaredNorm(points, p, d));
    total += Math.max(0, pair[1]! + squaredNorm(points, p + d, d));
    const c0 = pair[2]!;
    const c1 = pair[3]!;
    counts[c0]!++;
    const s0 = c0 * d;
    for (let j = 0; j < d; j++) sums[s0 + j]! += points[p + j]!;
    counts[c1]!++;
    const s1 = c1 * d;
    for (let j = 0; j < d; j++) sums[s1 + j]! += points[p + d + j]!;
  }
  if (i < n) {
    const c = nearest(points, p, d, centres, k, norms, best);
    total += Math.max(0, best[0]! + squaredNorm(points, p, d));
    counts[c]!++;
    const s = c * d;
    for (let j = 0; j < d; j++) sums[s + j]! += points[p + j]!;
  }
  return total;
}

/**
 * The mini-batch gradient of the mean loss ½·min_c‖x − c‖² over a batch of b points, from the sums
 * and counts of assignAccumulate: Δ_c = (1/b)·Σ_{x→c}(w_c − x) = (N_c·w_c − S_c)/b.
 */
export function batchGradient(
  centres: Float32Array, k: number, d: number, sums: Float64Array, counts: Float64Array, b: number, gradOut: Float32Array,
): void {
  const inv = 1 / b;
  for (let c = 0; c < k; c++) {
    const n = counts[c]!;
    const base = c * d;
    for (let j = 0; j < d; j++) gradOut[base + j] = (n * centres[base + j]! - sums[base + j]!) * inv;
  }
}

/** Mean squared distance of n points to their nearest centre (the inertia per point). */
export function inertiaPerPoint(points: Float32Array, n: number, d: number, centres: Float32Array, k: number, norms?: Float64Array): number {
  const nrm = norms ?? new Float64Array(k);
  if (norms === undefined) centreNorms(centres, k, d, nrm);
  return n === 0 ? 0 : assign(points, 0, n, d, centres, k, nrm, null, null) / n;
}
