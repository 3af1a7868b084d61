/** The helpers that turn seeds' traces into one curve with a spread. */
import test from 'ava';
import { band, grid, resample } from '../bench/series.js';

test('resample holds the last value at or before each grid point, NaN before the first and (optionally) past the last', (t) => {
  const x = [0, 1, 2];
  const y = [10, 5, 1];
  t.deepEqual(resample(x, y, [-1, 0, 0.5, 1, 1.9, 2, 3]), [NaN, 10, 10, 5, 5, 1, 1]);
  t.deepEqual(resample(x, y, [2, 3], false), [1, NaN]);
});

test('band gives the point-wise mean, median, min and max over runs, ignoring missing values', (t) => {
  const b = band([[1, 4, NaN], [3, 2, NaN], [2, 9, 5]]);
  t.deepEqual(b.mean, [2, 5, 5]);
  t.deepEqual(b.median, [2, 4, 5]);
  t.deepEqual(b.min, [1, 2, 5]);
  t.deepEqual(b.max, [3, 9, 5]);
});

test('grids are even, or geometric on request', (t) => {
  t.deepEqual(grid(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
  const g = grid(1, 1000, 4, true);
  t.deepEqual(g.map((v) => Math.round(v)), [1, 10, 100, 1000]);
});
