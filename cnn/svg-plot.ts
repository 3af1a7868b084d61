/**
 * An SVG chart of a training run: the training loss (left axis) and the test accuracy (right axis,
 * 0–1) against the iteration. Self-contained text, no dependencies.
 */
export interface RunCurves {
  title: string;
  loss: [number, number][];
  accuracy: [number, number][];
  testLoss?: [number, number][];
}

const W = 720;
const H = 400;
const PAD = { left: 60, right: 60, top: 40, bottom: 45 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function ticks(lo: number, hi: number, n: number): number[] {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= n) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function renderRunSvg(c: RunCurves): string {
  const all = [...c.loss, ...c.accuracy, ...(c.testLoss ?? [])];
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  const lossValues = [...c.loss, ...(c.testLoss ?? [])].map((p) => p[1]).filter(Number.isFinite);
  const yMax = Math.max(1e-6, ...lossValues) * 1.05;
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const x = (v: number): number => PAD.left + (v / xMax) * pw;
  const yl = (v: number): number => PAD.top + ph - (v / yMax) * ph;
  const ya = (v: number): number => PAD.top + ph - v * ph;
  const path = (pts: [number, number][], y: (v: number) => number): string =>
    pts.filter((p) => Number.isFinite(p[1])).map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(c.title)}</text>`);
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  for (const t of ticks(0, xMax, 8)) {
    parts.push(`<line x1="${x(t)}" y1="${PAD.top + ph}" x2="${x(t)}" y2="${PAD.top + ph + 4}" stroke="#888"/><text x="${x(t)}" y="${PAD.top + ph + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of ticks(0, yMax, 6)) {
    parts.push(`<line x1="${PAD.left - 4}" y1="${yl(t)}" x2="${PAD.left}" y2="${yl(t)}" stroke="#888"/><text x="${PAD.left - 6}" y="${yl(t) + 4}" text-anchor="end" fill="#1f77b4">${t}</text>`);
  }
  for (let t = 0; t <= 1.0001; t += 0.2) {
    parts.push(`<line x1="${PAD.left + pw}" y1="${ya(t)}" x2="${PAD.left + pw + 4}" y2="${ya(t)}" stroke="#888"/><text x="${PAD.left + pw + 6}" y="${ya(t) + 4}" fill="#d62728">${t.toFixed(1)}</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle">iteration</text>`);
  parts.push(`<text transform="translate(16,${PAD.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#1f77b4">loss</text>`);
  parts.push(`<text transform="translate(${W - 14},${PAD.top + ph / 2}) rotate(90)" text-anchor="middle" fill="#d62728">test accuracy</text>`);
  if (c.loss.length > 0) parts.push(`<path d="${path(c.loss, yl)}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
  if (c.testLoss && c.testLoss.length > 0) parts.push(`<path d="${path(c.testLoss, yl)}" fill="none" stroke="#1f77b4" stroke-dasharray="4 3" stroke-width="1.5"/>`);
  if (c.accuracy.length > 0) {
    parts.push(`<path d="${path(c.accuracy, ya)}" fill="none" stroke="#d62728" stroke-width="1.5"/>`);
    for (const p of c.accuracy) parts.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${ya(p[1]).toFixed(1)}" r="2.5" fill="#d62728"/>`);
  }
  const last = c.accuracy[c.accuracy.length - 1];
  const legend = [`training loss`, ...(c.testLoss?.length ? ['test loss (dashed)'] : []), `test accuracy${last ? ` (last ${last[1].toFixed(4)})` : ''}`];
  legend.forEach((l, i) => parts.push(`<text x="${PAD.left + 8}" y="${PAD.top + 16 + 14 * i}" fill="${i === legend.length - 1 ? '#d62728' : '#1f77b4'}">${esc(l)}</text>`));
  parts.push('</svg>');
  return parts.join('\n');
}
