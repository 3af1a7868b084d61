import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { gemmTs } from './gemm-ts.js';
import { col2imBatchTs, im2colBatchTs, packGeometry, type ConvGeometry } from './im2col.js';
import { gatherRowsTs, scatterRowsTs } from './layout.js';
import { maxPoolBackwardTs, maxPoolForwardTs, type PoolGeometry } from './pool-kernels.js';

/** C = alpha·op(A)·op(B) + beta·C, row-major, matrices as (array, offset). */
export type GemmFn = (
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, B: Float32Array, bOff: number, beta: number, C: Float32Array, cOff: number,
) => void;

export type KernelPath = 'typescript' | 'native';

/**
 * The numeric kernels the layers call: GEMM, and the memory-bound loops around it. The TypeScript set
 * has every kernel; the native set (cnn/native, OpenBLAS) runs GEMM through cblas_sgemm and the other
 * loops in C++ (`nativeKernels` lists them, for reports).
 */
export interface Kernels {
  readonly path: KernelPath;
  /** what the path is, for reports ("TypeScript (packed 4×4 micro-kernel)", "OpenBLAS 0.3.21 …") */
  readonly description: string;
  /** the kernels that run natively on this path (empty for TypeScript) */
  readonly nativeKernels: readonly string[];
  readonly gemm: GemmFn;
  /** im2col of n images, side by side in a column matrix with rows `ld` long (see im2colBatchTs) */
  im2colBatch(g: ConvGeometry, n: number, im: Float32Array, imOff: number, col: Float32Array, colOff: number, ld: number): void;
  /** the adjoint of im2colBatch; each image is overwritten */
  col2imBatch(g: ConvGeometry, n: number, col: Float32Array, colOff: number, ld: number, im: Float32Array, imOff: number): void;
  /** O × (n·P) -> n × O × P (+ bias) (see scatterRowsTs) */
  scatterRows(src: Float32Array, O: number, n: number, P: number, bias: Float32Array | null, dst: Float32Array, dstOff: number): void;
  /** n × O × P -> O × (n·P) */
  gatherRows(src: Float32Array, srcOff: number, O: number, n: number, P: number, dst: Float32Array): void;
  maxPoolForward(p: PoolGeometry, x: Float32Array, y: Float32Array, mask: Int32Array): void;
  maxPoolBackward(dy: Float32Array, count: number, mask: Int32Array, dx: Float32Array, dxCount: number): void;
}

export const TS_KERNELS: Kernels = Object.freeze({
  path: 'typescript',
  description: 'TypeScript (packed 4×4 micro-kernel GEMM, TypeScript im2col and pooling)',
  nativeKernels: [],
  gemm: gemmTs,
  im2colBatch: im2colBatchTs,
  col2imBatch: col2imBatchTs,
  scatterRows: scatterRowsTs,
  gatherRows: gatherRowsTs,
  maxPoolForward: maxPoolForwardTs,
  maxPoolBackward: maxPoolBackwardTs,
} satisfies Kernels);

interface NativeAddon {
  gemm: GemmFn;
  im2colBatch(g: Int32Array, n: number, im: Float32Array, imOff: number, col: Float32Array, colOff: number, ld: number): void;
  col2imBatch(g: Int32Array, n: number, col: Float32Array, colOff: number, ld: number, im: Float32Array, imOff: number): void;
  scatterRows: Kernels['scatterRows'];
  gatherRows: Kernels['gatherRows'];
  maxPoolForward(x: Float32Array, y: Float32Array, mask: Int32Array, planes: number, H: number, W: number, OH: number, OW: number,
    kh: number, kw: number, sh: number, sw: number, ph: number, pw: number): void;
  maxPoolBackward: Kernels['maxPoolBackward'];
  describe(): string;
  setThreads(n: number): void;
}

const ADDON_DIR = new URL('../../../cnn/native/build/', import.meta.url);
let nativeKernels: Kernels | null | undefined;
let nativeFailure = '';
let coreTypeNote = '';

/**
 * OpenBLAS reads OPENBLAS_CORETYPE when it loads. 0.3.21 (Debian 12) does not know AMD's AVX-512 CPUs
 * (Zen 4/5) and runs its AVX2 (Haswell) kernels there; its SkylakeX kernels ran LeNet's large GEMMs
 * 30–70% faster on this machine (whole training iterations 10–20%). So: CNN_OPENBLAS_CORETYPE=<name>
 * sets the core type for the CNN (over the environment's OPENBLAS_CORETYPE), =default leaves OpenBLAS
 * alone; otherwise an OPENBLAS_CORETYPE already set is respected, and on an AMD CPU with AVX-512 with
 * none set the CNN asks for SkylakeX. The kernels' description says which applied.
 */
function chooseOpenblasCore(): void {
  const forced = process.env.CNN_OPENBLAS_CORETYPE;
  if (forced === 'default') return;
  if (forced) {
    process.env.OPENBLAS_CORETYPE = forced;
    coreTypeNote = `; OPENBLAS_CORETYPE=${forced} from CNN_OPENBLAS_CORETYPE`;
    return;
  }
  if (process.env.OPENBLAS_CORETYPE) {
    coreTypeNote = `; OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} from the environment`;
    return;
  }
  let cpu = '';
  try {
    cpu = readFileSync('/proc/cpuinfo', 'utf8').slice(0, 8192);
  } catch {
    return;
  }
  const flags = new Set((/^flags\s*:(.*)$/m.exec(cpu)?.[1] ?? '').trim().split(/\s+/));
  const amd = /vendor_id\s*:\s*AuthenticAMD/.test(cpu);
  if (amd && ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f))) {
    process.env.OPENBLAS_CORETYPE = 'SkylakeX';
    coreTypeNote = '; OPENBLAS_CORETYPE=SkylakeX set by the CNN (AMD CPU with AVX-512)';
  }
}

/** Why the addon is not there: what the install-time build recorded, when it recorded anything. */
function installReport(): string {
  const status = fileURLToPath(new URL('status.json', ADDON_DIR));
  try {
    const s = JSON.parse(readFileSync(status, 'utf8')) as { built: boolean; reason: string };
    return s.built ? `it was built (${s.reason}) but is missing now` : `the install-time build skipped it: ${s.reason}`;
  } catch {
    return 'no install-time build ran (npm run install:native builds it)';
  }
}

/**
 * The native kernels (cnn/native: OpenBLAS GEMM and C++ loops through the addon), or null when the
 * addon is not built or does not load; `nativeUnavailableReason()` then says why. One BLAS thread:
 * one rank per core.
 */
export function loadNativeKernels(): Kernels | null {
  if (nativeKernels !== undefined) return nativeKernels;
  nativeKernels = null;
  if (process.env.CNN_NATIVE_DISABLE === '1') {
    nativeFailure = 'disabled by CNN_NATIVE_DISABLE=1';
    return null;
  }
  const file = fileURLToPath(new URL('Release/cnn_blas.node', ADDON_DIR));
  if (!existsSync(file)) {
    nativeFailure = `the native addon ${file} is not built; ${installReport()}`;
    return null;
  }
  try {
    chooseOpenblasCore();
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    addon.setThreads(1);
    const geometry = new Int32Array(13);
    nativeKernels = Object.freeze({
      path: 'native' as const,
      description: `${addon.describe()}, 1 thread${coreTypeNote}; native im2col/col2im, layout and MAX pooling`,
      nativeKernels: ['gemm', 'im2col', 'col2im', 'scatterRows', 'gatherRows', 'maxPoolForward', 'maxPoolBackward'],
      gemm: addon.gemm,
      im2colBatch: (g, n, im, imOff, col, colOff, ld) => addon.im2colBatch(packGeometry(g, geometry), n, im, imOff, col, colOff, ld),
      col2imBatch: (g, n, col, colOff, ld, im, imOff) => addon.col2imBatch(packGeometry(g, geometry), n, col, colOff, ld, im, imOff),
      scatterRows: addon.scatterRows,
      gatherRows: addon.gatherRows,
      maxPoolForward: (p, x, y, mask) => addon.maxPoolForward(x, y, mask, p.planes, p.height, p.width, p.outH, p.outW, p.kernelH, p.kernelW, p.strideH, p.strideW, p.padH, p.padW),
      maxPoolBackward: addon.maxPoolBackward,
    } satisfies Kernels);
  } catch (error) {
    nativeFailure = `${file} did not load: ${(error as Error).message}`;
  }
  return nativeKernels;
}

export function nativeUnavailableReason(): string {
  return nativeFailure;
}

let active: Kernels = TS_KERNELS;

/**
 * Choose the kernels: 'auto' (native when it loads, else TypeScript; the environment variable
 * CNN_KERNELS=typescript|native overrides 'auto'), or a path by name.
 */
export function selectKernels(choice: 'auto' | KernelPath = 'auto'): Kernels {
  const env = process.env.CNN_KERNELS;
  if (choice === 'auto' && (env === 'typescript' || env === 'native')) choice = env;
  if (choice === 'typescript') active = TS_KERNELS;
  else {
    const native = loadNativeKernels();
    if (native) active = native;
    else if (choice === 'native') throw new UsageError(`the native kernels are not available: ${nativeUnavailableReason()} (build them: npm run install:native, with libopenblas-dev installed)`);
    else active = TS_KERNELS;
  }
  return active;
}

export function kernels(): Kernels {
  return active;
}

/** A line for reports: which kernels run, and why not the native ones when they do not. */
export function kernelsReport(): string {
  if (active.path === 'native') return `kernels: native (${active.description})`;
  const native = loadNativeKernels();
  return native ? `kernels: typescript (chosen; native available: ${native.description})` : `kernels: typescript (native unavailable: ${nativeUnavailableReason()})`;
}

/** GEMM through the active kernels (layers call this; the choice is made once at start-up). */
export function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, B: Float32Array, bOff: number, beta: number, C: Float32Array, cOff: number,
): void {
  active.gemm(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff);
}
