#!/usr/bin/env node
// Builds the optional native addons at install, each on its own and never failing the install:
//
//   1. the UCX transport (binding.gyp at the package root -> build/Release/pgas_ucx.node), when UCX's
//      development files are installed (pkg-config ucx); without them the ucx transport reports itself
//      unavailable.
//   2. the CNN's BLAS kernels (cnn/native/binding.gyp -> cnn/native/build/Release/cnn_blas.node), when
//      OpenBLAS is installed (Debian libopenblas-dev: cblas.h found and a test program links); without
//      it the CNN runs its TypeScript kernels. The outcome is written to cnn/native/build/status.json so
//      that the CNN can say at run time why its native path is missing.
//
// One addon failing or being skipped never stops the other; the script always exits 0.
//
//   npm run install:native          build (or explain why not)
//   PGAS_NATIVE_SKIP=1 npm ci       try neither
//   CNN_NATIVE_SKIP=1 npm ci        skip only the CNN's BLAS addon
//
// Plain JavaScript on purpose: it runs at `npm ci`, before TypeScript is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function findNodeGyp() {
  // npm sets npm_config_node_gyp for lifecycle scripts; otherwise use the node-gyp that npm ships.
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package: fine
  }
  return candidates.find((c) => c && existsSync(c));
}

/** node-gyp rebuild arguments; offline: the installed Node's headers (Debian: /usr/include/node). */
function gypArgs(gyp) {
  const args = [gyp, 'rebuild'];
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  return args;
}

// ---------------------------------------------------------------------------------------------------
// 1. UCX transport (behaviour and messages unchanged from the UCX-only script)

function buildUcx(gyp) {
  const addon = join(root, 'build', 'Release', 'pgas_ucx.node');
  const say = (line) => process.stderr.write(`pgas native: ${line}\n`);
  const skip = (why) => {
    // A binary from an earlier build would not match these sources: remove it rather than load it.
    if (existsSync(addon)) rmSync(addon);
    say(`${why}; the ucx transport stays unavailable (uws and threads work as usual).`);
    return false;
  };
  if (process.env.PGAS_NATIVE_SKIP === '1') return skip('skipped (PGAS_NATIVE_SKIP=1)');
  const pkg = spawnSync('pkg-config', ['--exists', 'ucx']);
  if (pkg.error) return skip('pkg-config is not installed, so UCX cannot be found (Debian/Ubuntu: apt-get install pkg-config libucx-dev)');
  if (pkg.status !== 0) return skip('UCX development files not found (pkg-config ucx); install them with apt-get install libucx-dev, then npm run install:native');
  if (!gyp) return skip('node-gyp was not found (it ships with npm)');
  const args = gypArgs(gyp);
  say(`building the UCX addon (${args.slice(1).join(' ')})`);
  const build = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0 || !existsSync(addon)) {
    return skip(`the build failed (exit ${build.status ?? build.signal}; is a C++ compiler, make and python3 installed?)`);
  }
  say(`built ${addon}`);
  return true;
}

// ---------------------------------------------------------------------------------------------------
// 2. CNN BLAS kernels

const CBLAS_HEADERS = ['/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/cblas.h', '/usr/local/include/cblas.h', '/usr/include/openblas/cblas.h'];

/** Compiler flags for OpenBLAS: pkg-config's when it knows openblas, else the system defaults. */
function openblasFlags() {
  const pc = (what) => spawnSync('pkg-config', [what, 'openblas'], { encoding: 'utf8' });
  const exists = spawnSync('pkg-config', ['--exists', 'openblas']);
  if (!exists.error && exists.status === 0) {
    return { cflags: pc('--cflags').stdout.trim(), libs: pc('--libs').stdout.trim(), via: 'pkg-config openblas' };
  }
  const header = CBLAS_HEADERS.find((h) => existsSync(h));
  if (!header) return null;
  return { cflags: `-I${dirname(header)}`, libs: '-lopenblas', via: header };
}

/** Compile and link a program that calls what the addon uses: proves the header and library match. */
function linkTest(flags) {
  const dir = mkdtempSync(join(tmpdir(), 'cnn-blas-check-'));
  try {
    const src = join(dir, 'check.c');
    writeFileSync(src, [
      '#include <cblas.h>',
      'void openblas_set_num_threads(int);',
      'int main(void) { float a = 1, b = 2, c = 0; openblas_set_num_threads(1);',
      '  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.f, &a, 1, &b, 1, 0.f, &c, 1); return c == 2.f ? 0 : 1; }',
      '',
    ].join('\n'));
    const cc = process.env.CC || 'cc';
    const args = [...flags.cflags.split(/\s+/).filter(Boolean), src, '-o', join(dir, 'check'), ...flags.libs.split(/\s+/).filter(Boolean)];
    const r = spawnSync(cc, args, { encoding: 'utf8' });
    if (r.error) return `no C compiler (${cc}) to test-link OpenBLAS`;
    if (r.status !== 0) return `a test program does not link against OpenBLAS (${cc} ${args.join(' ')}: ${(r.stderr || '').trim().split('\n').slice(-2).join(' ')})`;
    const run = spawnSync(join(dir, 'check'));
    if (run.status !== 0) return `the OpenBLAS test program failed (exit ${run.status ?? run.signal})`;
    return '';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function buildCnnBlas(gyp) {
  const dir = join(root, 'cnn', 'native');
  const out = join(dir, 'build');
  const addon = join(out, 'Release', 'cnn_blas.node');
  const say = (line) => process.stderr.write(`cnn native: ${line}\n`);
  const record = (built, reason) => {
    try {
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'status.json'), `${JSON.stringify({ built, reason, at: new Date().toISOString() })}\n`);
    } catch {
      // the report is a courtesy; the install goes on without it
    }
  };
  const skip = (why) => {
    if (existsSync(addon)) rmSync(addon);
    say(`${why}; the CNN uses its TypeScript kernels.`);
    record(false, why);
    return false;
  };
  if (!existsSync(join(dir, 'binding.gyp'))) return skip('cnn/native/binding.gyp is missing');
  if (process.env.PGAS_NATIVE_SKIP === '1') return skip('skipped (PGAS_NATIVE_SKIP=1)');
  if (process.env.CNN_NATIVE_SKIP === '1') return skip('skipped (CNN_NATIVE_SKIP=1)');
  const flags = openblasFlags();
  if (!flags) return skip('OpenBLAS not found (no pkg-config openblas, no cblas.h); install it with apt-get install libopenblas-dev, then npm run install:native');
  const linkProblem = linkTest(flags);
  if (linkProblem) return skip(`OpenBLAS found by ${flags.via}, but ${linkProblem}`);
  if (!gyp) return skip('node-gyp was not found (it ships with npm)');
  const args = gypArgs(gyp);
  say(`building the BLAS addon with OpenBLAS from ${flags.via} (${args.slice(1).join(' ')}, in cnn/native)`);
  const env = { ...process.env, CNN_BLAS_CFLAGS: flags.cflags, CNN_BLAS_LIBS: flags.libs };
  const build = spawnSync(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0 || !existsSync(addon)) {
    return skip(`the build failed (exit ${build.status ?? build.signal}; is a C++ compiler, make and python3 installed?)`);
  }
  say(`built ${addon}`);
  record(true, `built with OpenBLAS from ${flags.via}`);
  return true;
}

const gyp = findNodeGyp();
for (const build of [buildUcx, buildCnnBlas]) {
  try {
    build(gyp);
  } catch (error) {
    // an unexpected failure in one addon's build must not stop the other, nor the install
    process.stderr.write(`native build (${build.name}): unexpected error ${error?.message ?? error}; skipped\n`);
  }
}
process.exit(0);
