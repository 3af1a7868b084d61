/**
 * `pgas-run --info`: which transports and native paths this installation can use, and for each one that
 * it cannot, why. Every check does the real thing: it loads the uWS binary, and asks the UCX transport
 * and the CNN kernels (which load their own native addons) for their status.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Capability {
  name: string;
  available: boolean;
  detail: string;
}

async function checkUws(): Promise<Capability> {
  try {
    const mod = (await import('@trufflesuite/uws-js-unofficial')) as { App?: unknown; default?: { App?: unknown } };
    const App = mod.App ?? mod.default?.App;
    if (typeof App !== 'function') return { name: 'uws', available: false, detail: 'uWebSockets.js loaded but has no App()' };
    return { name: 'uws', available: true, detail: `uWebSockets.js binary loads (node ${process.versions.node}, ${process.platform}-${process.arch})` };
  } catch (err) {
    return { name: 'uws', available: false, detail: `uWebSockets.js binary does not load: ${(err as Error).message.split('\n')[0]}` };
  }
}

/** Paths of a system library as the dynamic linker knows it (ldconfig's cache). */
export function findSystemLibrary(stem: string): string | undefined {
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.split('\n').find((l) => l.trim().startsWith(`${stem}.so`));
    return line?.split('=>')[1]?.trim();
  } catch {
    return undefined;
  }
}

function checkThreads(packageRoot: string): Capability {
  const hub = join(packageRoot, 'dist', 'pgas', 'transports', 'threads', 'hub.js');
  return existsSync(hub)
    ? { name: 'threads', available: true, detail: 'always (ranks are worker threads of one local process)' }
    : { name: 'threads', available: false, detail: `not compiled: ${hub} is missing (run npm run build)` };
}

/**
 * The UCX transport answers for itself (pgas/transports/ucx): does the addon load, is it current, and
 * does UCX actually start here with the features the transport needs (ucxUsable runs ucp_init once).
 */
async function checkUcx(packageRoot: string): Promise<Capability> {
  const lib = findSystemLibrary('libucp');
  const libText = lib ? `libucp at ${lib}` : 'libucx not found (install libucx-dev)';
  const module = join(packageRoot, 'dist', 'pgas', 'transports', 'ucx', 'index.js');
  if (!existsSync(module)) {
    return { name: 'ucx', available: false, detail: `the UCX transport is not part of this build (${module} is missing); ${libText}` };
  }
  try {
    const { ucxUsable, ucxStatus } = (await import(pathToFileURL(module).href)) as {
      ucxUsable: () => { usable: boolean; reason: string };
      ucxStatus: () => { available: true; ucxVersion: string; path: string } | { available: false; reason: string };
    };
    const usable = ucxUsable();
    const status = ucxStatus();
    // 'yes' means usable: the addon loads and ucp_init succeeds (UCX_TLS / UCX_NET_DEVICES as set)
    return usable.usable && status.available
      ? { name: 'ucx', available: true, detail: `native addon ${status.path} loads, UCX ${status.ucxVersion}` }
      : { name: 'ucx', available: false, detail: usable.reason };
  } catch (err) {
    return { name: 'ucx', available: false, detail: `the UCX transport module does not load: ${(err as Error).message.split('\n')[0]}; ${libText}` };
  }
}

/**
 * `--transport auto`: ucx where it is usable on this host, uws otherwise, with the reason (printed at
 * start). Decided once, here, so that every rank of the job uses the same transport.
 */
export async function chooseAutoTransport(packageRoot: string): Promise<{ transport: 'ucx' | 'uws'; note: string }> {
  const ucx = await checkUcx(packageRoot);
  return ucx.available
    ? { transport: 'ucx', note: `transport auto chose ucx (${ucx.detail})` }
    : { transport: 'uws', note: `transport auto chose uws: ucx is unavailable (${ucx.detail})` };
}

/**
 * The CNN's native GEMM answers for itself too. It lives in cnn/, which runtime/ must not depend on,
 * so it is looked up at run time by path rather than imported: a build without the CNN just says so.
 */
async function checkBlas(packageRoot: string): Promise<Capability> {
  const name = 'native kernels (BLAS)';
  const module = join(packageRoot, 'dist', 'cnn', 'math', 'blas.js');
  if (!existsSync(module)) return { name, available: false, detail: `the CNN kernels are not part of this build (${module} is missing)` };
  try {
    const blas = (await import(pathToFileURL(module).href)) as {
      loadNativeKernels: () => { description: string } | null;
      nativeUnavailableReason: () => string;
    };
    const kernels = blas.loadNativeKernels();
    if (kernels) return { name, available: true, detail: kernels.description };
    const lib = findSystemLibrary('libopenblas') ?? findSystemLibrary('libblas');
    return { name, available: false, detail: `${blas.nativeUnavailableReason()}; TypeScript kernels are used${lib ? ` (a BLAS is installed: ${lib})` : ' (no BLAS library found either)'}` };
  } catch (err) {
    return { name, available: false, detail: `the CNN kernel module does not load: ${(err as Error).message.split('\n')[0]}` };
  }
}

/** One transport's check, for refusing an unavailable transport before a job starts. */
export async function transportCapability(name: string, packageRoot: string): Promise<Capability | undefined> {
  if (name === 'uws') return checkUws();
  if (name === 'threads') return checkThreads(packageRoot);
  if (name === 'ucx') return checkUcx(packageRoot);
  return undefined;
}

export async function capabilities(packageRoot: string): Promise<{ transports: Capability[]; native: Capability[] }> {
  return {
    transports: [await checkUws(), checkThreads(packageRoot), await checkUcx(packageRoot)],
    native: [await checkBlas(packageRoot)],
  };
}

export function formatInfo(c: { transports: Capability[]; native: Capability[] }): string {
  const line = (x: Capability): string => `  ${x.name.padEnd(22)} ${x.available ? 'yes' : 'no '}  ${x.detail}`;
  return [
    `pgas-run on node ${process.version} (${process.execPath})`,
    'transports:',
    ...c.transports.map(line),
    'native paths:',
    ...c.native.map(line),
    '',
  ].join('\n');
}
