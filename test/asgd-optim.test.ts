/**
 * Optimizers against hand-computed steps: Caffe's one-dimensional trajectories (ALGORITHMS-DETAIL
 * §9.5), the boosted rules of Li et al. on two-element cases worked out by hand (both sign readings),
 * and "Δw = 0 gives exactly the plain optimizer".
 */
import test from 'ava';
import { optimizer, validateOptimizerConfig } from '../runtime/asgd/optim/factory.js';
import type { OptimizerConfig } from '../runtime/asgd/optim/types.js';
import { Rng } from '../runtime/asgd/rng.js';

/** run on L(w) = ½w² (so g = w) from w0 = 1 */
function trajectory(config: OptimizerConfig, steps: number): number[] {
  const opt = optimizer(config, 1);
  const w = new Float32Array([1]);
  const g = new Float32Array(1);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    g[0] = w[0]!;
    opt.step(w, g, config.lr, null);
    out.push(w[0]!);
  }
  return out;
}

function close(t: { true: (c: boolean, m?: string) => void }, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  t.true(actual.length === expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i]! - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!));
    t.true(ok, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const caffe: [string, OptimizerConfig, number[]][] = [
  ['SGD with momentum', { name: 'momentum', lr: 0.1, momentum: 0.9 }, [0.9, 0.72, 0.486, 0.2268, -0.02916]],
  ['SGD with momentum and weight decay', { name: 'momentum', lr: 0.1, momentum: 0.9, weightDecay: 0.1 }, [0.89, 0.6931, 0.439649]],
  ['Nesterov', { name: 'nesterov', lr: 0.1, momentum: 0.9 }, [0.81, 0.5751, 0.327321, 0.09388791]],
  ['AdaGrad', { name: 'adagrad', lr: 0.1, delta: 1e-8 }, [0.900000001, 0.8331035283, 0.7804561831]],
  ['RMSProp', { name: 'rmsprop', lr: 0.01, rmsDecay: 0.99, delta: 1e-8 }, [0.90000001, 0.8329179753, 0.779982282]],
  ['Adam', { name: 'adam', lr: 0.1, momentum: 0.9, momentum2: 0.999, delta: 1e-8 }, [0.9000000316, 0.8004122825, 0.7015863457]],
  ['plain SGD', { name: 'sgd', lr: 0.25 }, [0.75, 0.5625, 0.421875]],
];

for (const [what, config, expected] of caffe) {
  test(`${what} follows Caffe's trajectory on ½w²`, (t) => {
    close(t, trajectory(config, expected.length), expected, 2e-7, what);
  });
}

test('boosted rules on the worked example of ALGORITHMS-DETAIL §6.2 (both sign readings)', (t) => {
  const g = new Float32Array([1, -2, 0.5, 0]);
  const dw = new Float32Array([-0.1, -0.2, 0.4, 1]);
  for (const [sign, expected] of [[1, [1.075, -1.4, 0.425, 0]], [-1, [0.925, -2.6, 0.575, 0]]] as const) {
    const w = new Float32Array(4);
    optimizer({ name: 'boosted-sgd', lr: 1, lambda: 0.3, boostSign: sign }, 4).step(w, g, 1, dw);
    close(t, Array.from(w, (v) => -v), expected, 1e-6, `boostSign ${sign}`);
  }
});

test('boosted SGD, two elements by hand', (t) => {
  // p = g⊙Δw = (1, −0.5), max|p| = 1, f = (1, −0.5)
  const g = new Float32Array([2, -1]);
  const dw = new Float32Array([0.5, 0.5]);
  const printed = new Float32Array([1, 1]);
  optimizer({ name: 'boosted-sgd', lr: 0.1 }, 2).step(printed, g, 0.1, dw);
  close(t, printed, [1 - 0.1 * 0.7 * 2, 1 + 0.1 * 1.15 * 1], 1e-6, 'printed: factors 1 − λf = (0.7, 1.15)');
  const prose = new Float32Array([1, 1]);
  optimizer({ name: 'boosted-sgd', lr: 0.1, boostSign: -1 }, 2).step(prose, g, 0.1, dw);
  close(t, prose, [1 - 0.1 * 1.3 * 2, 1 + 0.1 * 0.85 * 1], 1e-6, 'prose: factors 1 + λf = (1.3, 0.85)');
});

test('boosted momentum, two elements and two steps by hand', (t) => {
  const opt = optimizer({ name: 'boosted-momentum', lr: 0.1, momentum: 0.9 }, 2);
  const w = new Float32Array([1, 1]);
  opt.step(w, new Float32Array([2, -1]), 0.1, new Float32Array([0.5, 0.5]));
  // g' = (1.4, −1.15), m = (0.14, −0.115)
  close(t, w, [0.86, 1.115], 1e-6, 'step 1');
  opt.step(w, new Float32Array([1, 1]), 0.1, new Float32Array([0, 0.2]));
  // p = (0, 0.2), f = (0, 1), g' = (1, 0.7), m = 0.9·(0.14, −0.115) + 0.1·(1, 0.7) = (0.226, −0.0335)
  close(t, w, [0.634, 1.1485], 1e-6, 'step 2');
});

test('boosted AdaGrad, two elements by hand (both sign readings)', (t) => {
  const g = new Float32Array([2, -1]);
  const dw = new Float32Array([0.5, 0.5]); // sign(p) = (1, −1)
  const printed = new Float32Array([1, 1]);
  optimizer({ name: 'boosted-adagrad', lr: 0.1, delta: 0 }, 2).step(printed, g, 0.1, dw);
  // s = 0.1 + (1 + 0.3·f)·g² = (5.3, 0.8)
  close(t, printed, [1 - 0.2 / Math.sqrt(5.3), 1 + 0.1 / Math.sqrt(0.8)], 1e-6, 'printed');
  const prose = new Float32Array([1, 1]);
  optimizer({ name: 'boosted-adagrad', lr: 0.1, delta: 0, boostSign: -1 }, 2).step(prose, g, 0.1, dw);
  // s = 0.1 + (1 − 0.3·f)·g² = (2.9, 1.4)
  close(t, prose, [1 - 0.2 / Math.sqrt(2.9), 1 + 0.1 / Math.sqrt(1.4)], 1e-6, 'prose');
});

const pairs: [OptimizerConfig, OptimizerConfig][] = [
  [{ name: 'boosted-sgd', lr: 0.05, lambda: 0.4 }, { name: 'sgd', lr: 0.05 }],
  [{ name: 'boosted-sgd', lr: 0.05, boostSign: -1, weightDecay: 0.01 }, { name: 'sgd', lr: 0.05, weightDecay: 0.01 }],
  [{ name: 'boosted-momentum', lr: 0.05, momentum: 0.8 }, { name: 'momentum', lr: 0.05, momentum: 0.8 }],
  [{ name: 'boosted-adagrad', lr: 0.05 }, { name: 'adagrad', lr: 0.05, initialAccumulator: 0.1, deltaInside: true }],
  [{ name: 'boosted-adagrad', lr: 0.05, initialAccumulator: 0, deltaInside: false, boostSign: -1 }, { name: 'adagrad', lr: 0.05 }],
];

for (const [boosted, plain] of pairs) {
  test(`${boosted.name} (${JSON.stringify(boosted)}) with Δw = 0 equals ${plain.name} bit for bit`, (t) => {
    const n = 257;
    const rng = new Rng(5);
    const a = optimizer(boosted, n);
    const b = optimizer(plain, n);
    const wa = Float32Array.from({ length: n }, () => rng.gaussian());
    const wb = wa.slice();
    const g = new Float32Array(n);
    const zero = new Float32Array(n);
    for (let step = 0; step < 20; step++) {
      for (let k = 0; k < n; k++) g[k] = rng.gaussian() * (k % 7 === 0 ? 0 : 1);
      a.step(wa, g, boosted.lr, step % 2 === 0 ? zero : null);
      b.step(wb, g, plain.lr, null);
    }
    t.deepEqual(Array.from(wa), Array.from(wb));
    t.true(wa.some((v, k) => v !== 0 && k > 0), 'the optimizers did move');
  });
}

test('a non-zero Δw changes the boosted step (so the equality above can fail)', (t) => {
  const a = optimizer({ name: 'boosted-sgd', lr: 0.1 }, 2);
  const b = optimizer({ name: 'sgd', lr: 0.1 }, 2);
  const wa = new Float32Array([1, 1]);
  const wb = new Float32Array([1, 1]);
  const g = new Float32Array([1, 2]);
  a.step(wa, g, 0.1, new Float32Array([0.1, 0.3]));
  b.step(wb, g, 0.1, null);
  t.notDeepEqual(Array.from(wa), Array.from(wb));
});

test('the AdaGrad accumulator never decreases under boosting with λ < 1', (t) => {
  const n = 64;
  const rng = new Rng(9);
  const opt = optimizer({ name: 'boosted-adagrad', lr: 0.1, lambda: 0.9 }, n);
  const w = new Float32Array(n);
  const g = new Float32Array(n);
  const dw = new Float32Array(n);
  let before = Float32Array.from(opt.buffers.accumulator!);
  for (let s = 0; s < 30; s++) {
    for (let k = 0; k < n; k++) {
      g[k] = rng.gaussian();
      dw[k] = rng.gaussian();
    }
    opt.step(w, g, 0.1, dw);
    const now = opt.buffers.accumulator!;
    t.true(now.every((v, k) => v >= before[k]!), `step ${s}`);
    before = Float32Array.from(now);
  }
});

test('optimizer configs: clear errors for unknown names, misplaced and non-finite hyper-parameters', (t) => {
  t.is(t.throws(() => validateOptimizerConfig({ name: 'adamw', lr: 0.1 }))?.constructor.name, 'UnknownNameError');
  t.regex(t.throws(() => validateOptimizerConfig({ name: 'adamw', lr: 0.1 }))!.message, /unknown optimizer 'adamw'; known: sgd, momentum/);
  t.is((t.throws(() => validateOptimizerConfig({ name: 'sgd', lr: NaN })) as { code?: string }).code, 'ERR_ASGD_INVALID_OPTION');
  t.regex(t.throws(() => validateOptimizerConfig({ name: 'sgd', lr: Infinity }))!.message, /optimizer\.lr: must be finite/);
  t.regex(t.throws(() => validateOptimizerConfig({ name: 'sgd', lr: 0 }))!.message, /optimizer\.lr: must be > 0/);
  t.regex(t.throws(() => validateOptimizerConfig({ name: 'sgd', lr: 0.1, momentum: 0.9 } as OptimizerConfig))!.message, /optimizer\.momentum: is not an option here/);
  t.regex(t.throws(() => validateOptimizerConfig({ name: 'adam', lr: 0.1, momentum2: 1 }))!.message, /momentum2: must be < 1/);
  t.regex(t.throws(() => validateOptimizerConfig({ name: 'boosted-sgd', lr: 0.1, boostSign: 2 as 1 }))!.message, /boostSign/);
  t.is((t.throws(() => validateOptimizerConfig({ name: 'momentum', lr: 0.1, momentum: 0 })) as { code?: string }).code, 'ERR_ASGD_INCOMPATIBLE');
  t.is((t.throws(() => validateOptimizerConfig({ name: 'rmsprop', lr: 0.1, delta: 0 })) as { code?: string }).code, 'ERR_ASGD_INCOMPATIBLE');
  const resolved = validateOptimizerConfig({ name: 'boosted-adagrad', lr: 0.1 });
  t.like(resolved, { initialAccumulator: 0.1, deltaInside: true, lambda: 0.3, boostSign: 1 });
});
