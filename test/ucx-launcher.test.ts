/**
 * The ucx transport as the launcher and the benchmarks see it: `pgas-run --info` says whether it is
 * usable and why not, `--help` lists ucx|uws|threads|auto, `--transport auto` decides once and says
 * what it chose (and every rank then runs that transport), and the benchmark entries treat an
 * unusable ucx as skipped (in `all`) or as a failure that says why (asked for alone).
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ucxUsableInChild } from '../pgas/transports/ucx/probe-child.js';
import { baseEnv, runLauncher } from './fixtures/launcher-harness.js';
import { runBenchCli } from './helpers/bench-cli.js';

const AUTO_RANK = 'test/fixtures/ucx-auto.ts';

const probe = ucxUsableInChild();

test.serial('pgas-run --help lists --transport ucx|uws|threads|auto and says what auto does', async (t) => {
  const r = await runLauncher(['--help']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /--transport ucx\|uws\|threads\|auto/);
  t.regex(r.stdout, /auto picks ucx where it is usable/);
  t.regex(r.stdout, /UCX_TLS and UCX_NET_DEVICES/);
});

test.serial('pgas-run --info says whether ucx is usable, and why not when it is not', async (t) => {
  const r = await runLauncher(['--info'], { env: baseEnv() });
  t.is(r.code, 0, r.stderr);
  if (probe.usable) t.regex(r.stdout, /^ {2}ucx\s+yes\s+native addon \S+ loads, UCX [\d.]+$/m);
  else t.regex(r.stdout, new RegExp(`^ {2}ucx\\s+no\\s+${probe.reason.slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  const disabled = await runLauncher(['--info'], { env: baseEnv({ PGAS_NATIVE_DISABLE: '1' }) });
  t.regex(disabled.stdout, /^ {2}ucx\s+no\s+the native UCX addon is disabled by PGAS_NATIVE_DISABLE=1/m);
  // a UCX that cannot start (no transport it knows) is reported as not usable, with UCX's reason
  if (probe.usable) {
    const broken = await runLauncher(['--info'], { env: baseEnv({ UCX_TLS: 'no-such-transport' }) });
    t.regex(broken.stdout, /^ {2}ucx\s+no\s+UCX [\d.]+ cannot start here \(ucp_init/m, broken.stdout);
  }
});

test.serial('pgas-run --transport auto says which transport it chose, and every rank runs it', async (t) => {
  const r = await runLauncher(['-n', '2', '--transport', 'auto', AUTO_RANK], { env: baseEnv() });
  t.is(r.code, 0, r.stderr);
  const chosen = probe.usable ? 'ucx' : 'uws';
  t.regex(r.stderr, new RegExp(`^pgas-run: transport auto chose ${chosen}`, 'm'));
  t.regex(r.stdout, new RegExp(`^\\[0\\] TRANSPORT ${chosen}$`, 'm'));
  t.regex(r.stdout, new RegExp(`^\\[1\\] TRANSPORT ${chosen}$`, 'm'));
});

test.serial('pgas-run --transport auto falls back to uws when ucx is not usable, and says why', async (t) => {
  const r = await runLauncher(['-n', '2', '--transport', 'auto', AUTO_RANK], { env: baseEnv({ PGAS_NATIVE_DISABLE: '1' }) });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /^pgas-run: transport auto chose uws: ucx is unavailable \(the native UCX addon is disabled by PGAS_NATIVE_DISABLE=1/m);
  t.regex(r.stdout, /^\[0\] TRANSPORT uws$/m);
  t.regex(r.stdout, /^\[1\] TRANSPORT uws$/m);
});

test.serial('bench pgas --transport ucx fails saying why when ucx is not usable; ucx bench usage errors exit 2', async (t) => {
  const env = baseEnv({ PGAS_NATIVE_DISABLE: '1' });
  // --out: a run must never rewrite the committed results in bench/results/
  const out = mkdtempSync(join(tmpdir(), 'pgas-ucx-bench-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const r = await runBenchCli(['pgas', '--transport', 'ucx', '--quick', '--out', out], 60_000, { env, until: 'close' });
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /ucx: skipped, not usable here: the native UCX addon is disabled by PGAS_NATIVE_DISABLE=1/);
  const bad = await runBenchCli(['ucx', '--fabric', 'carrier-pigeon'], 60_000, { env: baseEnv(), until: 'close' });
  t.is(bad.code, 2, bad.stderr);
  t.regex(bad.stderr, /--fabric takes shm, tcp or shm,tcp/);
  const off = await runBenchCli(['ucx', '--quick'], 60_000, { env, until: 'close' });
  t.is(off.code, 1);
  t.regex(off.stderr, /ucx: unavailable: the native UCX addon is disabled by PGAS_NATIVE_DISABLE=1/);
});

test.serial('runPgasBench skips an unusable ucx in a list of transports and says so', async (t) => {
  const { runPgasBench } = await import('../bench/pgas.js');
  const saved = process.env.PGAS_NATIVE_DISABLE;
  process.env.PGAS_NATIVE_DISABLE = '1';
  try {
    const lines: string[] = [];
    const result = await runPgasBench({ transports: ['ucx'], skipUnusable: true, quick: true, log: (l) => lines.push(l) });
    t.deepEqual(result.records, []);
    t.deepEqual(result.failures, []);
    t.is(result.skipped.length, 1);
    t.regex(result.skipped[0]!, /^ucx: skipped, not usable here: .*PGAS_NATIVE_DISABLE=1/);
    t.true(lines.some((l) => /pgas bench: ucx: skipped/.test(l)));
  } finally {
    if (saved === undefined) delete process.env.PGAS_NATIVE_DISABLE;
    else process.env.PGAS_NATIVE_DISABLE = saved;
  }
});
