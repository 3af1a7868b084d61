/**
 * The native kernel path of the CNN (cnn/native, built at install by pgas/native/build.mjs): chosen when
 * built, equal to the TypeScript kernels loop by loop, close to them through a whole LeNet iteration,
 * overridable with CNN_KERNELS=typescript, and the install-time build skips cleanly, with a reason,
 * without stopping the other addon.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernels, kernelsReport, loadNativeKernels, nativeUnavailableReason, selectKernels, TS_KERNELS, type Kernels } from '../cnn/math/blas.js';
import { convOutputSize, type ConvGeometry } from '../cnn/math/im2col.js';
import type { PoolGeometry } from '../cnn/math/pool-kernels.js';
import { poolOutputSize } from '../cnn/layers/pooling.js';
import { Net } from '../cnn/net.js';
import { Rng } from '../runtime/asgd/rng.js';
import { lenetText, tempDir, writeSyntheticIdx } from './fixtures/cnn-data.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADDON = join(ROOT, 'cnn/native/build/Release/cnn_blas.node');
const native = loadNativeKernels();

function random(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => 2 * rng.uniform() - 1);
}

function geometries(): ConvGeometry[] {
  const shapes: [number, number, number, number, number, number, number, number, number, number, number][] = [
    // channels, height, width, kh, kw, padH, padW, strideH, strideW, dilationH, dilationW
    [1, 28, 28, 5, 5, 0, 0, 1, 1, 1, 1], // LeNet conv1
    [20, 12, 12, 5, 5, 0, 0, 1, 1, 1, 1], // LeNet conv2
    [3, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1],
    [2, 10, 11, 3, 2, 2, 1, 2, 3, 1, 2],
    [4, 6, 6, 1, 1, 0, 0, 2, 2, 1, 1],
  ];
  return shapes.map(([channels, height, width, kernelH, kernelW, padH, padW, strideH, strideW, dilationH, dilationW]) => ({
    channels, height, width, kernelH, kernelW, padH, padW, strideH, strideW, dilationH, dilationW,
    outH: convOutputSize(height, kernelH, padH, strideH, dilationH), outW: convOutputSize(width, kernelW, padW, strideW, dilationW),
  }));
}

test('the native path is chosen when built, and the report says which path runs and why', (t) => {
  const built = existsSync(ADDON);
  if (!built) {
    t.is(native, null);
    t.regex(nativeUnavailableReason(), /not built/);
    t.is(selectKernels('auto').path, 'typescript');
    t.regex(kernelsReport(), /native unavailable: .*not built/);
    t.throws(() => selectKernels('native'), { message: /not available/ });
    return;
  }
  t.truthy(native, `the addon exists but did not load: ${nativeUnavailableReason()}`);
  t.true(native!.nativeKernels.includes('gemm') && native!.nativeKernels.includes('im2col'));
  const before = process.env.CNN_KERNELS;
  delete process.env.CNN_KERNELS;
  try {
    t.is(selectKernels('auto').path, 'native');
    t.regex(kernelsReport(), /^kernels: native \(OpenBLAS .*1 thread/);
    process.env.CNN_KERNELS = 'typescript';
    t.is(selectKernels('auto').path, 'typescript');
    t.regex(kernelsReport(), /^kernels: typescript \(chosen; native available/);
  } finally {
    if (before === undefined) delete process.env.CNN_KERNELS;
    else process.env.CNN_KERNELS = before;
    selectKernels('typescript');
  }
  t.is(kernels(), TS_KERNELS);
});

test('native im2col / col2im / layout / MAX pooling equal the TypeScript loops exactly', (t) => {
  if (!native) return t.pass(`native kernels unavailable: ${nativeUnavailableReason()}`);
  const rng = new Rng(11);
  const both = (f: (k: Kernels) => Float32Array | Int32Array): [Float32Array | Int32Array, Float32Array | Int32Array] => [f(TS_KERNELS), f(native)];
  for (const g of geometries()) {
    const n = 3;
    const inSize = g.channels * g.height * g.width;
    const P = g.outH * g.outW;
    const rows = g.channels * g.kernelH * g.kernelW;
    const ld = n * P + 5; // wider rows than needed: the loops must honour ld
    const im = random(2 + n * inSize, rng);
    const [a, b] = both((k) => {
      const col = new Float32Array(3 + rows * ld).fill(7);
      k.im2colBatch(g, n, im, 2, col, 3, ld);
      return col;
    });
    t.deepEqual(b, a, `im2col ${JSON.stringify(g)}`);
    const col = random(3 + rows * ld, rng);
    const [c, d] = both((k) => {
      const out = new Float32Array(1 + n * inSize).fill(9);
      k.col2imBatch(g, n, col, 3, ld, out, 1);
      return out;
    });
    t.deepEqual(d, c, `col2im ${JSON.stringify(g)}`);
    t.is(d[0], 9, 'col2im leaves values before imOff alone');
  }
  const O = 6, n = 4, P = 10;
  const src = random(O * n * P, rng);
  const bias = random(O, rng);
  for (const withBias of [bias, null]) {
    const [e, f] = both((k) => {
      const dst = new Float32Array(5 + O * n * P);
      k.scatterRows(src, O, n, P, withBias, dst, 5);
      return dst;
    });
    t.deepEqual(f, e);
  }
  const nchw = random(5 + O * n * P, rng);
  const [gA, gB] = both((k) => {
    const dst = new Float32Array(O * n * P);
    k.gatherRows(nchw, 5, O, n, P, dst);
    return dst;
  });
  t.deepEqual(gB, gA);
  // MAX pooling: LeNet's 2×2/2 fast path, overlapping windows, padding, and ties (first maximum wins)
  const pools: [number, number, number, number, number][] = [[24, 24, 2, 2, 0], [12, 12, 2, 2, 0], [7, 9, 3, 2, 1], [8, 8, 3, 3, 0], [5, 5, 2, 2, 0]];
  for (const [H, W, kernel, stride, pad] of pools) {
    const p: PoolGeometry = {
      planes: 5, height: H, width: W, outH: poolOutputSize(H, kernel, pad, stride), outW: poolOutputSize(W, kernel, pad, stride),
      kernelH: kernel, kernelW: kernel, strideH: stride, strideW: stride, padH: pad, padW: pad,
    };
    // a few distinct values: many ties
    const x = Float32Array.from({ length: p.planes * H * W }, () => Math.floor(4 * rng.uniform()) - 2);
    const outCount = p.planes * p.outH * p.outW;
    const results = [TS_KERNELS, native].map((k) => {
      const y = new Float32Array(outCount);
      const mask = new Int32Array(outCount);
      k.maxPoolForward(p, x, y, mask);
      const dy = Float32Array.from({ length: outCount }, (_, i) => i + 1);
      const dx = new Float32Array(x.length).fill(3);
      k.maxPoolBackward(dy, outCount, mask, dx, x.length);
      return { y, mask, dx };
    });
    t.deepEqual(results[1]!.y, results[0]!.y, `pool ${H}×${W} k${kernel} s${stride} p${pad}`);
    t.deepEqual(results[1]!.mask, results[0]!.mask);
    t.deepEqual(results[1]!.dx, results[0]!.dx);
    // the first maximum of the window, by a plain scan (the ground truth for the tie rule)
    const o = p.outW + 1 < outCount ? p.outW + 1 : 0;
    const oy = Math.floor(o / p.outW) % p.outH, ox = o % p.outW;
    let best = -Infinity, arg = -1;
    for (let h = Math.max(0, oy * stride - pad); h < Math.min(H, oy * stride - pad + kernel); h++) {
      for (let w = Math.max(0, ox * stride - pad); w < Math.min(W, ox * stride - pad + kernel); w++) {
        if (x[h * W + w]! > best) {
          best = x[h * W + w]!;
          arg = h * W + w;
        }
      }
    }
    t.is(results[1]!.mask[o], arg);
  }
});

test('native kernels reject ranges outside their arrays with a RangeError', (t) => {
  if (!native) return t.pass(`native kernels unavailable: ${nativeUnavailableReason()}`);
  const g = geometries()[1]!;
  t.throws(() => native.im2colBatch(g, 2, new Float32Array(10), 0, new Float32Array(1 << 20), 0, 2 * 64), { message: /image.*exceeds/ });
  t.throws(() => native.col2imBatch(g, 2, new Float32Array(100), 0, 2 * 64, new Float32Array(2 * 2880), 0), { message: /columns.*exceeds/ });
  t.throws(() => native.scatterRows(new Float32Array(12), 2, 2, 3, null, new Float32Array(11), 0), { message: /destination.*exceeds/ });
  const p: PoolGeometry = { planes: 2, height: 4, width: 4, outH: 2, outW: 2, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 };
  t.throws(() => native.maxPoolForward(p, new Float32Array(31), new Float32Array(8), new Int32Array(8)), { message: /input.*exceeds/ });
});

test('a LeNet iteration on the native path agrees with the TypeScript path (loss, every gradient)', (t) => {
  if (!native) return t.pass(`native kernels unavailable: ${nativeUnavailableReason()}`);
  const dir = tempDir('cnn-native-');
  const train = writeSyntheticIdx(dir, 'train', 64, { seed: 3 });
  const testSet = writeSyntheticIdx(dir, 't10k', 32, { seed: 4 });
  writeFileSync(join(dir, 'net.prototxt'), lenetText(train, testSet, 32, 32));
  const run = (path: 'typescript' | 'native'): { loss: number; grads: Float32Array } => {
    selectKernels(path);
    try {
      const net = Net.fromFile(join(dir, 'net.prototxt'), { phase: 'TRAIN' });
      net.initParams(new Rng(1, 2));
      net.clearGrads();
      const loss = net.forwardBackward();
      return { loss, grads: Float32Array.from(net.grads) };
    } finally {
      selectKernels('typescript');
    }
  };
  const a = run('typescript');
  const b = run('native');
  t.true(Number.isFinite(a.loss) && a.loss > 0);
  t.true(Math.abs(a.loss - b.loss) < 1e-5 * (1 + a.loss), `loss ${a.loss} vs ${b.loss}`);
  let worst = 0, scale = 0;
  for (let i = 0; i < a.grads.length; i++) {
    worst = Math.max(worst, Math.abs(a.grads[i]! - b.grads[i]!));
    scale = Math.max(scale, Math.abs(a.grads[i]!));
  }
  t.true(scale > 0);
  t.true(worst < 1e-4 * scale, `largest gradient difference ${worst} (largest gradient ${scale})`);
});

test('cnn info through bin/cnn.js: native by default when built, TypeScript with CNN_KERNELS=typescript', (t) => {
  const info = (env: Record<string, string>): string => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/cnn.js'), 'info'], { encoding: 'utf8', env: { ...process.env, CNN_KERNELS: '', ...env }, timeout: 60_000 });
    t.is(r.status, 0, r.stderr);
    return r.stdout;
  };
  const ts = info({ CNN_KERNELS: 'typescript' });
  t.regex(ts, /^kernels: typescript/m);
  const auto = info({});
  if (native) {
    t.regex(auto, /^kernels: native — OpenBLAS .*\(native: gemm, im2col/m);
    t.regex(ts, /^native: OpenBLAS/m);
  } else {
    t.regex(auto, /^kernels: typescript/m);
    t.regex(auto, /^native: unavailable \(.*not built/m);
  }
});

/** A scratch copy of the package's native build inputs, so that a build there cannot disturb this tree. */
function scratchPackage(withCnn: boolean): string {
  const root = tempDir('cnn-native-build-');
  mkdirSync(join(root, 'pgas/native'), { recursive: true });
  copyFileSync(join(ROOT, 'pgas/native/build.mjs'), join(root, 'pgas/native/build.mjs'));
  if (withCnn) {
    mkdirSync(join(root, 'cnn/native'), { recursive: true });
    for (const f of ['blas.cc', 'binding.gyp']) copyFileSync(join(ROOT, 'cnn/native', f), join(root, 'cnn/native', f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  // no root binding.gyp here: the UCX build fails (or skips) on its own, which must not stop the CNN's
  return root;
}

function runBuild(root: string, env: Record<string, string>): { status: number | null; stderr: string; status_json: { built: boolean; reason: string } | null } {
  const r = spawnSync(process.execPath, [join(root, 'pgas/native/build.mjs')], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  const file = join(root, 'cnn/native/build/status.json');
  return { status: r.status, stderr: r.stderr, status_json: existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null };
}

test('install-time build: OpenBLAS that does not link is skipped with a reason, exit 0, and the UCX part still runs', (t) => {
  const root = scratchPackage(true);
  const r = runBuild(root, { CC: '/bin/false' });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /^pgas native: /m, 'the UCX addon was still attempted');
  if (!r.status_json) return t.fail(r.stderr);
  t.false(r.status_json.built);
  // either no OpenBLAS on this machine, or the link test with a compiler that always fails
  t.regex(r.status_json.reason, /OpenBLAS not found|does not link/);
  t.regex(r.stderr, /^cnn native: .*TypeScript kernels/m);
  t.false(existsSync(join(root, 'cnn/native/build/Release/cnn_blas.node')));
  const skipped = runBuild(root, { CNN_NATIVE_SKIP: '1' });
  t.is(skipped.status, 0);
  t.is(skipped.status_json?.reason, 'skipped (CNN_NATIVE_SKIP=1)');
});

test('install-time build: builds cnn_blas.node where OpenBLAS is installed, although the UCX build fails beside it', (t) => {
  const openblas = spawnSync('pkg-config', ['--exists', 'openblas']).status === 0 || existsSync('/usr/include/x86_64-linux-gnu/cblas.h');
  if (!openblas) return t.pass('OpenBLAS is not installed here');
  const root = scratchPackage(true);
  const r = runBuild(root, {});
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /^pgas native: /m);
  t.true(r.status_json?.built, r.stderr);
  const addon = join(root, 'cnn/native/build/Release/cnn_blas.node');
  t.true(existsSync(addon));
  // the fresh binary loads and multiplies
  const check = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addon)}); a.setThreads(1);
    const c = new Float32Array(1); a.gemm(false, false, 1, 1, 2, 1, Float32Array.of(2, 3), 0, Float32Array.of(4, 5), 0, 0, c, 0); console.log(c[0])`], { encoding: 'utf8' });
  t.is(check.stdout.trim(), '23', check.stderr);
});

test('install-time build without the CNN sources skips it and still exits 0', (t) => {
  const root = scratchPackage(false);
  const r = runBuild(root, {});
  t.is(r.status, 0);
  t.regex(r.stderr, /cnn native: cnn\/native\/binding\.gyp is missing/);
});
