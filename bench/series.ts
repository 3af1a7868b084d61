/** Helpers that turn several runs (seeds) into one curve with a spread, and figures into table cells. */

/**
 * The value of a step trace at each grid point: the last sample at or before it (NaN before the
 * first; past the last one too unless `holdLast`, so that a run that ended early does not draw a flat
 * line into a region it never reached).
 */
export function resample(x: readonly number[], y: readonly number[], grid: readonly number[], holdLast = true): number[] {
  const out: number[] = [];
  let j = -1;
  const last = x.length > 0 ? x[x.length - 1]! : -Infinity;
  for (const g of grid) {
    while (j + 1 < x.length && x[j + 1]! <= g) j++;
    out.push(j < 0 || (!holdLast && g > last) ? NaN : y[j]!);
  }
  return out;
}

/** `n` points from lo to hi, evenly spaced (or log-spaced when `log` and lo > 0). */
export function grid(lo: number, hi: number, n: number, log = false): number[] {
  if (n < 2 || hi <= lo) return [hi];
  if (log && lo > 0) return Array.from({ length: n }, (_, i) => lo * Math.pow(hi / lo, i / (n - 1)));
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

export interface Band {
  mean: number[];
  median: number[];
  min: number[];
  max: number[];
}

/** Point-wise mean, median, min and max of runs on a common grid; NaN where no run has a value. */
export function band(runs: readonly (readonly number[])[]): Band {
  const n = Math.max(0, ...runs.map((r) => r.length));
  const out: Band = { mean: [], median: [], min: [], max: [] };
  for (let i = 0; i < n; i++) {
    const vs = runs.map((r) => r[i]!).filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    if (vs.length === 0) {
      out.mean.push(NaN);
      out.median.push(NaN);
      out.min.push(NaN);
      out.max.push(NaN);
      continue;
    }
    out.mean.push(vs.reduce((s, v) => s + v, 0) / vs.length);
    out.median.push(vs.length % 2 ? vs[vs.length >> 1]! : (vs[vs.length / 2 - 1]! + vs[vs.length / 2]!) / 2);
    out.min.push(vs[0]!);
    out.max.push(vs[vs.length - 1]!);
  }
  return out;
}

export function mean(xs: readonly number[]): number {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((s, v) => s + v, 0) / f.length : NaN;
}

export function median(xs: readonly number[]): number {
  const f = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (f.length === 0) return NaN;
  return f.length % 2 ? f[f.length >> 1]! : (f[f.length / 2 - 1]! + f[f.length / 2]!) / 2;
}

/** A figure for a table cell: 3 significant digits, '—' for a missing one. */
export function cell(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}

/** min–max spread of values, as text */
export function spread(xs: readonly number[]): string {
  const f = xs.filter(Number.isFinite);
  if (f.length === 0) return '—';
  return `${cell(Math.min(...f))}–${cell(Math.max(...f))}`;
}
