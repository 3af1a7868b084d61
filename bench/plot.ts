/**
 * SVG charts for the benchmark suites: line plots with several series, optional min/max bands (the
 * spread over seeds), linear or log axes; and grouped bar charts. Self-contained text with no
 * dependencies, so a report renders anywhere (GitHub, a browser, an editor preview).
 */

export class PlotError extends Error {
  override name = 'PlotError';
}

export interface PlotSeries {
  label: string;
  x: readonly number[];
  y: readonly number[];
  /** lower and upper edge of a band around y (same length as x), e.g. min and max over seeds */
  lo?: readonly number[];
  hi?: readonly number[];
  /** drawn dashed (reference lines such as "ideal") */
  dashed?: boolean;
  /** draw a marker at each point (default: when the series has at most 12 points) */
  markers?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  /** a small line of text under the title (the machine, the seeds...) */
  subtitle?: string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const PAD = { left: 72, right: 180, top: 52, bottom: 48 };

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Short tick text: 3 significant digits, exponent form for very large or small magnitudes. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

/** "Nice" linear ticks covering [lo, hi]. */
export function linearTicks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * span; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Decades covering [lo, hi] (lo > 0), with 2 and 5 in between when there are few decades. */
export function logTicks(lo: number, hi: number): number[] {
  const first = Math.floor(Math.log10(lo));
  const last = Math.ceil(Math.log10(hi));
  const mids = last - first <= 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = first; e <= last; e++) {
    for (const m of mids) {
      const v = Number((m * Math.pow(10, e)).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  return out.length >= 2 ? out : [lo, hi];
}

interface Axis {
  lo: number;
  hi: number;
  log: boolean;
}

function axisFor(values: number[], log: boolean, zeroBased: boolean): Axis {
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (usable.length === 0) return log ? { lo: 1, hi: 10, log } : { lo: 0, hi: 1, log };
  let lo = Math.min(...usable);
  let hi = Math.max(...usable);
  if (log) {
    if (lo === hi) {
      lo /= 2;
      hi *= 2;
    }
    return { lo: Math.pow(10, Math.floor(Math.log10(lo) * 4) / 4), hi: Math.pow(10, Math.ceil(Math.log10(hi) * 4) / 4), log };
  }
  if (zeroBased && lo > 0) lo = 0;
  if (lo === hi) {
    lo -= Math.abs(lo) * 0.1 || 1;
    hi += Math.abs(hi) * 0.1 || 1;
  }
  const pad = (hi - lo) * 0.04;
  return { lo: lo === 0 ? 0 : lo - pad, hi: hi + pad, log };
}

function scale(axis: Axis, from: number, to: number): (v: number) => number {
  if (axis.log) {
    const a = Math.log10(axis.lo);
    const b = Math.log10(axis.hi);
    return (v) => from + ((Math.log10(v) - a) / (b - a)) * (to - from);
  }
  return (v) => from + ((v - axis.lo) / (axis.hi - axis.lo)) * (to - from);
}

function checkSeries(series: readonly PlotSeries[]): void {
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new PlotError(`series '${s.label}': ${s.x.length} x values but ${s.y.length} y values`);
    for (const band of [s.lo, s.hi]) {
      if (band && band.length !== s.x.length) throw new PlotError(`series '${s.label}': band has ${band.length} values for ${s.x.length} points`);
    }
  }
}

function frame(options: PlotOptions, width: number, height: number): string[] {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${(PAD.left + width - PAD.right) / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  if (options.subtitle) parts.push(`<text x="${(PAD.left + width - PAD.right) / 2}" y="36" text-anchor="middle" font-size="10" fill="#555">${escapeXml(options.subtitle)}</text>`);
  return parts;
}

function legend(entries: { label: string; colour: string; dashed?: boolean }[], x: number, y: number): string[] {
  return entries.map((e, i) => {
    const ly = y + i * 18;
    return `<line x1="${x}" y1="${ly}" x2="${x + 22}" y2="${ly}" stroke="${e.colour}" stroke-width="2.5"${e.dashed ? ' stroke-dasharray="5 3"' : ''}/>` +
      `<text x="${x + 28}" y="${ly + 4}">${escapeXml(e.label.length > 24 ? `${e.label.slice(0, 23)}…` : e.label)}</text>`;
  });
}

/**
 * A line plot. Points that cannot be drawn (non-finite, or ≤ 0 on a log axis) break the line there.
 * Throws PlotError when a series' arrays disagree in length.
 */
export function linePlot(series: readonly PlotSeries[], options: PlotOptions): string {
  checkSeries(series);
  const width = options.width ?? 760;
  const height = options.height ?? 420;
  const xs = series.flatMap((s) => [...s.x]);
  const ys = series.flatMap((s) => [...s.y, ...(s.lo ?? []), ...(s.hi ?? [])]);
  const xAxis = axisFor(xs, options.logX ?? false, false);
  const yAxis = axisFor(ys, options.logY ?? false, true);
  const plotRight = width - PAD.right;
  const plotBottom = height - PAD.bottom;
  const X = scale(xAxis, PAD.left, plotRight);
  const Y = scale(yAxis, plotBottom, PAD.top);
  const drawable = (x: number, y: number): boolean =>
    Number.isFinite(x) && Number.isFinite(y) && (!xAxis.log || x > 0) && (!yAxis.log || y > 0);
  const parts = frame(options, width, height);
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotRight - PAD.left}" height="${plotBottom - PAD.top}" fill="none" stroke="#888"/>`);
  const xTicks = xAxis.log ? logTicks(xAxis.lo, xAxis.hi) : linearTicks(xAxis.lo, xAxis.hi, 7);
  const yTicks = yAxis.log ? logTicks(yAxis.lo, yAxis.hi) : linearTicks(yAxis.lo, yAxis.hi, 6);
  for (const t of xTicks) {
    const x = X(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${PAD.top}" x2="${x}" y2="${plotBottom}" stroke="#eee"/><text x="${x}" y="${plotBottom + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  for (const t of yTicks) {
    const y = Y(t).toFixed(1);
    parts.push(`<line x1="${PAD.left}" y1="${y}" x2="${plotRight}" y2="${y}" stroke="#eee"/><text x="${PAD.left - 6}" y="${(Number(y) + 4).toFixed(1)}" text-anchor="end">${formatTick(t)}</text>`);
  }
  parts.push(`<text x="${(PAD.left + plotRight) / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}${xAxis.log ? ' (log)' : ''}</text>`);
  parts.push(`<text transform="translate(16,${(PAD.top + plotBottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}${yAxis.log ? ' (log)' : ''}</text>`);
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    if (s.lo && s.hi) {
      const idx = s.x.map((_, j) => j).filter((j) => drawable(s.x[j]!, s.lo![j]!) && drawable(s.x[j]!, s.hi![j]!));
      if (idx.length > 1) {
        const upper = idx.map((j) => `${X(s.x[j]!).toFixed(1)},${Y(s.hi![j]!).toFixed(1)}`);
        const lower = idx.reverse().map((j) => `${X(s.x[j]!).toFixed(1)},${Y(s.lo![j]!).toFixed(1)}`);
        parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${colour}" fill-opacity="0.15" stroke="none"/>`);
      }
    }
    let d = '';
    let pen = false;
    for (let j = 0; j < s.x.length; j++) {
      if (!drawable(s.x[j]!, s.y[j]!)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${X(s.x[j]!).toFixed(1)},${Y(s.y[j]!).toFixed(1)} `;
      pen = true;
    }
    if (d !== '') parts.push(`<path d="${d.trim()}" fill="none" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    if (s.markers ?? s.x.length <= 12) {
      for (let j = 0; j < s.x.length; j++) {
        if (drawable(s.x[j]!, s.y[j]!)) parts.push(`<circle cx="${X(s.x[j]!).toFixed(1)}" cy="${Y(s.y[j]!).toFixed(1)}" r="3" fill="${colour}"/>`);
      }
    }
  });
  if (series.every((s) => s.x.every((x, j) => !drawable(x, s.y[j]!)))) {
    parts.push(`<text x="${(PAD.left + plotRight) / 2}" y="${(PAD.top + plotBottom) / 2}" text-anchor="middle" fill="#999">no data</text>`);
  }
  parts.push(...legend(series.map((s, i) => ({ label: s.label, colour: PALETTE[i % PALETTE.length]!, dashed: s.dashed })), plotRight + 14, PAD.top + 8));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export interface BarGroup {
  /** the category on the x axis */
  label: string;
  /** one bar per series (NaN or missing: no bar) */
  values: Record<string, number>;
}

/** Grouped bars: one group per category, one coloured bar per series; optional log value axis. */
export function barChart(groups: readonly BarGroup[], options: Omit<PlotOptions, 'logX'>): string {
  const width = options.width ?? 760;
  const height = options.height ?? 420;
  const names = [...new Set(groups.flatMap((g) => Object.keys(g.values)))];
  const values = groups.flatMap((g) => Object.values(g.values));
  const axis = axisFor(options.logY ? values : [0, ...values], options.logY ?? false, true);
  const plotRight = width - PAD.right;
  // room for the category labels, slanted so that long ones do not overlap
  const plotBottom = height - PAD.bottom - 60;
  const Y = scale(axis, plotBottom, PAD.top);
  const parts = frame(options, width, height);
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotRight - PAD.left}" height="${plotBottom - PAD.top}" fill="none" stroke="#888"/>`);
  for (const t of axis.log ? logTicks(axis.lo, axis.hi) : linearTicks(axis.lo, axis.hi, 6)) {
    const y = Y(t).toFixed(1);
    parts.push(`<line x1="${PAD.left}" y1="${y}" x2="${plotRight}" y2="${y}" stroke="#eee"/><text x="${PAD.left - 6}" y="${(Number(y) + 4).toFixed(1)}" text-anchor="end">${formatTick(t)}</text>`);
  }
  const groupWidth = (plotRight - PAD.left) / Math.max(1, groups.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, names.length);
  const base = axis.log ? axis.lo : 0;
  groups.forEach((g, gi) => {
    const left = PAD.left + gi * groupWidth + groupWidth * 0.1;
    names.forEach((name, si) => {
      const v = g.values[name];
      if (v === undefined || !Number.isFinite(v) || (axis.log && v <= 0)) return;
      const top = Y(v);
      const bottom = Y(base);
      parts.push(`<rect x="${(left + si * barWidth).toFixed(1)}" y="${Math.min(top, bottom).toFixed(1)}" width="${(barWidth * 0.92).toFixed(1)}" height="${Math.abs(bottom - top).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${escapeXml(`${g.label}, ${name}: ${formatTick(v)}`)}</title></rect>`);
    });
    const cx = PAD.left + (gi + 0.5) * groupWidth;
    const label = g.label.length > 28 ? `${g.label.slice(0, 27)}…` : g.label;
    parts.push(`<text transform="translate(${cx.toFixed(1)},${plotBottom + 12}) rotate(-25)" text-anchor="end" font-size="10">${escapeXml(label)}</text>`);
  });
  parts.push(`<text transform="translate(16,${(PAD.top + plotBottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}${axis.log ? ' (log)' : ''}</text>`);
  parts.push(`<text x="${(PAD.left + plotRight) / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(...legend(names.map((n, i) => ({ label: n, colour: PALETTE[i % PALETTE.length]! })), plotRight + 14, PAD.top + 8));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
