/**
 * The LeNet part of the `scaling` suite: how a fixed total work is divided over ranks per solver, the
 * rank program's argument checking (typed errors, also from a real spawned rank), the time-to-accuracy
 * and speedup arithmetic, and one real two-rank run that reports from every rank. No wall time is asserted.
 */
import test from 'ava';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_FASHION, hasFashionMnist, writeFashionLenetSolver } from '../bench/cnn.js';
import { runRankJob } from '../bench/job.js';
import { runLenetJob } from '../bench/lenet-job.js';
import { jobShape, lenetSteps, LenetSpecError, parseLenetRunSpec, type LenetRunSpec } from '../bench/lenet-spec.js';
import { summarizeScaling } from '../bench/scaling-summary.js';
import { timeToAccuracy } from '../bench/suites/scaling-lenet.js';

const VALID: LenetRunSpec = { solverFile: '/x/solver.prototxt', kernels: 'typescript', parallel: 'asgd', steps: 10, threads: 1, batch: 64, seed: 1, traceEvery: 2, testCount: 100 };

test('a fixed total work is shared by the ranks of asgd, simuparallel and sync, and is the total for paramserver and hogwild', (t) => {
  t.is(lenetSteps('asgd', 1, 400), 400);
  t.is(lenetSteps('asgd', 2, 400), 200);
  t.is(lenetSteps('simuparallel', 3, 400), 134, 'rounded up, so no rank trains less than its share');
  t.is(lenetSteps('sync', 4, 400), 100);
  t.is(lenetSteps('paramserver', 2, 400), 400, 'server updates: the total');
  t.is(lenetSteps('hogwild', 8, 400), 400, 'updates of all threads: the total');
  t.throws(() => lenetSteps('asgd', 0, 400), { instanceOf: LenetSpecError, message: /ranks must be a positive whole number/ });
  t.throws(() => lenetSteps('asgd', 2, 0), { instanceOf: LenetSpecError, message: /total steps/ });
  t.throws(() => lenetSteps('sync', 8, 4), { instanceOf: LenetSpecError, message: /4 total steps cannot be shared by 8 ranks/ });
  t.deepEqual(jobShape('hogwild', 4), { ranks: 1, threads: 4 });
  t.deepEqual(jobShape('asgd', 4), { ranks: 4, threads: 1 });
});

test('the rank program spec round-trips and every bad field is a LenetSpecError naming it', (t) => {
  t.deepEqual(parseLenetRunSpec(JSON.stringify(VALID)), VALID);
  t.deepEqual(parseLenetRunSpec(JSON.stringify({ ...VALID, parallel: 'hogwild', threads: 4 })).threads, 4);
  const bad: [string | undefined, RegExp][] = [
    [undefined, /missing/],
    ['{nope', /not JSON/],
    ['[1]', /must be a JSON object/],
    [JSON.stringify({ ...VALID, extra: 1 }), /unknown key\(s\) extra/],
    [JSON.stringify({ ...VALID, solverFile: '' }), /solverFile/],
    [JSON.stringify({ ...VALID, kernels: 'cuda' }), /kernels must be typescript or native, got "cuda"/],
    [JSON.stringify({ ...VALID, parallel: 'distnewton' }), /parallel must be one of asgd, simuparallel, sync, paramserver, hogwild/],
    [JSON.stringify({ ...VALID, steps: 0 }), /steps must be a positive whole number, got 0/],
    [JSON.stringify({ ...VALID, batch: 2.5 }), /batch must be a positive whole number/],
    [JSON.stringify({ ...VALID, traceEvery: '2' }), /traceEvery must be a positive whole number, got "2"/],
    [JSON.stringify({ ...VALID, seed: -1 }), /seed must be a whole number ≥ 0/],
    [JSON.stringify({ ...VALID, threads: 2 }), /threads 2 applies to hogwild only, not asgd/],
  ];
  for (const [text, message] of bad) {
    t.throws(() => parseLenetRunSpec(text), { instanceOf: LenetSpecError, message }, String(text));
  }
});

test('time to accuracy: the first trace point at or above the target, else the run end if the final state reaches it, else NaN', (t) => {
  const trace = [
    { step: 10, seconds: 1, samples: 640, accuracy: 0.5 },
    { step: 20, seconds: 2, samples: 1280, accuracy: 0.76 },
    { step: 30, seconds: 3, samples: 1920, accuracy: 0.74 },
  ];
  t.is(timeToAccuracy({ trace, finalAccuracy: 0.8, seconds: 4 }, 0.75), 2);
  t.is(timeToAccuracy({ trace, finalAccuracy: 0.8, seconds: 4 }, 0.78), 4);
  t.true(Number.isNaN(timeToAccuracy({ trace, finalAccuracy: 0.7, seconds: 4 }, 0.78)));
  t.true(Number.isNaN(timeToAccuracy({ trace: [], finalAccuracy: null, seconds: 4 }, 0.1)));
});

test('scaling summary: medians over seeds, speedup and efficiency against the first rank count, time-to-target speedup', (t) => {
  const points = [
    { solver: 'asgd', ranks: 1, wallSeconds: 10, timeToTarget: 4 },
    { solver: 'asgd', ranks: 1, wallSeconds: 12, timeToTarget: 6 },
    { solver: 'asgd', ranks: 1, wallSeconds: 30, timeToTarget: 5 },
    { solver: 'asgd', ranks: 2, wallSeconds: 8, timeToTarget: NaN },
    { solver: 'asgd', ranks: 2, wallSeconds: 6, timeToTarget: 2.5 },
    { solver: 'sync', ranks: 1, wallSeconds: 9, timeToTarget: NaN },
    { solver: 'sync', ranks: 2, wallSeconds: 9, timeToTarget: NaN },
  ];
  const s = summarizeScaling(points, ['asgd', 'sync'], [1, 2]);
  t.deepEqual(s.map((x) => [x.solver, x.ranks]), [['asgd', 1], ['asgd', 2], ['sync', 1], ['sync', 2]]);
  t.is(s[0]!.wallSeconds, 12);
  t.is(s[0]!.speedup, 1);
  t.is(s[1]!.wallSeconds, 7);
  t.is(s[1]!.speedup, 12 / 7);
  t.is(s[1]!.efficiency, 12 / 7 / 2);
  t.is(s[1]!.timeToTarget, 2.5, 'a seed that never reached the target is left out of the median');
  t.is(s[1]!.timeToTargetSpeedup, 5 / 2.5);
  t.is(s[3]!.speedup, 1);
  t.true(Number.isNaN(s[3]!.timeToTargetSpeedup));
  const from2 = summarizeScaling(points, ['asgd'], [2]);
  t.is(from2[0]!.speedup, 2, 'a baseline above one rank is scaled to one rank (× ranks[0])');
});

const RANK = fileURLToPath(new URL('../bench/lenet-rank.js', import.meta.url));

test('a spawned rank given a bad spec exits non-zero with the LenetSpecError message', async (t) => {
  t.timeout(90_000);
  const run = await runRankJob({ transport: 'threads', size: 1, entry: RANK, args: [JSON.stringify({ ...VALID, steps: -3 })], timeoutMs: 60_000 });
  t.false(run.timedOut);
  t.not(run.codes[0], 0);
  t.regex(run.stderr, /LenetSpecError: LeNet run spec: steps must be a positive whole number, got -3/);
  t.notRegex(run.stdout, /LENETRUN/);
});

test('a real two-rank asgd run reports from both ranks; rank 0 gives its accuracy trace', async (t) => {
  t.timeout(180_000);
  if (!hasFashionMnist(DEFAULT_FASHION)) {
    t.log(`Fashion-MNIST is not installed in ${DEFAULT_FASHION}: the real run is skipped`);
    t.false(existsSync(join(DEFAULT_FASHION, 't10k-images-idx3-ubyte.gz')) && existsSync(join(DEFAULT_FASHION, 'train-images-idx3-ubyte.gz')));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'lenet-scaling-test-'));
  try {
    const solverFile = writeFashionLenetSolver(dir);
    const lines = await runLenetJob(2, { ...VALID, solverFile, steps: 6, traceEvery: 3, testCount: 50 }, 150_000);
    t.is(lines.length, 2);
    t.deepEqual(lines.map((l) => [l.rank, l.size, l.steps]), [[0, 2, 6], [1, 2, 6]]);
    for (const l of lines) t.is(l.samples, 6 * 64, `rank ${l.rank} drew 6 mini-batches of 64`);
    t.deepEqual(lines[0]!.trace.map((p) => p.step), [3, 6]);
    for (const p of lines[0]!.trace) {
      t.true(p.accuracy >= 0 && p.accuracy <= 1);
      t.true(p.seconds > 0 && p.seconds <= lines[0]!.seconds + 1e-6, 'trace points lie on the rank\'s training clock');
    }
    t.true(lines[0]!.finalAccuracy! >= 0 && lines[0]!.finalAccuracy! <= 1);
    t.deepEqual(lines[1]!.trace, []);
    t.is(lines[1]!.finalAccuracy, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
