/**
 * ASGD's window and mix arithmetic (ALGORITHMS.md §1, ALGORITHMS-DETAIL §1.8 tests 1–3): the cheap
 * form of the Parzen test agrees with the literal one, the worked example, a zero gradient accepts
 * nothing, states along −Δ pass and along +Δ fail.
 */
import test from 'ava';
import { Rng } from '../runtime/asgd/rng.js';
import { addInto, mixSgd, pull, squaredNorm, windowAccepts, windowAcceptsLiteral, windowDot } from '../runtime/asgd/solvers/window.js';

const accepts = (g: Float32Array, w: Float32Array, s: Float32Array, lr: number): boolean => windowAccepts(windowDot(g, w, s), lr, squaredNorm(g));

test('cheap window form equals the literal one on random vectors (near-ties excluded)', (t) => {
  const rng = new Rng(2);
  let compared = 0;
  let acceptedCount = 0;
  for (let trial = 0; trial < 2000; trial++) {
    const n = 1 + rng.int(20);
    const g = Float32Array.from({ length: n }, () => rng.gaussian());
    const w = Float32Array.from({ length: n }, () => rng.gaussian());
    const s = Float32Array.from({ length: n }, () => rng.gaussian());
    const lr = 0.01 + rng.uniform();
    const margin = windowDot(g, w, s) - 0.5 * lr * squaredNorm(g);
    if (Math.abs(margin) < 1e-4) continue;
    compared++;
    const cheap = accepts(g, w, s, lr);
    if (cheap) acceptedCount++;
    t.is(cheap, windowAcceptsLiteral(g, w, s, lr), `trial ${trial}`);
  }
  t.true(compared > 1900 && acceptedCount > 300 && acceptedCount < compared - 300, `${compared} compared, ${acceptedCount} accepted`);
});

test('worked example: ε = 0.1, w = (1,0), g = (1,0)', (t) => {
  const w0 = new Float32Array([1, 0]);
  const g = new Float32Array([1, 0]);
  const lr = 0.1;
  const origin = new Float32Array([0, 0]);
  const far = new Float32Array([2, 0]);
  t.true(accepts(g, w0, origin, lr), '(0,0) is accepted: 0.81 < 1');
  t.false(accepts(g, w0, far, lr), '(2,0) is rejected');
  const one = w0.slice();
  mixSgd(one, g, origin, 1, lr, lr);
  t.true(Math.abs(one[0]! - 0.85) < 1e-7 && one[1] === 0, `one state: ${Array.from(one)}`);
  // (2,0) rejected: the plain step
  const none = w0.slice();
  for (let k = 0; k < 2; k++) none[k] = none[k]! - lr * g[k]!;
  t.true(Math.abs(none[0]! - 0.9) < 1e-7);
  // both (0,0) and (0,1) pass; w̄ = (1/3, 1/3)
  const up = new Float32Array([0, 1]);
  t.true(accepts(g, w0, up, lr));
  const sum = origin.slice();
  addInto(sum, up);
  const two = w0.slice();
  mixSgd(two, g, sum, 2, lr, lr);
  t.true(Math.abs(two[0]! - 0.8333333) < 1e-6 && Math.abs(two[1]! - 0.0333333) < 1e-6, `two states: ${Array.from(two)}`);
});

test('a zero gradient accepts nothing', (t) => {
  const rng = new Rng(3);
  const g = new Float32Array(5);
  const w = Float32Array.from({ length: 5 }, () => rng.gaussian());
  for (let i = 0; i < 50; i++) {
    const s = Float32Array.from({ length: 5 }, () => rng.gaussian());
    t.false(accepts(g, w, s, 0.5));
  }
  t.false(accepts(g, w, w.slice(), 0.5), 'not even a copy of w');
});

test('states along −Δ beyond ε/2 pass, states along +Δ never do', (t) => {
  const rng = new Rng(4);
  const lr = 0.2;
  for (let trial = 0; trial < 100; trial++) {
    const g = Float32Array.from({ length: 8 }, () => rng.gaussian());
    const w = Float32Array.from({ length: 8 }, () => rng.gaussian());
    const c = lr / 2 + 0.01 + rng.uniform();
    const along = (sign: number): Float32Array => w.map((v, k) => v + sign * c * g[k]!);
    t.true(accepts(g, w, along(-1), lr), 'w − cΔ');
    t.false(accepts(g, w, along(+1), lr), 'w + cΔ');
  }
  const g = new Float32Array([1, 1]);
  const w = new Float32Array([0, 0]);
  t.false(accepts(g, w, new Float32Array([-0.05, -0.05]), 0.2), 'along −Δ but closer than ε/2: the step overshoots it');
});

test('non-finite states give a non-finite window dot product (the solver rejects them)', (t) => {
  const g = new Float32Array([0, 1, 0]);
  const w = new Float32Array([1, 1, 1]);
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (let pos = 0; pos < 3; pos++) {
      const s = new Float32Array([0, 0, 0]);
      s[pos] = bad;
      t.false(Number.isFinite(windowDot(g, w, s)), `${bad} at ${pos}`);
    }
  }
});

test('mix variants: the pull alone, replace, and a separate mix rate', (t) => {
  const w = new Float32Array([1, 3]);
  const sum = new Float32Array([3, 1]); // one accepted state (3, 1): w̄ = (2, 2)
  const dw = new Float32Array(2);
  const pulled = w.slice();
  pull(pulled, sum, 1, 0.5, false, dw);
  t.deepEqual(Array.from(pulled), [1.5, 2.5]);
  t.deepEqual(Array.from(dw), [0.5, -0.5]);
  const replaced = w.slice();
  pull(replaced, sum, 1, 0.5, true, null);
  t.deepEqual(Array.from(replaced), [2, 2]);
  const mixed = w.slice();
  mixSgd(mixed, new Float32Array([1, 1]), sum, 1, 0.1, 0.5);
  t.deepEqual(Array.from(mixed), [Math.fround(1 + 0.5 - 0.1), Math.fround(3 - 0.5 - 0.1)]);
});
