import test from 'ava';
import { formatBytes, formatCount, parseSize, sizeToPoints } from '../kmeans/size.js';
import { UsageError } from '../kmeans/errors.js';

test('sizes as points and as bytes', (t) => {
  t.deepEqual(parseSize('10M'), { kind: 'points', points: 10_000_000 });
  t.deepEqual(parseSize('2.5k'), { kind: 'points', points: 2500 });
  t.deepEqual(parseSize('1000000'), { kind: 'points', points: 1e6 });
  t.deepEqual(parseSize('1e6'), { kind: 'points', points: 1e6 });
  t.deepEqual(parseSize('1TB'), { kind: 'bytes', bytes: 1e12 });
  t.deepEqual(parseSize(' 500 gb '), { kind: 'bytes', bytes: 5e11 });
  t.deepEqual(parseSize('64GiB'), { kind: 'bytes', bytes: 64 * 2 ** 30 });
  t.deepEqual(parseSize('400B'), { kind: 'bytes', bytes: 400 });
  // 1 TB at d = 10: 1e12 / 40 points, the sources' "~2.5e10 samples".
  t.is(sizeToPoints(parseSize('1TB'), 10), 25_000_000_000);
  t.is(sizeToPoints(parseSize('100B'), 10), 2);
  t.is(sizeToPoints(parseSize('7K'), 10), 7000);
});

test('bad sizes name the flag and the accepted forms', (t) => {
  for (const bad of ['', 'abc', '-5M', '10X', '1.5', '0', '10 M B', '1e20']) {
    t.throws(() => parseSize(bad, '--size'), { instanceOf: UsageError, message: /--size/ }, bad);
  }
  t.throws(() => sizeToPoints(parseSize('39B'), 10), { instanceOf: UsageError, message: /hold no point/ });
});

test('formatting for people', (t) => {
  t.is(formatCount(25_000_000_000), '25.0G');
  t.is(formatCount(950), '950');
  t.is(formatBytes(1e12), '1.00 TB');
  t.is(formatBytes(512), '512 B');
});
