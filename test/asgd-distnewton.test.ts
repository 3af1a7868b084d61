/**
 * DistNewton (ALGORITHMS.md §4): the step on a quadratic against the exact solve, the properties of
 * the approximation (orthonormal u_k, H⁻¹ maps A·Θ back to Θ, identity on the complement), the j = 0
 * fallback, and the solver: far fewer rounds than SGD on an ill-conditioned quadratic, averaged SGD
 * when nothing is kept, convergence on 1, 2 and 4 ranks.
 */
import test from 'ava';
import { choleskySolve } from '../runtime/asgd/models/least-squares.js';
import { syntheticOptimum, syntheticProblem, type SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';
import { Rng, Stream } from '../runtime/asgd/rng.js';
import { applyInverseHessian, distNewtonStep } from '../runtime/asgd/solvers/distnewton-math.js';
import { distance, maxAbsDiff, solverJob } from './fixtures/asgd-lib.js';

const A = Float64Array.from([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]);
const b = Float64Array.from([1, -2, 0.5]);
const gradient = (theta: ArrayLike<number>): Float64Array => Float64Array.from({ length: 3 }, (_, i) => A[3 * i]! * theta[0]! + A[3 * i + 1]! * theta[1]! + A[3 * i + 2]! * theta[2]! - b[i]!);
const thetas = [[0.3, -1, 2], [1, 0.5, -0.5], [-0.7, 0.2, 0.1], [0.4, 1.5, 1.2], [2, -0.3, 0.6]].map((v) => Float64Array.from(v));

test('on ½xᵀAx − bᵀx with exact gradients (n = 3, m = 5, λ = 1e-6, τ = 1) the step lands on A⁻¹b', (t) => {
  const step = distNewtonStep(thetas, thetas.map(gradient), 1e-6);
  t.is(step.kept, 3);
  const next = step.thetaBar.map((v, i) => v - step.direction[i]!);
  const exact = choleskySolve(A, b, 3);
  t.true(maxAbsDiff(next, exact) < 1e-12, `error ${maxAbsDiff(next, exact)}`);
  t.true(step.sigma[3]! < 1e-6 * step.sigma[0]! && step.sigma[4]! < 1e-6 * step.sigma[0]!, `σ ${Array.from(step.sigma)}`);
});

test('the u_k are orthonormal, H⁻¹ maps A·(θ_k − θ̄) back to θ_k − θ̄, and is the identity off the span', (t) => {
  const two = thetas.slice(0, 3); // rank 2: one direction of R³ stays outside the span
  const step = distNewtonStep(two, two.map(gradient), 1e-9);
  t.is(step.kept, 2);
  for (let p = 0; p < step.kept; p++) {
    for (let q = 0; q < step.kept; q++) {
      const dot = step.u[p]!.reduce((s, v, i) => s + v * step.u[q]![i]!, 0);
      t.true(Math.abs(dot - (p === q ? 1 : 0)) < 1e-12, `u${p}·u${q} = ${dot}`);
    }
  }
  for (const th of two) {
    const delta = th.map((v, i) => v - step.thetaBar[i]!);
    const mapped = applyInverseHessian(step, gradient(th).map((v, i) => v - step.gBar[i]!));
    t.true(maxAbsDiff(mapped, delta) < 1e-12);
  }
  // a vector orthogonal to both u's
  const [u0, u1] = step.u as [Float64Array, Float64Array];
  const z = Float64Array.from([u0[1]! * u1[2]! - u0[2]! * u1[1]!, u0[2]! * u1[0]! - u0[0]! * u1[2]!, u0[0]! * u1[1]! - u0[1]! * u1[0]!]);
  t.true(maxAbsDiff(applyInverseHessian(step, z), z) < 1e-12);
});

test('j = 0: λ > 1, equal gradients, or one worker — the step is θ̄ − τḡ', (t) => {
  const grads = thetas.map(gradient);
  for (const [what, step] of [
    ['λ > 1', distNewtonStep(thetas, grads, 1.5)],
    ['equal gradients', distNewtonStep(thetas, thetas.map(() => Float64Array.from([1, 2, 3])), 0.1)],
    ['m = 1', distNewtonStep(thetas.slice(0, 1), grads.slice(0, 1), 0.1)],
  ] as const) {
    t.is(step.kept, 0, what);
    t.deepEqual(Array.from(step.direction), Array.from(step.gBar), what);
  }
});

const ILL: SyntheticArgs = { kind: 'leastsq', rows: 256, dim: 3, conditioning: 10, noise: 0.05, partition: 'replicated' };

test.serial('on an ill-conditioned quadratic DistNewton (4 ranks) reaches the optimum in a few rounds; gradient descent does not', async (t) => {
  const optimum = syntheticOptimum(ILL);
  const newton = await solverJob('threads', 4, {
    problem: ILL,
    config: { solver: 'distnewton', optimizer: { name: 'sgd', lr: 0.1 }, batchSize: 4, seed: 2, stop: { steps: 3 }, distnewton: { lambda: 1e-4, tau: 1, gradientBatch: 'full' } },
  });
  t.is(newton.ranks.length, 4, newton.stderr);
  for (const r of newton.ranks) t.deepEqual(r.params, newton.ranks[0]!.params, 'every rank holds the same θ');
  const d = distance(newton.ranks[0]!.params, optimum);
  t.true(d < 1e-3, `DistNewton after 3 rounds: ${d}`);
  const gd = await solverJob('threads', 1, {
    problem: ILL,
    config: { solver: 'sync', optimizer: { name: 'sgd', lr: 0.9 }, batchSize: 'full', seed: 2, stop: { steps: 30 } },
  });
  const dg = distance(gd.ranks[0]!.params, optimum);
  t.true(dg > 100 * d, `gradient descent after 30 steps is still ${dg} away`);
  t.log(`distance to the optimum: DistNewton after 3 rounds ${d.toExponential(2)}, gradient descent after 30 steps ${dg.toExponential(2)}`);
});

test.serial('with nothing kept (λ > 1) a round is averaged SGD: θ ← mean(θ_k) − τ·mean(g_k)', async (t) => {
  const args: SyntheticArgs = { kind: 'leastsq', rows: 64, dim: 4, noise: 0.1 };
  const rounds = 3;
  const out = await solverJob('threads', 2, {
    problem: args,
    config: { solver: 'distnewton', optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 4, seed: 4, stop: { steps: rounds }, distnewton: { lambda: 2, tau: 0.2 } },
  });
  t.is(out.ranks.length, 2, out.stderr);
  const parts = [0, 1].map((p) => syntheticProblem({ part: p, parts: 2, seed: 4, args }));
  const theta = new Float32Array(4);
  parts[0]!.model.init(theta, new Rng(4, Stream.Init));
  const g = new Float32Array(4);
  for (let r = 0; r < rounds; r++) {
    const mean = new Float64Array(4);
    const meanG = new Float64Array(4);
    for (const p of parts) {
      const local = theta.slice();
      p.model.gradient(local, p.data.next(4), g);
      for (let k = 0; k < 4; k++) local[k] = local[k]! - 0.05 * g[k]!;
      p.model.gradient(local, p.data.next(4), g);
      for (let k = 0; k < 4; k++) {
        mean[k] = mean[k]! + local[k]! / 2;
        meanG[k] = meanG[k]! + g[k]! / 2;
      }
    }
    for (let k = 0; k < 4; k++) theta[k] = mean[k]! - 0.2 * meanG[k]!;
  }
  t.true(maxAbsDiff(out.ranks[0]!.params, theta) < 1e-6, `difference ${maxAbsDiff(out.ranks[0]!.params, theta)}`);
});

for (const size of [1, 2, 4]) {
  test.serial(`distnewton converges to the least-squares optimum on ${size} rank${size > 1 ? 's' : ''}`, async (t) => {
    const args: SyntheticArgs = { kind: 'leastsq', rows: 512, dim: 8, l2: 0.01, noise: 0.1 };
    const out = await solverJob('threads', size, {
      problem: args,
      config: { solver: 'distnewton', optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 8, seed: 1, stop: { steps: 600 }, distnewton: { lambda: 0.1, tau: 0.05, boundStep: true } },
    });
    t.is(out.ranks.length, size, out.stderr);
    const optimum = syntheticOptimum(args);
    for (const r of out.ranks) t.true(distance(r.params, optimum) < 0.06, `rank ${r.rank}: ${distance(r.params, optimum)}`);
  });
}
