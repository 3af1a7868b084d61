/**
 * The public API: the solver factory validates everything before any rank starts (unknown names,
 * incompatible combinations, non-finite or misplaced options) with typed errors; defaults are filled
 * in; a problem can be handed over as an object, a factory or a module reference, with the same run.
 */
import test from 'ava';
import {
  AsgdError, createSolver, IncompatibleOptionsError, InvalidOptionError, UnknownNameError, validateSolverConfig, type SolverConfig,
} from '../runtime/asgd/index.js';
import { solverJob } from './fixtures/asgd-lib.js';

const ok: SolverConfig = { solver: 'asgd', optimizer: { name: 'sgd', lr: 0.1 }, stop: { steps: 10 } };
const bad = (patch: Record<string, unknown>): SolverConfig => ({ ...ok, ...patch }) as SolverConfig;

function fails(t: { throws: (fn: () => unknown) => unknown; is: (a: unknown, b: unknown, m?: string) => void; regex: (s: string, r: RegExp) => void }, config: unknown, kind: new (...args: never[]) => AsgdError, message: RegExp): void {
  const error = t.throws(() => createSolver(config as SolverConfig)) as AsgdError;
  t.is(error?.constructor, kind, `${JSON.stringify(config)}: ${error?.message}`);
  t.regex(error.message, message);
}

test('defaults are filled in', (t) => {
  const c = validateSolverConfig(ok);
  t.like(c, {
    solver: 'asgd', batchSize: 32, seed: 1, segmentBase: 0, queue: 0,
    asgd: { window: 'parzen', mix: 'inStep', exchangeEvery: 1, mixRate: undefined, finalState: 'own', busyOutbox: 'wait' },
    schedule: { policy: 'fixed' },
    optimizer: { name: 'sgd', lr: 0.1, weightDecay: 0 },
    stop: { steps: 10, samples: Infinity, evalEvery: 0 },
    metrics: { dir: undefined, every: 100 },
    checkpoint: undefined,
  });
  t.is(validateSolverConfig({ ...ok, stop: { targetLoss: 0.1 } }).stop.evalEvery, 100);
  t.is(validateSolverConfig({ ...ok, asgd: { exchangeEvery: Infinity } }).asgd.exchangeEvery, Infinity);
});

test('unknown names', (t) => {
  fails(t, bad({ solver: 'easgd' }), UnknownNameError, /unknown solver 'easgd'; known: asgd, simuparallel, sync, hogwild, paramserver, distnewton/);
  fails(t, bad({ optimizer: { name: 'lamb', lr: 1 } }), UnknownNameError, /unknown optimizer 'lamb'/);
  fails(t, bad({ schedule: { policy: 'cosine' } }), UnknownNameError, /unknown schedule policy 'cosine'/);
  t.is((t.throws(() => createSolver(bad({ solver: 'x' }))) as AsgdError).code, 'ERR_ASGD_UNKNOWN_NAME');
});

test('incompatible combinations', (t) => {
  fails(t, bad({ solver: 'sync', asgd: { window: 'off' } }), IncompatibleOptionsError, /options 'asgd' apply to solver 'asgd', but the solver is 'sync'/);
  for (const solver of ['sync', 'simuparallel', 'distnewton']) {
    fails(t, bad({ solver, optimizer: { name: 'boosted-momentum', lr: 0.1 } }), IncompatibleOptionsError, /needs the displacement/);
  }
  fails(t, bad({ solver: 'distnewton', optimizer: { name: 'adam', lr: 0.1 } }), IncompatibleOptionsError, /use optimizer 'sgd'/);
  fails(t, bad({ solver: 'hogwild', batchSize: 'full' }), IncompatibleOptionsError, /hogwild takes mini-batches/);
  fails(t, bad({ solver: 'hogwild', checkpoint: { dir: '/tmp/x' } }), IncompatibleOptionsError, /not implemented for solver 'hogwild'/);
  fails(t, bad({ stop: { targetLoss: 1, evalEvery: 0 } }), IncompatibleOptionsError, /needs evaluations/);
  fails(t, bad({ optimizer: { name: 'nesterov', lr: 0.1, momentum: 0 } }), IncompatibleOptionsError, /is plain SGD/);
  t.notThrows(() => createSolver(bad({ solver: 'hogwild', optimizer: { name: 'boosted-adagrad', lr: 0.1 } })));
  t.notThrows(() => createSolver(bad({ solver: 'paramserver', optimizer: { name: 'boosted-sgd', lr: 0.1, boostSign: -1 } })));
});

test('non-finite, out-of-range, misplaced and missing options', (t) => {
  fails(t, bad({ optimizer: { name: 'sgd', lr: NaN } }), InvalidOptionError, /optimizer\.lr: must be a number, got NaN/);
  fails(t, bad({ optimizer: { name: 'adam', lr: 0.1, momentum: Infinity } }), InvalidOptionError, /optimizer\.momentum: must be finite/);
  fails(t, bad({ stop: { seconds: NaN } }), InvalidOptionError, /stop\.seconds/);
  fails(t, bad({ stop: { steps: 2.5 } }), InvalidOptionError, /stop\.steps: must be an integer/);
  fails(t, bad({ stop: {} }), InvalidOptionError, /give at least one of steps/);
  fails(t, bad({ stop: { targetLoss: -Infinity } }), InvalidOptionError, /stop\.targetLoss: must be finite/);
  fails(t, bad({ asgd: { exchangeEvery: 0 } }), InvalidOptionError, /asgd\.exchangeEvery: must be >= 1/);
  fails(t, bad({ asgd: { exchangeEvery: 1.5 } }), InvalidOptionError, /asgd\.exchangeEvery: must be an integer/);
  fails(t, bad({ asgd: { window: 'gaussian' } }), InvalidOptionError, /asgd\.window/);
  fails(t, bad({ asgd: { busyOutbox: 'drop' } }), InvalidOptionError, /asgd\.busyOutbox: must be 'wait' or 'skip'/);
  fails(t, bad({ asgd: { mixRate: 2 } }), InvalidOptionError, /asgd\.mixRate: must be <= 1/);
  fails(t, bad({ asgd: { exchangEvery: 2 } }), InvalidOptionError, /asgd\.exchangEvery: is not an option here/);
  fails(t, bad({ batchsize: 3 }), InvalidOptionError, /config\.batchsize: is not an option here/);
  fails(t, bad({ batchSize: 0 }), InvalidOptionError, /batchSize: must be >= 1/);
  fails(t, bad({ seed: -1 }), InvalidOptionError, /seed/);
  fails(t, bad({ hogwild: { threads: 0 }, solver: 'hogwild' }), InvalidOptionError, /hogwild\.threads/);
  fails(t, bad({ solver: 'distnewton', distnewton: { lambda: NaN } }), InvalidOptionError, /distnewton\.lambda/);
  fails(t, bad({ checkpoint: { everySteps: 5 } }), InvalidOptionError, /checkpoint\.dir/);
  fails(t, bad({ schedule: { policy: 'inv', gamma: Infinity, power: 1 } }), InvalidOptionError, /schedule\.gamma: must be finite/);
  fails(t, 'asgd', InvalidOptionError, /must be an object/);
});

test.serial('a problem as an object, a factory or a module reference runs the same', async (t) => {
  const problem = { kind: 'leastsq', rows: 128, dim: 4 } as const;
  const config: SolverConfig = { ...ok, optimizer: { name: 'momentum', lr: 0.05 }, batchSize: 4, stop: { steps: 50 } };
  const runs = await Promise.all((['ref', 'object', 'factory'] as const).map((problemAs) => solverJob('threads', 1, { problem, config, problemAs })));
  for (const run of runs) t.is(run.ranks.length, 1, run.stderr);
  t.deepEqual(runs[1]!.ranks[0]!.params, runs[0]!.ranks[0]!.params);
  t.deepEqual(runs[2]!.ranks[0]!.params, runs[0]!.ranks[0]!.params);
  const hog = await solverJob('threads', 2, { problem, config: { ...config, solver: 'hogwild' }, problemAs: 'object' });
  t.is(hog.errors.length, 2);
  t.true(hog.errors.every((e) => e.code === 'ERR_ASGD_INCOMPATIBLE' && /ProblemRef/.test(e.message)));
});

test.serial('one context runs several solvers one after another (segments are released)', async (t) => {
  const out = await solverJob('threads', 2, { problem: { kind: 'quadratic', rows: 64, dim: 3 }, config: { ...ok, stop: { steps: 20 } }, repeat: 3 });
  t.is(out.ranks.length, 6, out.stderr);
  t.deepEqual(out.ranks.map((r) => r.run), [0, 0, 1, 1, 2, 2]);
});
