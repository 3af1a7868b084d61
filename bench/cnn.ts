/**
 * CNN benchmarks (`npm run bench -- cnn`, entry bench/cnn-main.ts): Caffe's LeNet, batch 64, one process
 * on one core (one BLAS thread).
 *
 * Stable exports (a `kernels` benchmark suite imports these; keep their names and shapes):
 *   - measureLenet(path, { seconds?, batch? }) -> LenetThroughput
 *       LeNet images/s on one kernel path: `train` (forward + backward + SGD update, what a training
 *       iteration costs), `forwardBackward` (forward + backward, no update), `inference` (forward of
 *       the TEST net, no loss gradients); `gemmGflops` is train × the GEMM FLOP of an image, the rate
 *       the whole iteration achieves as if it were all GEMM.
 *   - measureGemm(path, { seconds?, shapes? }) -> GemmFigure[]
 *       GEMM GFLOP/s of a path on LeNet's GEMM shapes at batch 64 (LENET_GEMM_SHAPES) plus a square
 *       512³ reference (REFERENCE_GEMM_SHAPE), the closest this path gets to its peak on this machine.
 *   - availablePaths() -> KernelPath[]: 'typescript', plus 'native' when the addon is built.
 *   - LENET_GEMM_SHAPES, REFERENCE_GEMM_SHAPE, lenetGemmFlopsPerImage(batch).
 * Every figure is measured, never asserted; on a shared machine, compare the ratios taken in one run
 * (LeNet against the 512³ GEMM of the same path) rather than absolute values across runs.
 *
 * runCnnBench / runCnnAsgdBench / formatCnnTable build the `cnn` suite's table and JSON records on top.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeIdx } from '../cnn/data/idx.js';
import { kernels as activeKernels, loadNativeKernels, nativeUnavailableReason, selectKernels, type KernelPath } from '../cnn/math/blas.js';
import { parseSolverText } from '../cnn/solver/solver-config.js';
import { Solver } from '../cnn/solver/solver.js';
import { Rng } from '../runtime/asgd/rng.js';
import { measurePytorchLenet } from './baselines/pytorch.js';

export interface CnnBenchOptions {
  /** seconds per throughput measurement (default 5; quick: 1) */
  seconds?: number;
  /** short throughput runs and no accuracy run (a smoke run) */
  quick?: boolean;
  /** kernel paths to measure (default: every available one) */
  paths?: KernelPath[];
  /** epochs after which to report Fashion-MNIST accuracy (default [1, 5]; [] skips; quick: []) */
  epochs?: number[];
  /** directory of the Fashion-MNIST .gz files (default Debian's /usr/share/datasets/fashion-mnist) */
  fashionDir?: string;
  /** measure PyTorch's LeNet in the same run as the reference (default true; needs python3-torch) */
  pytorch?: boolean;
  log?: (line: string) => void;
}

export interface CnnBenchRecord {
  suite: 'cnn';
  name: string;
  path: KernelPath;
  batch: number;
  value: number;
  unit: string;
  reference?: { value: number; unit: string; what: string };
  note?: string;
}

const PYTORCH_TRAIN = { value: 4300, unit: 'images/s', what: 'PyTorch 1.13, 1 thread, same net and solver' };
const PYTORCH_ACC1 = { value: 0.825, unit: 'accuracy', what: 'PyTorch 1.13, Fashion-MNIST, 1 epoch' };
const LENET = fileURLToPath(new URL('../../cnn/examples/mnist/lenet_train_test.prototxt', import.meta.url));
export const DEFAULT_FASHION = '/usr/share/datasets/fashion-mnist';

export interface GemmShape {
  name: string;
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
}

/** The GEMMs of one LeNet training iteration at batch 64 (convolutions batched over the 64 images). */
export const LENET_GEMM_SHAPES: readonly GemmShape[] = Object.freeze([
  { name: 'conv1 forward', transA: false, transB: false, M: 20, N: 36864, K: 25 },
  { name: 'conv1 weight gradient', transA: false, transB: true, M: 20, N: 25, K: 36864 },
  { name: 'conv2 forward', transA: false, transB: false, M: 50, N: 4096, K: 500 },
  { name: 'conv2 weight gradient', transA: false, transB: true, M: 50, N: 500, K: 4096 },
  { name: 'conv2 data gradient', transA: true, transB: false, M: 500, N: 4096, K: 50 },
  { name: 'ip1 forward', transA: false, transB: true, M: 64, N: 500, K: 800 },
  { name: 'ip1 weight gradient', transA: true, transB: false, M: 500, N: 800, K: 64 },
  { name: 'ip1 data gradient', transA: false, transB: false, M: 64, N: 800, K: 500 },
  { name: 'ip2 forward', transA: false, transB: true, M: 64, N: 10, K: 500 },
  { name: 'ip2 weight gradient', transA: true, transB: false, M: 10, N: 500, K: 64 },
  { name: 'ip2 data gradient', transA: false, transB: false, M: 64, N: 500, K: 10 },
]);

/** A square GEMM: about the best rate a path reaches on this machine, the baseline of the same run. */
export const REFERENCE_GEMM_SHAPE: GemmShape = Object.freeze({ name: 'square reference', transA: false, transB: false, M: 512, N: 512, K: 512 });

/** GEMM FLOP of one training image (forward + backward; conv1 has no data gradient): about 13.2 M. */
export function lenetGemmFlopsPerImage(): number {
  return LENET_GEMM_SHAPES.reduce((sum, g) => sum + 2 * g.M * g.N * g.K, 0) / 64;
}

export function availablePaths(): KernelPath[] {
  return loadNativeKernels() ? ['typescript', 'native'] : ['typescript'];
}

/** Run `body` with the kernels of `path` active, then restore the previous choice. */
function withPath<T>(path: KernelPath, body: () => T): T {
  const before = activeKernels().path;
  selectKernels(path);
  try {
    return body();
  } finally {
    selectKernels(before);
  }
}

/** LeNet definition text over the given IDX image files (Caffe's file, sources replaced). */
function lenetDefinition(train: string, test: string, testBatch: number, shuffle: boolean, trainBatch = 64): string {
  return readText(LENET)
    .replace('data/train-images-idx3-ubyte', train)
    .replace('data/t10k-images-idx3-ubyte', test)
    .replace('batch_size: 64', `batch_size: ${trainBatch}`)
    .replace('batch_size: 100', `batch_size: ${testBatch}`)
    .replace('backend: LMDB', shuffle ? 'backend: IDX\n    shuffle: true' : 'backend: IDX');
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

/** Random MNIST-shaped data when Fashion-MNIST is missing (throughput does not depend on the pixels). */
function syntheticData(dir: string): { train: string; test: string } {
  const rng = new Rng(1, 77);
  const write = (name: string, n: number): string => {
    const img = Uint8Array.from({ length: n * 784 }, () => rng.int(256));
    const lab = Uint8Array.from({ length: n }, () => rng.int(10));
    writeFileSync(join(dir, `${name}-images-idx3-ubyte`), encodeIdx([n, 28, 28], img));
    writeFileSync(join(dir, `${name}-labels-idx1-ubyte`), encodeIdx([n], lab));
    return join(dir, `${name}-images-idx3-ubyte`);
  };
  return { train: write('train', 2048), test: write('t10k', 640) };
}

function benchData(dir: string, fashionDir: string): { train: string; test: string; note: string; fashion: boolean } {
  if (existsSync(join(fashionDir, 'train-images-idx3-ubyte.gz'))) {
    return { train: join(fashionDir, 'train-images-idx3-ubyte.gz'), test: join(fashionDir, 't10k-images-idx3-ubyte.gz'), note: 'Fashion-MNIST', fashion: true };
  }
  return { ...syntheticData(dir), note: 'random 28×28 bytes (Fashion-MNIST not installed)', fashion: false };
}

function solverFor(definition: string, dir: string, maxIter: number, extra = ''): Solver {
  writeFileSync(join(dir, 'lenet.prototxt'), definition);
  return new Solver(parseSolverText(
    `net: "lenet.prototxt" base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005 lr_policy: "inv" gamma: 0.0001 power: 0.75
     max_iter: ${maxIter} snapshot: 0 snapshot_after_train: false display: 0 ${extra}`,
    join(dir, 'lenet_solver.prototxt'), dir,
  ));
}

/** Calls of `step` in about `seconds` of wall time, with the wall and the process CPU seconds they took. */
function timed(seconds: number, warmup: number, step: () => void): { calls: number; seconds: number; cpuSeconds: number } {
  for (let i = 0; i < warmup; i++) step();
  let calls = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  while ((performance.now() - start) / 1000 < seconds || calls < 3) {
    step();
    calls++;
  }
  const cpu = process.cpuUsage(cpu0);
  return { calls, seconds: (performance.now() - start) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

export interface GemmFigure extends GemmShape {
  path: KernelPath;
  gflops: number;
}

/** GEMM GFLOP/s of one path on `shapes` (default: LeNet's and the 512³ reference). */
export function measureGemm(path: KernelPath, options: { seconds?: number; shapes?: readonly GemmShape[] } = {}): GemmFigure[] {
  const seconds = options.seconds ?? 1;
  return withPath(path, () => {
    const k = activeKernels();
    return (options.shapes ?? [...LENET_GEMM_SHAPES, REFERENCE_GEMM_SHAPE]).map((g) => {
      const rng = new Rng(3);
      const A = Float32Array.from({ length: g.M * g.K }, () => rng.uniform() - 0.5);
      const B = Float32Array.from({ length: g.K * g.N }, () => rng.uniform() - 0.5);
      const C = new Float32Array(g.M * g.N);
      const r = timed(seconds, 2, () => k.gemm(g.transA, g.transB, g.M, g.N, g.K, 1, A, 0, B, 0, 0, C, 0));
      return { ...g, path, gflops: (2 * g.M * g.N * g.K * r.calls) / r.seconds / 1e9 };
    });
  });
}

export interface LenetThroughput {
  path: KernelPath;
  /** the kernels' own description (BLAS, core type, native loops) */
  description: string;
  batch: number;
  /** images/s of whole training iterations: forward, backward, SGD update */
  train: number;
  /** the same per second of this process's CPU time: less disturbed when other jobs share the cores */
  trainPerCpuSecond: number;
  /** images/s of forward + backward without the update */
  forwardBackward: number;
  /** images/s of the TEST net's forward */
  inference: number;
  /** train × GEMM FLOP per image / 1e9: the iteration's rate as if it were all GEMM */
  gemmGflops: number;
  /** what the images were */
  data: string;
}

/** LeNet throughput on one path (Fashion-MNIST when installed, else random bytes of the same shape). */
export function measureLenet(path: KernelPath, options: { seconds?: number; batch?: number; fashionDir?: string } = {}): LenetThroughput {
  const seconds = options.seconds ?? 3;
  const batch = options.batch ?? 64;
  const dir = mkdtempSync(join(tmpdir(), 'cnn-bench-'));
  try {
    return withPath(path, () => {
      const data = benchData(dir, options.fashionDir ?? DEFAULT_FASHION);
      const solver = solverFor(lenetDefinition(data.train, data.test, batch, true, batch), dir, 1e9, 'test_iter: 1');
      const train = timed(seconds, 3, () => solver.step(1));
      const net = solver.net;
      const fb = timed(seconds, 1, () => {
        net.clearGrads();
        net.forwardBackward();
      });
      const test = solver.testNets[0]!;
      const infer = timed(seconds, 3, () => test.forward());
      const ips = (r: { calls: number; seconds: number }): number => (r.calls * batch) / r.seconds;
      return {
        path, description: activeKernels().description, batch, data: data.note,
        train: ips(train), trainPerCpuSecond: (train.calls * batch) / train.cpuSeconds, forwardBackward: ips(fb), inference: ips(infer),
        gemmGflops: (ips(train) * lenetGemmFlopsPerImage()) / 1e9,
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runCnnBench(options: CnnBenchOptions = {}): Promise<CnnBenchRecord[]> {
  const log = options.log ?? (() => {});
  const seconds = options.seconds ?? (options.quick ? 1 : 5);
  const available = availablePaths();
  const paths = (options.paths ?? available).filter((p) => available.includes(p));
  if (!available.includes('native')) log(`cnn bench: native kernels unavailable: ${nativeUnavailableReason()}`);
  const fashionDir = options.fashionDir ?? DEFAULT_FASHION;
  const records: CnnBenchRecord[] = [];
  // PyTorch measured here and now where python3-torch is installed; the quoted figure otherwise.
  let trainRef: CnnBenchRecord['reference'] = PYTORCH_TRAIN;
  let trainCpuRef: CnnBenchRecord['reference'] = PYTORCH_TRAIN;
  let inferRef: CnnBenchRecord['reference'];
  if (options.pytorch !== false) {
    const torch = measurePytorchLenet(seconds);
    if ('skipped' in torch) log(`cnn bench: PyTorch baseline not measured (${torch.skipped}); comparing with the quoted ${PYTORCH_TRAIN.value} images/s`);
    else {
      const what = `PyTorch ${torch.torch}, ${torch.threads} thread, same net and solver, measured in this run`;
      log(`  PyTorch ${torch.torch} training ${torch.train.toFixed(0)} images/s (${torch.trainPerCpuSecond.toFixed(0)} per CPU second), inference ${torch.inference.toFixed(0)}`);
      trainRef = { value: torch.train, unit: 'images/s', what };
      trainCpuRef = { value: torch.trainPerCpuSecond, unit: 'images/CPU-s', what };
      inferRef = { value: torch.inference, unit: 'images/s', what };
    }
  }
  for (const path of paths) {
    const gemms = measureGemm(path, { seconds: Math.min(seconds, 1) });
    const reference = gemms.find((g) => g.name === REFERENCE_GEMM_SHAPE.name)!;
    for (const g of gemms) {
      log(`  ${path} GEMM ${g.name} ${g.M}×${g.N}×${g.K}: ${g.gflops.toFixed(2)} GFLOP/s`);
      records.push({ suite: 'cnn', name: `GEMM ${g.name} (${g.transA ? 'Aᵀ' : 'A'}·${g.transB ? 'Bᵀ' : 'B'} ${g.M}×${g.N}×${g.K})`, path, batch: 64, value: g.gflops, unit: 'GFLOP/s' });
    }
    const l = measureLenet(path, { seconds, fashionDir });
    log(`cnn bench: ${l.description}`);
    log(`  ${path} training ${l.train.toFixed(0)} images/s (${l.trainPerCpuSecond.toFixed(0)} per CPU second), forward+backward ${l.forwardBackward.toFixed(0)}, inference ${l.inference.toFixed(0)}`);
    const note = `1 core, ${l.description}; data: ${l.data}`;
    records.push({ suite: 'cnn', name: 'LeNet training (forward+backward+SGD update)', path, batch: 64, value: l.train, unit: 'images/s', reference: trainRef, note });
    records.push({ suite: 'cnn', name: 'LeNet training per CPU second (process CPU time)', path, batch: 64, value: l.trainPerCpuSecond, unit: 'images/CPU-s', reference: trainCpuRef, note });
    records.push({ suite: 'cnn', name: 'LeNet forward+backward (no update)', path, batch: 64, value: l.forwardBackward, unit: 'images/s', note });
    records.push({ suite: 'cnn', name: 'LeNet inference (forward)', path, batch: 64, value: l.inference, unit: 'images/s', ...(inferRef ? { reference: inferRef } : {}), note });
    records.push({
      suite: 'cnn', name: 'LeNet training as a GEMM rate / 512³ GEMM rate (same run)', path, batch: 64, value: l.gemmGflops / reference.gflops, unit: 'ratio',
      note: `${l.gemmGflops.toFixed(1)} GFLOP/s (${(lenetGemmFlopsPerImage() / 1e6).toFixed(1)} MFLOP of GEMM per image) against ${reference.gflops.toFixed(1)} GFLOP/s of the 512³ GEMM on this path in this run`,
    });
  }
  const epochs = options.epochs ?? (options.quick ? [] : [1, 5]);
  if (epochs.length > 0) records.push(...fashionAccuracy(paths.includes('native') ? 'native' : 'typescript', epochs, fashionDir, log));
  return records;
}

/** Test accuracy on Fashion-MNIST after each of `epochs` epochs of Caffe's LeNet solver (batch 64). */
export function fashionAccuracy(path: KernelPath, epochs: number[], fashionDir = DEFAULT_FASHION, log: (line: string) => void = () => {}): CnnBenchRecord[] {
  if (!existsSync(join(fashionDir, 'train-images-idx3-ubyte.gz'))) {
    log(`  Fashion-MNIST accuracy skipped: ${fashionDir} has no train-images-idx3-ubyte.gz (apt-get install dataset-fashion-mnist)`);
    return [];
  }
  const dir = mkdtempSync(join(tmpdir(), 'cnn-bench-'));
  const records: CnnBenchRecord[] = [];
  try {
    withPath(path, () => {
      const itersPerEpoch = Math.ceil(60000 / 64);
      const solver = solverFor(lenetDefinition(join(fashionDir, 'train-images-idx3-ubyte.gz'), join(fashionDir, 't10k-images-idx3-ubyte.gz'), 100, true),
        dir, itersPerEpoch * Math.max(...epochs), 'test_iter: 100');
      let trainSeconds = 0;
      for (const e of [...epochs].sort((a, b) => a - b)) {
        const started = performance.now();
        solver.step(itersPerEpoch * e - solver.iter);
        trainSeconds += (performance.now() - started) / 1000;
        const outs = solver.test(0);
        const acc = outs.find((o) => o.name === 'accuracy')!.values[0]!;
        const ips = (solver.iter * 64) / trainSeconds;
        log(`  Fashion-MNIST after ${e} epoch(s): accuracy ${acc.toFixed(4)} (${trainSeconds.toFixed(0)} s of training, ${ips.toFixed(0)} images/s)`);
        records.push({
          suite: 'cnn', name: `Fashion-MNIST test accuracy after ${e} epoch${e > 1 ? 's' : ''}`, path, batch: 64, value: acc, unit: 'accuracy',
          reference: e === 1 ? PYTORCH_ACC1 : undefined,
          note: `Caffe's LeNet solver (SGD 0.01, momentum 0.9, inv), ${solver.iter} iterations of 64, shuffled each epoch, 10,000 test images; ${trainSeconds.toFixed(0)} s of training on 1 core (${ips.toFixed(0)} images/s)`,
        });
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return records;
}

function human(value: number, unit: string): string {
  if (unit === 'accuracy') return `${(100 * value).toFixed(2)} %`;
  if (unit === 'GFLOP/s') return `${value.toFixed(2)} GFLOP/s`;
  if (unit === 'ratio') return `${value.toFixed(3)}`;
  return `${value >= 1e3 ? `${(value / 1e3).toFixed(2)} K` : value.toFixed(0)} ${unit}`;
}

/** A plain-text table of the records, with the PyTorch reference and the ratio (> 1: better). */
export function formatCnnTable(records: readonly CnnBenchRecord[]): string {
  const rows = records.map((r) => [
    r.name, r.path, String(r.batch), human(r.value, r.unit),
    r.reference ? `${human(r.reference.value, r.reference.unit)} (${(r.value / r.reference.value).toFixed(2)}x)` : '',
  ]);
  const header = ['benchmark', 'path', 'batch', 'figure', 'PyTorch reference (ratio)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function printCnnTable(records: readonly CnnBenchRecord[]): void {
  process.stdout.write(`${formatCnnTable(records)}\n`);
}

/**
 * Write Caffe's LeNet on Fashion-MNIST (training data shuffled per epoch) and its solver (SGD 0.01,
 * momentum 0.9, "inv" policy, as Caffe's lenet_solver) into `dir`, for distributed runs through the
 * numeric core; returns the solver file.
 */
export function writeFashionLenetSolver(dir: string, fashionDir = DEFAULT_FASHION): string {
  writeFileSync(join(dir, 'lenet.prototxt'), lenetDefinition(join(fashionDir, 'train-images-idx3-ubyte.gz'), join(fashionDir, 't10k-images-idx3-ubyte.gz'), 100, true));
  const file = join(dir, 'solver.prototxt');
  writeFileSync(file, `net: "lenet.prototxt" test_iter: 100 test_interval: 0 base_lr: 0.01 momentum: 0.9
      weight_decay: 0.0005 lr_policy: "inv" gamma: 0.0001 power: 0.75 display: 0 max_iter: 1000000 snapshot_after_train: false`);
  return file;
}

/** Whether Fashion-MNIST's files are in `fashionDir`. */
export function hasFashionMnist(fashionDir = DEFAULT_FASHION): boolean {
  return existsSync(join(fashionDir, 'train-images-idx3-ubyte.gz')) && existsSync(join(fashionDir, 't10k-images-idx3-ubyte.gz'));
}

export interface CnnAsgdOptions {
  /** wall time of each run (default 60 s) */
  seconds?: number;
  /** rank counts to compare (default [1, 2]) */
  ranks?: number[];
  /** pgas-run transport (default threads: ranks are threads of one process) */
  transport?: 'threads' | 'uws';
  fashionDir?: string;
  log?: (line: string) => void;
}

/**
 * ASGD on several ranks against one rank for the same wall time: LeNet with Caffe's solver on
 * Fashion-MNIST, each rank on its own part of the training set, through `pgas-run … cnn train`.
 * Reports images/s summed over the ranks and rank 0's test accuracy at the end.
 */
export async function runCnnAsgdBench(options: CnnAsgdOptions = {}): Promise<CnnBenchRecord[]> {
  const { spawnSync } = await import('node:child_process');
  const log = options.log ?? (() => {});
  const seconds = options.seconds ?? 60;
  const fashionDir = options.fashionDir ?? DEFAULT_FASHION;
  if (!hasFashionMnist(fashionDir)) {
    log(`  ASGD comparison skipped: no Fashion-MNIST in ${fashionDir}`);
    return [];
  }
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'cnn-asgd-'));
  const records: CnnBenchRecord[] = [];
  const path: KernelPath = loadNativeKernels() ? 'native' : 'typescript';
  try {
    writeFashionLenetSolver(dir, fashionDir);
    for (const n of options.ranks ?? [1, 2]) {
      const r = spawnSync(process.execPath, [join(root, 'bin/pgas-run.js'), '-n', String(n), '--transport', options.transport ?? 'threads',
        join(root, 'dist/cnn/cli.js'), 'train', '--solver', join(dir, 'solver.prototxt'), '--parallel', 'asgd', '--seconds', String(seconds), '--kernels', path, '--quiet'],
      { encoding: 'utf8', timeout: (seconds + 240) * 1000 });
      const m = /done: (\d+) steps .*\(([\d.]+) s of training, (\d+) images\/s on \d+ ranks\); rank 0 final test loss ([\d.]+), accuracy ([\d.]+)/.exec(r.stdout);
      if (r.status !== 0 || !m) {
        log(`  ASGD on ${n} rank(s) failed: ${r.stderr.slice(-500)}${r.stdout.slice(-500)}`);
        continue;
      }
      const [, steps, secs, ips, , acc] = m;
      log(`  ASGD ${n} rank(s), ${secs} s: ${ips} images/s, rank 0 accuracy ${acc} after ${steps} steps`);
      const note = `pgas-run -n ${n} (${options.transport ?? 'threads'}), ${seconds} s wall time, ${steps} steps of 64 per rank, Fashion-MNIST`;
      records.push({ suite: 'cnn', name: `ASGD ${n} rank${n > 1 ? 's' : ''}: training throughput`, path, batch: 64, value: Number(ips), unit: 'images/s', note });
      records.push({ suite: 'cnn', name: `ASGD ${n} rank${n > 1 ? 's' : ''}: test accuracy after ${seconds} s`, path, batch: 64, value: Number(acc), unit: 'accuracy', note });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return records;
}
