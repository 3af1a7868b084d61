import test from 'ava';
import { parseArgs, parseDuration, resolveLr } from '../kmeans/cli-args.js';
import { UsageError } from '../kmeans/errors.js';

test('defaults: synthetic 1M points, d = 10, k = k-true = 10, asgd, one epoch', (t) => {
  const c = parseArgs([]);
  t.deepEqual(c.data, { kind: 'synthetic', seed: 1, points: 1e6, dim: 10, kTrue: 10, spread: 0.05, box: 1 });
  t.is(c.k, 10);
  t.is(c.solver, 'asgd');
  t.is(c.step, 'per-centre');
  t.is(c.lr, undefined);
  t.is(resolveLr(c, 4), 1);
  t.is(resolveLr(parseArgs(['--solver', 'hogwild', '--threads', '4']), 2), 0.25);
  t.is(resolveLr(parseArgs(['--solver', 'paramserver']), 5), 0.25);
  t.is(resolveLr(parseArgs(['--solver', 'hogwild', '--lr', '0.7']), 2), 0.7);
  t.deepEqual(c.stop, { epochs: 1 });
  t.is(c.out, undefined);
});

test('sizes, files and stop rules', (t) => {
  const c = parseArgs(['--size', '1TB', '--k', '100', '--seed=7', '--time', '5m', '--target-error', '0.01', '--step', 'constant', '--imbalance', '4']);
  t.is(c.data.kind === 'synthetic' && c.data.points, 25_000_000_000);
  t.is(c.data.kind === 'synthetic' && c.data.kTrue, 100);
  t.is(c.data.kind === 'synthetic' && c.data.seed, 7);
  t.is(c.data.kind === 'synthetic' && c.data.weights?.length, 100);
  t.deepEqual(c.stop, { seconds: 300, targetError: 0.01 });
  t.is(resolveLr(c, 2), 10); // 0.1·k for the constant rule
  t.deepEqual(parseArgs(['--raw', 'x.f32', '--dim', '3', '--k', '4']).data, { kind: 'raw', file: 'x.f32', dim: 3 });
  t.deepEqual(parseArgs(['--csv', 'x.csv', '--no-header', '--k', '4']).data, { kind: 'csv', file: 'x.csv', header: false });
  t.deepEqual(parseArgs(['--npy', 'x.npy', '--k', '4', '--solver', 'lloyd']).stop, {});
  t.is(parseDuration('--time', '1.5h'), 5400);
});

test('bad flags are UsageErrors naming the flag', (t) => {
  const bad: [string[], RegExp][] = [
    [['--sise', '1M'], /unknown flag '--sise' \(did you mean --size\?\)/],
    [['--size'], /--size needs a value/],
    [['--size', '12XB'], /--size: unknown unit/],
    [['--k', '0'], /--k: must be at least 1/],
    [['--k', '2.5'], /--k: '2.5' is not a whole number/],
    [['--solver', 'fast'], /--solver must be one of asgd, sync, simuparallel, minibatch, lloyd, hogwild, paramserver/],
    [['--raw', 'x.f32', '--k', '3'], /--raw needs --dim/],
    [['--csv', 'x.csv'], /--k is required with file data/],
    [['--csv', 'a.csv', '--npy', 'b.npy', '--k', '2'], /one data source/],
    [['--raw', 'x', '--dim', '2', '--k', '2', '--spread', '1'], /--spread describe synthetic data/],
    [['--header'], /apply to --csv only/],
    [['--lr', '-1'], /--lr: must be greater than 0/],
    [['--lr', 'NaN'], /--lr: 'NaN' is not a number/],
    [['--solver', 'lloyd', '--batch', '100'], /--batch, --lr and --step do not apply/],
    [['--solver', 'lloyd', '--epochs', '2'], /stops by --steps/],
    [['--solver', 'sync', '--no-window'], /apply to --solver asgd only/],
    [['--threads', '4'], /--threads applies to --solver hogwild only/],
    [['--time', 'soon'], /--time: 'soon' is not a duration/],
    [['--k', '20000', '--init-sample', '100'], /--k 20000 is larger than the initialisation sample/],
    [['--samples', '1GB'], /byte size; give a count/],
    [['--out', ''], /--out needs a directory/],
    [['--k', '3', '--k', '4'], /--k given twice/],
    [['extra'], /unknown argument 'extra'/],
  ];
  for (const [argv, message] of bad) t.throws(() => parseArgs(argv), { instanceOf: UsageError, message }, argv.join(' '));
});
