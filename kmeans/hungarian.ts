/**
 * Optimal assignment (the Hungarian method, in the O(n²·m) shortest-augmenting-path form with row and
 * column potentials): match each of n rows to a distinct one of m ≥ n columns at minimum total cost.
 * Used to pair found centres with true ones, so that the centre error does not depend on the order
 * in which the solver happened to number its centres.
 */

/**
 * `cost` is n×m row-major (n ≤ m). Returns, for each row, its column. Costs must be finite.
 */
export function hungarian(cost: Float64Array, n: number, m: number): Int32Array {
  if (n > m) throw new RangeError(`hungarian: ${n} rows cannot each get a distinct one of ${m} columns (transpose the matrix)`);
  if (cost.length < n * m) throw new RangeError(`hungarian: cost has ${cost.length} entries, need ${n * m}`);
  // 1-based as in the textbook form: p[j] is the row matched to column j (0 = none), u and v the
  // potentials, way[j] the previous column on the shortest path to j.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[(i0 - 1) * m + (j - 1)]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const match = new Int32Array(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j]! > 0) match[p[j]! - 1] = j - 1;
  return match;
}

export interface CentreError {
  /** mean Euclidean distance between matched pairs */
  mean: number;
  median: number;
  max: number;
  /** for each true centre, the found centre matched to it (-1 when there are fewer found than true) */
  match: Int32Array;
  /** distance of each true centre to its match (NaN where unmatched) */
  distances: Float64Array;
}

/**
 * Centre error after optimal matching: true and found centres (kTrue×d and kFound×d) are paired
 * one-to-one minimising the total distance; the error is over the matched pairs (min(kTrue, kFound)).
 */
export function centreError(truth: Float32Array, kTrue: number, found: Float32Array, kFound: number, d: number): CentreError {
  const rows = Math.min(kTrue, kFound);
  const cols = Math.max(kTrue, kFound);
  const truthRows = kTrue <= kFound;
  const cost = new Float64Array(rows * cols);
  for (let a = 0; a < kTrue; a++) {
    for (let b = 0; b < kFound; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = truth[a * d + j]! - found[b * d + j]!;
        s += diff * diff;
      }
      const dist = Math.sqrt(s);
      if (truthRows) cost[a * cols + b] = dist;
      else cost[b * cols + a] = dist;
    }
  }
  const assignment = hungarian(cost, rows, cols);
  const match = new Int32Array(kTrue).fill(-1);
  const distances = new Float64Array(kTrue).fill(NaN);
  for (let r = 0; r < rows; r++) {
    const c = assignment[r]!;
    const trueIndex = truthRows ? r : c;
    const foundIndex = truthRows ? c : r;
    match[trueIndex] = foundIndex;
    distances[trueIndex] = cost[r * cols + c]!;
  }
  const matched = Array.from(distances).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const mean = matched.reduce((s, x) => s + x, 0) / matched.length;
  const mid = matched.length >> 1;
  const median = matched.length % 2 ? matched[mid]! : (matched[mid - 1]! + matched[mid]!) / 2;
  return { mean, median, max: matched[matched.length - 1]!, match, distances };
}
