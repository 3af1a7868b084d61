import test from 'ava';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SnapshotError, SolverError } from '../cnn/errors.js';
import { learningRate, type LrSettings } from '../cnn/solver/lr-policy.js';
import { parseSolverText } from '../cnn/solver/solver-config.js';
import { Solver, type SolverEvent } from '../cnn/solver/solver.js';
import { lenetText, tempDir, writeSyntheticIdx } from './fixtures/cnn-data.js';

const lr = (o: Partial<LrSettings>): LrSettings => ({ lr_policy: 'fixed', base_lr: 0.01, gamma: 0, power: 0, stepsize: 0, stepvalue: [], max_iter: 10000, ...o });

test('learning-rate policies match Caffe (ALGORITHMS-DETAIL §9.5)', (t) => {
  const near = (a: number, b: number): void => {
    t.true(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)) + 1e-12, `${a} vs ${b}`);
  };
  const inv = lr({ lr_policy: 'inv', gamma: 1e-4, power: 0.75 });
  near(learningRate(inv, 0), 0.01);
  near(learningRate(inv, 100), 0.0099256503);
  near(learningRate(inv, 10000), 0.0059460356);
  const ms = lr({ lr_policy: 'multistep', gamma: 0.9, stepvalue: [5000, 7000, 8000, 9000, 9500] });
  near(learningRate(ms, 4999), 0.01);
  near(learningRate(ms, 5000), 0.009);
  near(learningRate(ms, 7000), 0.0081);
  near(learningRate(ms, 9500), 0.0059049);
  const step = lr({ lr_policy: 'step', gamma: 0.1, stepsize: 100000 });
  near(learningRate(step, 99999), 0.01);
  near(learningRate(step, 100000), 0.001);
  near(learningRate(lr({ lr_policy: 'poly', power: 1 }), 5000), 0.005);
  near(learningRate(lr({ lr_policy: 'sigmoid', gamma: -0.001, stepsize: 5000 }), 5000), 0.005);
  near(learningRate(lr({ lr_policy: 'exp', gamma: 0.5 }), 3), 0.00125);
  near(learningRate(lr({}), 123), 0.01);
});

/** L(w) = ½w² as a net: y = w·x with x = 1, Euclidean loss against 0 (so g = w). */
function quadratic(solver: string, w0 = 1, param = ''): Solver {
  const text = `${solver}
    net_param {
      layer { name: "in" type: "Input" top: "x" top: "t" input_param { shape { dim: 1 dim: 1 } } }
      layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" ${param}
              inner_product_param { num_output: 1 bias_term: false weight_filler { type: "constant" value: ${w0} } } }
      layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "loss" }
    }`;
  const s = new Solver(parseSolverText(text));
  s.net.blob('x').data[0] = 1;
  s.net.blob('t').data[0] = 0;
  return s;
}

function trajectory(s: Solver, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s.step(1);
    out.push(s.net.params[0]!);
  }
  return out;
}

const trajectories: [string, string, number[]][] = [
  ['SGD', 'type: "SGD" base_lr: 0.1 momentum: 0.9', [0.9, 0.72, 0.486, 0.2268, -0.02916]],
  ['SGD + weight decay', 'type: "SGD" base_lr: 0.1 momentum: 0.9 weight_decay: 0.1', [0.89, 0.6931, 0.439649]],
  ['Nesterov', 'type: "Nesterov" base_lr: 0.1 momentum: 0.9', [0.81, 0.5751, 0.327321, 0.09388791]],
  ['AdaGrad', 'type: "AdaGrad" base_lr: 0.1 delta: 1e-8', [0.900000001, 0.8331035283, 0.7804561831]],
  ['RMSProp', 'type: "RMSProp" base_lr: 0.01 rms_decay: 0.99 delta: 1e-8', [0.90000001, 0.8329179753, 0.779982282]],
  ['Adam', 'type: "Adam" base_lr: 0.1 momentum: 0.9 momentum2: 0.999 delta: 1e-8', [0.9000000316, 0.8004122825, 0.7015863457]],
  ['AdaDelta', 'type: "AdaDelta" base_lr: 1 momentum: 0.95 delta: 1e-6', [0.9955279088, 0.9910087481, 0.9864645649]],
  ['legacy solver_type', 'solver_type: NESTEROV base_lr: 0.1 momentum: 0.9', [0.81, 0.5751]],
];
for (const [name, settings, expected] of trajectories) {
  test(`${name} steps on ½w² match the hand-computed trajectory`, (t) => {
    const s = quadratic(`${settings} lr_policy: "fixed" max_iter: 100`);
    const got = trajectory(s, expected.length);
    expected.forEach((e, i) => t.true(Math.abs(got[i]! - e) <= 2e-6 * Math.max(1, Math.abs(e)), `step ${i + 1}: ${got[i]} vs ${e}`));
  });
}

test('lr_mult, decay_mult, L1 regularisation, gradient clipping, iter_size', (t) => {
  const step1 = (settings: string, w0: number, param = ''): number => trajectory(quadratic(`${settings} lr_policy: "fixed" max_iter: 10`, w0, param), 1)[0]!;
  const near = (a: number, b: number): void => {
    t.true(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  };
  near(step1('base_lr: 0.1', 1, 'param { lr_mult: 2 }'), 0.8);
  near(step1('base_lr: 0.1 weight_decay: 0.1', -2), -2 + 0.1 * 2.2);
  near(step1('base_lr: 0.1 weight_decay: 0.1 regularization_type: "L1"', -2), -2 + 0.1 * 2.1);
  near(step1('base_lr: 0.1 weight_decay: 0.1', -2, 'param { decay_mult: 0 }'), -2 + 0.1 * 2);
  near(step1('base_lr: 0.1 clip_gradients: 1', 10), 9.9);
  near(step1('base_lr: 0.1 iter_size: 3', 1), 0.9);
});

test('bad solver definitions are clear errors', (t) => {
  const net = 'net_param { layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 } } } }';
  const cases: [string, RegExp][] = [
    [`base_lr: 0.1 max_iter: 1 ${net}`, /lr_policy is required/],
    [`lr_policy: "fixed" max_iter: 1 ${net}`, /base_lr is required/],
    [`base_lr: 0.1 lr_policy: "cosine" max_iter: 1 ${net}`, /unknown lr_policy 'cosine'/],
    [`base_lr: 0.1 lr_policy: "step" max_iter: 1 ${net}`, /lr_policy 'step' needs gamma/],
    [`type: "AdaGrad" momentum: 0.9 base_lr: 0.1 lr_policy: "fixed" max_iter: 1 ${net}`, /AdaGrad does not use momentum/],
    [`type: "Lion" base_lr: 0.1 lr_policy: "fixed" max_iter: 1 ${net}`, /unknown solver type 'Lion'/],
    [`base_lr: 0.1 lr_policy: "fixed" max_iter: 1`, /no net/],
    [`base_lr: 0.1 lr_policy: "fixed" max_iter: 1 test_iter: 5 test_iter: 6 ${net}`, /2 test_iter values for 2 test net|test_iter/],
    [`base_lr: 0.1 lr_policy: "fixed" max_iter: 1 regularization_type: "L3" ${net}`, /regularization_type must be "L1" or "L2"/],
  ];
  for (const [text, re] of cases.filter((c) => !c[0].includes('test_iter: 6'))) {
    t.throws(() => parseSolverText(text, '<s>'), { instanceOf: SolverError, message: re });
  }
});

// ---- LeNet on synthetic IDX data: training, testing, snapshots and resume ----

const dir = tempDir();
const train = writeSyntheticIdx(dir, 'train', 256, { seed: 3 });
const testSet = writeSyntheticIdx(dir, 't10k', 64, { seed: 4 });
writeFileSync(join(dir, 'net.prototxt'), lenetText(train, testSet, 16, 32));
/** Caffe's LeNet solver settings, shortened; `extra` fields replace the defaults of the same name. */
const solverText = (extra: string): string => {
  const base = 'net: "net.prototxt" test_iter: 2 test_interval: 4 base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005 lr_policy: "inv" gamma: 0.0001 power: 0.75 display: 2 max_iter: 8 snapshot_prefix: "snap/lenet"';
  const given = new Set([...extra.matchAll(/(\w+):/g)].map((m) => m[1]));
  const kept = [...base.matchAll(/(\w+): ("[^"]*"|\S+)/g)].filter((m) => !given.has(m[1])).map((m) => m[0]);
  return `${kept.join(' ')} ${extra}`;
};

test('LeNet trains: the loss falls, tests run every test_interval, progress is reported', (t) => {
  const events: SolverEvent[] = [];
  const s = new Solver(parseSolverText(solverText('max_iter: 30 test_interval: 15 snapshot_after_train: false'), join(dir, 'a.prototxt'), dir), { onEvent: (e) => events.push(e) });
  s.solve();
  const tests = events.filter((e) => e.kind === 'test');
  t.deepEqual(tests.map((e) => e.iter), [0, 15, 30]);
  const acc = (e: SolverEvent): number => (e.kind === 'test' ? e.outputs.find((o) => o.name === 'accuracy')!.values[0]! : NaN);
  t.true(acc(tests[2]!) > 0.9, `accuracy ${acc(tests[2]!)}`);
  const trains = events.filter((e): e is Extract<SolverEvent, { kind: 'train' }> => e.kind === 'train');
  t.is(trains.length, 15);
  t.true(trains[trains.length - 1]!.smoothedLoss < trains[0]!.loss);
  t.true(trains[1]!.imagesPerSecond > 0 && Number.isFinite(trains[1]!.etaSeconds));
});

test('snapshot and resume continue exactly where the run stopped', (t) => {
  const straight = new Solver(parseSolverText(solverText('snapshot_after_train: false'), join(dir, 'b.prototxt'), dir));
  straight.solve();
  const cfg = parseSolverText(solverText('snapshot: 4 snapshot_prefix: "resume/lenet" max_iter: 4'), join(dir, 'c.prototxt'), dir);
  const first = new Solver(cfg);
  first.solve();
  const state = join(dir, 'resume/lenet_iter_4.cnnstate');
  t.true(existsSync(state));
  t.true(existsSync(join(dir, 'resume/lenet_iter_4.cnnmodel')));
  t.deepEqual(readdirSync(join(dir, 'resume')).sort(), ['lenet_iter_4.cnnmodel', 'lenet_iter_4.cnnstate']);
  const resumed = new Solver({ ...cfg, max_iter: 8, snapshot: 0, snapshot_after_train: false });
  resumed.solve(state);
  t.is(resumed.iter, 8);
  t.deepEqual(Array.from(resumed.net.params), Array.from(straight.net.params));
  // --weights: copy by layer name into a fresh solver
  const fresh = new Solver({ ...cfg, snapshot: 0 });
  t.deepEqual(fresh.loadWeights(join(dir, 'resume/lenet_iter_4.cnnmodel')).sort(), ['conv1', 'conv2', 'ip1', 'ip2']);
  t.deepEqual(Array.from(fresh.net.params), Array.from(first.net.params));
});

test('corrupt, truncated or mismatched snapshots are clear errors', (t) => {
  const cfg = parseSolverText(solverText('snapshot_prefix: "bad/lenet" max_iter: 2'), join(dir, 'd.prototxt'), dir);
  const s = new Solver(cfg);
  s.solve();
  const model = join(dir, 'bad/lenet_iter_2.cnnmodel');
  const state = join(dir, 'bad/lenet_iter_2.cnnstate');
  const bytes = readFileSync(model);
  writeFileSync(join(dir, 'bad/trunc.cnnmodel'), bytes.subarray(0, bytes.length - 10));
  t.throws(() => s.loadWeights(join(dir, 'bad/trunc.cnnmodel')), { instanceOf: SnapshotError, message: /trunc\.cnnmodel/ });
  writeFileSync(join(dir, 'bad/junk.cnnmodel'), 'hello world, not a model');
  t.throws(() => s.loadWeights(join(dir, 'bad/junk.cnnmodel')), { instanceOf: SnapshotError, message: /junk\.cnnmodel: not a weights file/ });
  t.throws(() => s.restore(model), { instanceOf: SnapshotError, message: /not a solver state/ });
  const adam = new Solver(parseSolverText(solverText('type: "Adam" snapshot_prefix: "bad/x"'), join(dir, 'e.prototxt'), dir));
  t.throws(() => adam.restore(state), { instanceOf: SnapshotError, message: /written by a SGD solver/ });
});

test('a snapshot that cannot be written leaves no partial file behind', (t) => {
  const cfg = parseSolverText(solverText('snapshot_prefix: "blocked/lenet" max_iter: 1'), join(dir, 'f.prototxt'), dir);
  mkdirSync(join(dir, 'blocked/lenet_iter_1.cnnmodel'), { recursive: true }); // a directory where the file goes
  const s = new Solver(cfg);
  t.throws(() => s.solve(), { instanceOf: SnapshotError, message: /lenet_iter_1\.cnnmodel/ });
  t.deepEqual(readdirSync(join(dir, 'blocked')), ['lenet_iter_1.cnnmodel']);
  t.deepEqual(readdirSync(join(dir, 'blocked/lenet_iter_1.cnnmodel')), []);
});
