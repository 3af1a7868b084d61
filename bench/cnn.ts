/**
 * CNN benchmarks (`npm run bench -- cnn`): Caffe's LeNet, batch 64, one process on one core (one BLAS
 * thread): training images/s (forward, backward and the SGD update) and inference images/s, on each
 * available GEMM path (TypeScript always; native when the addon is built); then, unless `quick`, the
 * test accuracy on Fashion-MNIST after one epoch (and more with `epochs`) of Caffe's LeNet solver on the
 * fastest path. Figures are reported beside the PyTorch reference of the issue, never asserted.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeIdx } from '../cnn/data/idx.js';
import { loadNativeKernels, selectKernels, type KernelPath } from '../cnn/math/blas.js';
import { Net } from '../cnn/net.js';
import { parseSolverText } from '../cnn/solver/solver-config.js';
import { Solver } from '../cnn/solver/solver.js';
import { Rng } from '../runtime/asgd/rng.js';

export interface CnnBenchOptions {
  /** seconds per throughput measurement (default 5; quick: 1) */
  seconds?: number;
  /** short throughput runs and no accuracy run (a smoke run) */
  quick?: boolean;
  /** GEMM paths to measure (default: every available one) */
  paths?: KernelPath[];
  /** epochs after which to report Fashion-MNIST accuracy (default [1]; [] skips; quick: []) */
  epochs?: number[];
  /** directory of the Fashion-MNIST .gz files (default Debian's /usr/share/datasets/fashion-mnist) */
  fashionDir?: string;
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
/** The GEMMs of a LeNet iteration at batch 64 (the convolutions batched over the 64 images). */
const GEMM_SHAPES: [string, boolean, boolean, number, number, number][] = [
  ['conv2 forward', false, false, 50, 4096, 500],
  ['conv2 weight gradient', false, true, 50, 500, 4096],
  ['conv2 data gradient', true, false, 500, 4096, 50],
  ['ip1 forward', false, true, 64, 500, 800],
];
const LENET = fileURLToPath(new URL('../../cnn/examples/mnist/lenet_train_test.prototxt', import.meta.url));
const DEFAULT_FASHION = '/usr/share/datasets/fashion-mnist';

/** LeNet definition text over the given IDX image files (Caffe's file, sources replaced). */
function lenetDefinition(train: string, test: string, testBatch: number, shuffle: boolean): string {
  return readText(LENET)
    .replace('data/train-images-idx3-ubyte', train)
    .replace('data/t10k-images-idx3-ubyte', test)
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

function solverFor(definition: string, dir: string, maxIter: number, extra = ''): Solver {
  writeFileSync(join(dir, 'lenet.prototxt'), definition);
  return new Solver(parseSolverText(
    `net: "lenet.prototxt" base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005 lr_policy: "inv" gamma: 0.0001 power: 0.75
     max_iter: ${maxIter} snapshot: 0 snapshot_after_train: false display: 0 ${extra}`,
    join(dir, 'lenet_solver.prototxt'), dir,
  ));
}

function timed(seconds: number, warmup: number, step: () => void): { calls: number; seconds: number } {
  for (let i = 0; i < warmup; i++) step();
  let calls = 0;
  const start = performance.now();
  while ((performance.now() - start) / 1000 < seconds || calls < 3) {
    step();
    calls++;
  }
  return { calls, seconds: (performance.now() - start) / 1000 };
}

export async function runCnnBench(options: CnnBenchOptions = {}): Promise<CnnBenchRecord[]> {
  const log = options.log ?? (() => {});
  const seconds = options.seconds ?? (options.quick ? 1 : 5);
  const available: KernelPath[] = loadNativeKernels() ? ['typescript', 'native'] : ['typescript'];
  const paths = (options.paths ?? available).filter((p) => available.includes(p));
  const fashionDir = options.fashionDir ?? DEFAULT_FASHION;
  const haveFashion = existsSync(join(fashionDir, 'train-images-idx3-ubyte.gz'));
  const dir = mkdtempSync(join(tmpdir(), 'cnn-bench-'));
  const records: CnnBenchRecord[] = [];
  try {
    const data = haveFashion
      ? { train: join(fashionDir, 'train-images-idx3-ubyte.gz'), test: join(fashionDir, 't10k-images-idx3-ubyte.gz') }
      : syntheticData(dir);
    const dataNote = haveFashion ? 'Fashion-MNIST' : 'random 28×28 bytes (Fashion-MNIST not installed)';
    for (const path of paths) {
      const kernels = selectKernels(path);
      log(`cnn bench: ${kernels.description}`);
      for (const [what, ta, tb, M, N, K] of GEMM_SHAPES) {
        const rng = new Rng(3);
        const A = Float32Array.from({ length: M * K }, () => rng.uniform() - 0.5);
        const B = Float32Array.from({ length: K * N }, () => rng.uniform() - 0.5);
        const C = new Float32Array(M * N);
        const r = timed(Math.min(seconds, 2), 2, () => kernels.gemm(ta, tb, M, N, K, 1, A, 0, B, 0, 0, C, 0));
        const gflops = (2 * M * N * K * r.calls) / r.seconds / 1e9;
        log(`  GEMM ${what} ${M}×${N}×${K}: ${gflops.toFixed(2)} GFLOP/s`);
        records.push({ suite: 'cnn', name: `GEMM ${what} (${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'} ${M}×${N}×${K})`, path, batch: 64, value: gflops, unit: 'GFLOP/s', note: kernels.description });
      }
      const solver = solverFor(lenetDefinition(data.train, data.test, 64, true), dir, 1e9);
      const train = timed(seconds, 3, () => solver.step(1));
      const trainIps = (train.calls * 64) / train.seconds;
      log(`  training: ${trainIps.toFixed(0)} images/s (${train.calls} iterations)`);
      records.push({ suite: 'cnn', name: 'LeNet training (forward+backward+SGD update)', path, batch: 64, value: trainIps, unit: 'images/s', reference: PYTORCH_TRAIN, note: `1 core, ${kernels.description}; data: ${dataNote}` });
      const test = new Net(parseSolverText(`net: "lenet.prototxt" base_lr: 0.01 lr_policy: "fixed" max_iter: 1`, join(dir, 's.prototxt'), dir).trainNet.param, { phase: 'TEST', baseDir: dir, shareWith: solver.net });
      const infer = timed(seconds, 3, () => test.forward());
      const inferIps = (infer.calls * 64) / infer.seconds;
      log(`  inference: ${inferIps.toFixed(0)} images/s`);
      records.push({ suite: 'cnn', name: 'LeNet inference (forward)', path, batch: 64, value: inferIps, unit: 'images/s', note: `1 core; data: ${dataNote}` });
    }
    const epochs = options.epochs ?? (options.quick ? [] : [1]);
    if (epochs.length > 0 && haveFashion) {
      const path: KernelPath = paths.includes('native') ? 'native' : 'typescript';
      selectKernels(path);
      const itersPerEpoch = Math.ceil(60000 / 64);
      const solver = solverFor(lenetDefinition(data.train, data.test, 100, true), dir, itersPerEpoch * Math.max(...epochs), 'test_iter: 100');
      const started = performance.now();
      for (const e of [...epochs].sort((a, b) => a - b)) {
        solver.step(itersPerEpoch * e - solver.iter);
        const trainSeconds = (performance.now() - started) / 1000;
        const outs = solver.test(0);
        const acc = outs.find((o) => o.name === 'accuracy')!.values[0]!;
        log(`  Fashion-MNIST after ${e} epoch(s): accuracy ${acc.toFixed(4)} (${trainSeconds.toFixed(0)} s of training)`);
        records.push({
          suite: 'cnn', name: `Fashion-MNIST test accuracy after ${e} epoch${e > 1 ? 's' : ''}`, path, batch: 64, value: acc, unit: 'accuracy',
          reference: e === 1 ? PYTORCH_ACC1 : undefined,
          note: `Caffe's LeNet solver (SGD 0.01, momentum 0.9, inv), ${solver.iter} iterations, shuffled each epoch; ${trainSeconds.toFixed(0)} s of training on 1 core`,
        });
      }
    } else if (epochs.length > 0) {
      log(`  Fashion-MNIST accuracy skipped: ${fashionDir} has no train-images-idx3-ubyte.gz (apt-get install dataset-fashion-mnist)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    selectKernels('auto');
  }
  return records;
}

function human(value: number, unit: string): string {
  if (unit === 'accuracy') return `${(100 * value).toFixed(2)} %`;
  if (unit === 'GFLOP/s') return `${value.toFixed(2)} GFLOP/s`;
  return `${value >= 1e3 ? `${(value / 1e3).toFixed(2)} K` : value.toFixed(0)} ${unit}`;
}

/** A plain-text table of the records, with the PyTorch reference and the ratio (> 1: better). */
export function formatCnnTable(records: readonly CnnBenchRecord[]): string {
  const rows = records.map((r) => [
    r.name, r.path, String(r.batch), human(r.value, r.unit),
    r.reference ? `${human(r.reference.value, r.reference.unit)} (${(r.value / r.reference.value).toFixed(2)}x)` : '',
  ]);
  const header = ['benchmark', 'path', 'batch', 'figure', 'PyTorch 1.13 reference (ratio)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function printCnnTable(records: readonly CnnBenchRecord[]): void {
  process.stdout.write(`${formatCnnTable(records)}\n`);
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
  if (!existsSync(join(fashionDir, 'train-images-idx3-ubyte.gz'))) {
    log(`  ASGD comparison skipped: no Fashion-MNIST in ${fashionDir}`);
    return [];
  }
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'cnn-asgd-'));
  const records: CnnBenchRecord[] = [];
  const path: KernelPath = loadNativeKernels() ? 'native' : 'typescript';
  try {
    writeFileSync(join(dir, 'lenet.prototxt'), lenetDefinition(join(fashionDir, 'train-images-idx3-ubyte.gz'), join(fashionDir, 't10k-images-idx3-ubyte.gz'), 100, true));
    writeFileSync(join(dir, 'solver.prototxt'), `net: "lenet.prototxt" test_iter: 100 test_interval: 0 base_lr: 0.01 momentum: 0.9
      weight_decay: 0.0005 lr_policy: "inv" gamma: 0.0001 power: 0.75 display: 0 max_iter: 1000000 snapshot_after_train: false`);
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
