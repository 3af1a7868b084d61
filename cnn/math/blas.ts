import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { gemmTs } from './gemm-ts.js';

/** C = alpha·op(A)·op(B) + beta·C, row-major, matrices as (array, offset). */
export type GemmFn = (
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, B: Float32Array, bOff: number, beta: number, C: Float32Array, cOff: number,
) => void;

export type KernelPath = 'typescript' | 'native';

export interface Kernels {
  readonly path: KernelPath;
  /** what the path is, for reports ("TypeScript 4×4 blocked", "OpenBLAS 0.3.21 (1 thread)") */
  readonly description: string;
  readonly gemm: GemmFn;
}

export const TS_KERNELS: Kernels = Object.freeze({ path: 'typescript', description: 'TypeScript (packed 4×4 micro-kernel)', gemm: gemmTs });

interface NativeAddon {
  gemm: GemmFn;
  describe(): string;
  setThreads(n: number): void;
}

let nativeKernels: Kernels | null | undefined;
let nativeFailure = '';

/**
 * The native GEMM (cnn/native, BLAS through the addon), or null when the addon is not built or does
 * not load; `nativeUnavailableReason()` then says why. One BLAS thread: one rank per core.
 */
export function loadNativeKernels(): Kernels | null {
  if (nativeKernels !== undefined) return nativeKernels;
  nativeKernels = null;
  const candidates = [
    fileURLToPath(new URL('../../../build/Release/cnn_blas.node', import.meta.url)),
    fileURLToPath(new URL('../../../cnn/native/build/Release/cnn_blas.node', import.meta.url)),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    nativeFailure = 'the native addon cnn_blas.node is not built';
    return null;
  }
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    addon.setThreads(1);
    nativeKernels = Object.freeze({ path: 'native' as const, description: addon.describe(), gemm: addon.gemm });
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
    else if (choice === 'native') throw new UsageError(`the native kernels are not available: ${nativeUnavailableReason()} (build it: cd cnn/native && node-gyp rebuild --nodedir=/usr)`);
    else active = TS_KERNELS;
  }
  return active;
}

export function kernels(): Kernels {
  return active;
}

/** GEMM through the active kernels (layers call this; the choice is made once at start-up). */
export function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, B: Float32Array, bOff: number, beta: number, C: Float32Array, cOff: number,
): void {
  active.gemm(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff);
}
