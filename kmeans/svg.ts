/**
 * A small dependency-free SVG line plot: one polyline per series, linear x, logarithmic y when the
 * values span more than a decade (errors fall by orders of magnitude), axis ticks and a legend.
 */

export interface Series {
  label: string;
  x: readonly number[];
  y: readonly number[];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** a horizontal reference line (e.g. the noise floor), with its label */
  reference?: { y: number; label: string };
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function format(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}

export function linePlot(series: readonly Series[], options: PlotOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 440;
  const m = { left: 70, right: 20, top: 40, bottom: 50 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const xs = series.flatMap((s) => s.x.filter(Number.isFinite));
  const ys = series.flatMap((s) => s.y.filter((v) => Number.isFinite(v)));
  if (options.reference && Number.isFinite(options.reference.y)) ys.push(options.reference.y);
  const xMin = xs.length ? Math.min(0, ...xs) : 0;
  const xMax = xs.length ? Math.max(...xs, xMin + 1e-9) : 1;
  const positive = ys.filter((v) => v > 0);
  const yLo = positive.length ? Math.min(...positive) : 0;
  const yHi = ys.length ? Math.max(...ys) : 1;
  const log = positive.length === ys.length && positive.length > 0 && yHi / yLo > 10;
  const fy = (v: number): number => (log ? Math.log10(v) : v);
  const y0 = log ? Math.floor(fy(yLo)) : Math.min(0, ...ys);
  const y1 = log ? Math.ceil(fy(yHi)) : yHi > y0 ? yHi : y0 + 1;
  const px = (v: number): number => m.left + ((v - xMin) / (xMax - xMin || 1)) * pw;
  const py = (v: number): number => m.top + ph - ((fy(v) - y0) / (y1 - y0 || 1)) * ph;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  for (const t of niceTicks(xMin, xMax, 8)) {
    const x = px(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${m.top + ph}" x2="${x}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 18}" text-anchor="middle">${format(t)}</text>`);
  }
  const yTicks = log ? Array.from({ length: y1 - y0 + 1 }, (_, i) => 10 ** (y0 + i)) : niceTicks(y0, y1, 6);
  for (const t of yTicks) {
    const y = py(t).toFixed(1);
    out.push(`<line x1="${m.left - 5}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 8}" y="${Number(y) + 4}" text-anchor="end">${format(t)}</text>`);
  }
  out.push(`<text x="${m.left + pw / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}${log ? ' (log scale)' : ''}</text>`);
  if (options.reference && Number.isFinite(options.reference.y) && (!log || options.reference.y > 0)) {
    const y = py(options.reference.y).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#888" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${m.left + pw - 4}" y="${Number(y) - 4}" text-anchor="end" fill="#666">${escapeXml(options.reference.label)}</text>`);
  }
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const pts: string[] = [];
    for (let j = 0; j < Math.min(s.x.length, s.y.length); j++) {
      const x = s.x[j]!;
      const y = s.y[j]!;
      if (Number.isFinite(x) && Number.isFinite(y) && (!log || y > 0)) pts.push(`${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    }
    if (pts.length > 0) out.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    const ly = m.top + 14 + i * 16;
    out.push(`<line x1="${m.left + pw - 150}" y1="${ly - 4}" x2="${m.left + pw - 130}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"/>`);
    out.push(`<text x="${m.left + pw - 125}" y="${ly}">${escapeXml(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
