/**
 * Data-set sizes as a user types them: a point count (`10M`, `2.5G`, `1000000`) or a byte size (`1TB`,
 * `500GB`, `64GiB`). Decimal prefixes are powers of 1000 (so `1TB` = 1e12 bytes, as the sources count a
 * terabyte); the `iB` forms are powers of 1024. A byte size becomes a point count once the dimension is
 * known: one float32 point is 4·d bytes.
 */
import { UsageError } from './errors.js';

export type DataSize = { kind: 'points'; points: number } | { kind: 'bytes'; bytes: number };

const POINT_UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const BYTE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, pb: 1e15,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, pib: 2 ** 50,
};

const HELP = 'use a point count (10M, 2.5G, 1000000) or a byte size (1TB, 500GB, 64GiB)';

/** Parse `--size`. Throws UsageError naming the flag and the accepted forms. */
export function parseSize(text: string, flag = '--size'): DataSize {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) throw new UsageError(`${flag}: '${text}' is not a size: ${HELP}`);
  const value = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  if (unit in POINT_UNITS) {
    const points = value * POINT_UNITS[unit]!;
    if (!Number.isInteger(points)) throw new UsageError(`${flag}: '${text}' is not a whole number of points`);
    checkCount(points, text, flag);
    return { kind: 'points', points };
  }
  if (unit in BYTE_UNITS) {
    const bytes = Math.floor(value * BYTE_UNITS[unit]!);
    if (bytes < 1) throw new UsageError(`${flag}: '${text}' is less than one byte`);
    return { kind: 'bytes', bytes };
  }
  throw new UsageError(`${flag}: unknown unit '${m[2]}' in '${text}': ${HELP}`);
}

function checkCount(points: number, text: string, flag: string): void {
  if (points < 1) throw new UsageError(`${flag}: '${text}' must be at least one point`);
  if (points > Number.MAX_SAFE_INTEGER) {
    throw new UsageError(`${flag}: '${text}' exceeds 2^53 points, the largest index this generator addresses`);
  }
}

/** Points in a data set of this size at dimension `dim` (float32: 4·dim bytes a point). */
export function sizeToPoints(size: DataSize, dim: number, flag = '--size'): number {
  if (size.kind === 'points') return size.points;
  const points = Math.floor(size.bytes / (4 * dim));
  if (points < 1) throw new UsageError(`${flag}: ${size.bytes} bytes hold no point of dimension ${dim} (${4 * dim} bytes each)`);
  checkCount(points, `${size.bytes} bytes`, flag);
  return points;
}

/** A count for people: 12.5M, 2.50G, 980. */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e12) return `${(n / 1e12).toPrecision(3)}T`;
  if (abs >= 1e9) return `${(n / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toPrecision(3)}K`;
  return String(Math.round(n));
}

/** Bytes for people, decimal: 1.00 TB, 400 MB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toPrecision(3)} ${units[i]}`;
}
