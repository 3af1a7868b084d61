#!/usr/bin/env node
// Builds the optional native addon (binding.gyp at the package root -> build/Release/pgas_ucx.node)
// when UCX's development files are installed, and never fails the install: without them (or without a
// compiler) it says why and exits 0, and the ucx transport reports itself unavailable.
//
//   npm run install:native          build (or explain why not)
//   PGAS_NATIVE_SKIP=1 npm ci       do not even try
//
// Plain JavaScript on purpose: it runs at `npm ci`, before TypeScript is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const addon = join(root, 'build', 'Release', 'pgas_ucx.node');
const say = (line) => process.stderr.write(`pgas native: ${line}\n`);

function skip(why) {
  // A binary from an earlier build would not match these sources: remove it rather than load it.
  if (existsSync(addon)) rmSync(addon);
  say(`${why}; the ucx transport stays unavailable (uws and threads work as usual).`);
  process.exit(0);
}

if (process.env.PGAS_NATIVE_SKIP === '1') skip('skipped (PGAS_NATIVE_SKIP=1)');

const pkg = spawnSync('pkg-config', ['--exists', 'ucx']);
if (pkg.error) skip('pkg-config is not installed, so UCX cannot be found (Debian/Ubuntu: apt-get install pkg-config libucx-dev)');
if (pkg.status !== 0) skip('UCX development files not found (pkg-config ucx); install them with apt-get install libucx-dev, then npm run install:native');

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

const gyp = findNodeGyp();
if (!gyp) skip('node-gyp was not found (it ships with npm)');

const args = [gyp, 'rebuild'];
// Offline builds: use the headers of the installed Node (Debian's nodejs ships them in /usr/include/node)
// instead of downloading them.
const prefix = resolve(dirname(process.execPath), '..');
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

say(`building the UCX addon (${args.slice(1).join(' ')})`);
const build = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0 || !existsSync(addon)) {
  skip(`the build failed (exit ${build.status ?? build.signal}; is a C++ compiler, make and python3 installed?)`);
}
say(`built ${addon}`);
