/** The benchmark SVG plotter and the XML check the suite tests rely on. */
import test from 'ava';
import { barChart, linePlot, linearTicks, logTicks, PlotError } from '../bench/plot.js';
import { checkXml } from '../bench/xml-check.js';

const attr = (svg: string, tag: string, name: string): string[] =>
  [...svg.matchAll(new RegExp(`<${tag}\\b[^>]*\\b${name}="([^"]*)"`, 'g'))].map((m) => m[1]!);

test('a line plot with several series, a band and a log axis is well-formed SVG with one path per series', (t) => {
  const svg = linePlot([
    { label: 'asgd <fast> & "good"', x: [1, 2, 4, 8], y: [1, 1.9, 3.5, 6], lo: [1, 1.7, 3, 5], hi: [1, 2, 3.8, 7] },
    { label: 'ideal', x: [1, 2, 4, 8], y: [1, 2, 4, 8], dashed: true },
  ], { title: 'speedup & efficiency', xLabel: 'ranks', yLabel: 'speedup', logX: true, subtitle: 'a < b' });
  const check = checkXml(svg);
  t.deepEqual(check.problems, []);
  t.is(check.root, 'svg');
  t.is(attr(svg, 'path', 'd').length, 2, 'one line per series');
  t.is(attr(svg, 'polygon', 'points').length, 1, 'one band');
  t.is(attr(svg, 'path', 'stroke-dasharray').length, 1, 'the reference line is dashed');
  t.true(svg.includes('asgd &lt;fast&gt; &amp; &quot;good&quot;'), 'labels are escaped');
  t.true(svg.includes('ranks (log)'));
  // the x positions of the markers grow like log(rank): equal gaps between 1, 2, 4, 8
  const cx = attr(svg, 'circle', 'cx').slice(0, 4).map(Number);
  const gaps = cx.slice(1).map((v, i) => v - cx[i]!);
  for (const g of gaps) t.true(Math.abs(g - gaps[0]!) < 0.5, `log spacing: gaps ${gaps.join(', ')}`);
});

test('the y axis maps larger values higher up, and a log axis drops non-positive points instead of failing', (t) => {
  const svg = linePlot([{ label: 'e', x: [0, 1, 2, 3], y: [1, 0.1, 0, 0.001] }], { title: 't', xLabel: 'x', yLabel: 'y', logY: true });
  t.deepEqual(checkXml(svg).problems, []);
  const d = attr(svg, 'path', 'd')[0]!;
  // the zero breaks the line: two pen-down moves
  t.is((d.match(/M/g) ?? []).length, 2, d);
  const ys = [...d.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
  t.true(ys[0]! < ys[1]! && ys[1]! < ys[2]!, `1 > 0.1 > 0.001 drawn top to bottom: ${ys.join(', ')}`);
});

test('an empty plot says "no data"; mismatched arrays are a PlotError', (t) => {
  const svg = linePlot([{ label: 'none', x: [], y: [] }], { title: 'empty', xLabel: 'x', yLabel: 'y' });
  t.deepEqual(checkXml(svg).problems, []);
  t.true(svg.includes('no data'));
  t.throws(() => linePlot([{ label: 'bad', x: [1, 2], y: [1] }], { title: 't', xLabel: 'x', yLabel: 'y' }), { instanceOf: PlotError, message: /2 x values but 1 y values/ });
  t.throws(() => linePlot([{ label: 'bad', x: [1], y: [1], lo: [1, 2], hi: [1] }], { title: 't', xLabel: 'x', yLabel: 'y' }), { instanceOf: PlotError });
});

test('bar charts draw one bar per finite value, taller for larger values', (t) => {
  const svg = barChart([{ label: 'gemm', values: { typescript: 4, native: 80 } }, { label: 'lenet', values: { typescript: 300, native: NaN } }], { title: 'paths', xLabel: 'kernel', yLabel: 'rate' });
  t.deepEqual(checkXml(svg).problems, []);
  const heights = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="#/g)].map((m) => Number(m[1]));
  t.is(heights.length, 3, 'the NaN bar is left out');
  t.true(heights[0]! < heights[1]! && heights[1]! < heights[2]!, heights.join(', '));
});

test('ticks: linear ticks are round and cover the range; log ticks are decades (with 2 and 5 on short ranges)', (t) => {
  t.deepEqual(linearTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  t.deepEqual(logTicks(1e-4, 1), [1e-4, 1e-3, 1e-2, 1e-1, 1]);
  t.deepEqual(logTicks(1, 10), [1, 2, 5, 10]);
});

test('the XML check finds what a broken SVG gets wrong (so the suite tests can fail)', (t) => {
  t.deepEqual(checkXml('<svg><g></g></svg>').problems, []);
  t.regex(checkXml('<svg><g></svg>').problems.join(), /closes <g>/);
  t.regex(checkXml('<svg><text>a & b</text></svg>').problems.join(), /raw '&'/);
  t.regex(checkXml('<svg width=3></svg>').problems.join(), /bad attribute/);
  t.regex(checkXml('<svg></svg><svg></svg>').problems.join(), /second root/);
  t.regex(checkXml('').problems.join(), /no root/);
});

test('the machine/command footer goes inside the SVG, escaped, and keeps it well-formed', async (t) => {
  const { stampSvg } = await import('../bench/results.js');
  const svg = stampSvg(linePlot([{ label: 'a', x: [1, 2], y: [1, 2] }], { title: 't', xLabel: 'x', yLabel: 'y', height: 300 }), '2 cores & more; npm run bench -- scaling --ranks 1,2 <x>');
  t.deepEqual(checkXml(svg).problems, []);
  t.regex(svg, /<text x="6" y="297"[^>]*>2 cores &amp; more; npm run bench -- scaling --ranks 1,2 &lt;x&gt;<\/text>\n<\/svg>/);
});
