import test from 'ava';
import { Rng } from '../runtime/asgd/rng.js';
import { gemmReference, gemmTs } from '../cnn/math/gemm-ts.js';
import { kernels, loadNativeKernels, selectKernels, TS_KERNELS, type GemmFn } from '../cnn/math/blas.js';
import { col2im, convOutputSize, im2col, type ConvGeometry } from '../cnn/math/im2col.js';

function random(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => 2 * rng.uniform() - 1);
}

function checkGemm(t: { true: (c: boolean, m?: string) => void }, gemm: GemmFn, label: string): void {
  const rng = new Rng(5);
  const sizes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [4, 4, 4], [13, 17, 300], [50, 64, 500], [64, 500, 800], [2, 530, 3], [33, 9, 257]];
  for (const [M, N, K] of sizes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const [alpha, beta] of [[1, 0], [0.5, 1], [-2, 0.25]] as const) {
          const aOff = 3, bOff = 5, cOff = 7;
          const A = random(aOff + M * K, rng);
          const B = random(bOff + K * N, rng);
          const C = random(cOff + M * N + 4, rng);
          const expect = Float64Array.from(C);
          gemmReference(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, expect, cOff);
          gemm(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff);
          let worst = 0;
          for (let i = 0; i < C.length; i++) worst = Math.max(worst, Math.abs(C[i]! - expect[i]!) / (1 + Math.abs(expect[i]!)));
          t.true(worst < 1e-5 * Math.sqrt(K), `${label} ${M}×${N}×${K} transA=${transA} transB=${transB} α=${alpha} β=${beta}: error ${worst}`);
          t.true(C[0] === C[0] && C[cOff - 1] !== undefined);
        }
      }
    }
  }
}

test('TypeScript GEMM matches the reference for every transpose, odd sizes, offsets, alpha and beta', (t) => {
  checkGemm(t, gemmTs, 'ts');
});

test('GEMM leaves everything outside C untouched', (t) => {
  const C = new Float32Array(20).fill(9);
  gemmTs(false, false, 2, 3, 4, 1, new Float32Array(8).fill(1), 0, new Float32Array(12).fill(1), 0, 0, C, 5);
  t.deepEqual(Array.from(C), [9, 9, 9, 9, 9, 4, 4, 4, 4, 4, 4, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
});

test('the native GEMM (when built) matches the reference; the choice is reported', (t) => {
  const native = loadNativeKernels();
  if (!native) {
    t.is(selectKernels('typescript'), TS_KERNELS);
    t.is(kernels().path, 'typescript');
    t.throws(() => selectKernels('native'), { message: /not available/ });
    return;
  }
  checkGemm(t, native.gemm, 'native');
  t.is(selectKernels('native').path, 'native');
  t.is(selectKernels('auto').path, process.env.CNN_KERNELS === 'typescript' ? 'typescript' : 'native');
  t.is(selectKernels('typescript').path, 'typescript');
  t.throws(() => native.gemm(false, false, 4, 4, 4, 1, new Float32Array(15), 0, new Float32Array(16), 0, 0, new Float32Array(16), 0), { message: /matrix A .* exceeds its array of 15/ });
});

test('im2col and col2im: hand case, and col2im is the adjoint of im2col', (t) => {
  const g: ConvGeometry = { channels: 1, height: 3, width: 3, kernelH: 2, kernelW: 2, padH: 0, padW: 0, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, outH: 2, outW: 2 };
  const col = new Float32Array(16);
  im2col(g, Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 0, col, 0);
  t.deepEqual(Array.from(col), [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9]);
  const rng = new Rng(3);
  const h: ConvGeometry = { channels: 2, height: 5, width: 6, kernelH: 3, kernelW: 2, padH: 1, padW: 2, strideH: 2, strideW: 1, dilationH: 1, dilationW: 2, outH: 0, outW: 0 };
  h.outH = convOutputSize(5, 3, 1, 2, 1);
  h.outW = convOutputSize(6, 2, 2, 1, 2);
  const x = random(60, rng);
  const y = random(2 * 3 * 2 * h.outH * h.outW, rng);
  const cx = new Float32Array(y.length);
  im2col(h, x, 0, cx, 0);
  const ay = new Float32Array(60);
  col2im(h, y, 0, ay, 0);
  let lhs = 0, rhs = 0;
  for (let i = 0; i < y.length; i++) lhs += cx[i]! * y[i]!;
  for (let i = 0; i < 60; i++) rhs += x[i]! * ay[i]!;
  t.true(Math.abs(lhs - rhs) < 1e-4, `${lhs} vs ${rhs}`);
});
