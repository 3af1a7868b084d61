/** Memory figures of this process from /proc (Linux): the kernel's own peak, not a sampled one. */
import { readFileSync } from 'node:fs';

function statusKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** resident set size now, MiB */
export function rssMb(): number {
  return statusKb('VmRSS') / 1024;
}

/** peak resident set size of the process so far (VmHWM), MiB */
export function peakRssMb(): number {
  return statusKb('VmHWM') / 1024;
}

/** least-squares slope of y over x */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}
