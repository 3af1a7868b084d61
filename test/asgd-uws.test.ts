/**
 * The ASGD core over the uws transport: one process per rank, states crossing real sockets. The same
 * checks as on threads for asgd (convergence, the window and slots, no torn state) and sync (identical
 * states after every step, exact checkpoint resume). Registered as skipped, visibly, while the uws
 * transport is not built in this tree.
 */
import test from 'ava';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SolverConfig } from '../runtime/asgd/config.js';
import { syntheticOptimum, type SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';
import { runJob } from './helpers/job.js';
import { distance, solverJob } from './fixtures/asgd-lib.js';

const built = existsSync(fileURLToPath(new URL('../pgas/transports/uws/index.js', import.meta.url)));
const uws = built ? test.serial : test.skip;
const LSQ: SyntheticArgs = { kind: 'leastsq', rows: 512, dim: 16, l2: 0.01, noise: 0.1 };
const config = (solver: SolverConfig['solver'], steps: number, extra: Partial<SolverConfig> = {}): SolverConfig => ({
  solver, optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 8, seed: 7, stop: { steps }, ...extra,
});

for (const size of [2, 3]) {
  uws(`uws x${size}: asgd converges to the least-squares optimum, states exchanged over sockets`, async (t) => {
    const out = await solverJob('uws', size, { problem: LSQ, config: config('asgd', 3000) }, 90000);
    t.is(out.ranks.length, size, out.stderr);
    const optimum = syntheticOptimum(LSQ);
    for (const r of out.ranks) t.true(distance(r.params, optimum) < 0.06, `rank ${r.rank}: ${distance(r.params, optimum)}`);
    const totals = out.ranks[0]!.summary!.totals;
    t.is(totals.sent, size * 3000);
    t.true(totals.received > 0);
    t.is(totals.torn, 0);
  });
}

uws("uws x2: asgd with busyOutbox 'skip' sends or skips every step, never waits for a put, and converges", async (t) => {
  const out = await solverJob('uws', 2, { problem: LSQ, config: config('asgd', 3000, { asgd: { busyOutbox: 'skip' } }) }, 90000);
  t.is(out.ranks.length, 2, out.stderr);
  for (const r of out.ranks) {
    t.is(r.counters.sent! + r.counters.sendSkipped!, 3000, `rank ${r.rank}`);
    t.is(r.counters.sendWaits, 0);
    t.true(distance(r.params, syntheticOptimum(LSQ)) < 0.06);
  }
  t.log(`sent ${out.ranks.map((r) => r.counters.sent).join(', ')}, skipped ${out.ranks.map((r) => r.counters.sendSkipped).join(', ')}`);
});

uws('uws x3: window, non-finite states, newest-only slots, consume-once', async (t) => {
  const result = await runJob({ transport: 'uws', size: 3, fixture: 'asgd-exchange.js', args: ['window', '64'], timeoutMs: 60000 });
  const lines = result.stdout.split('\n').filter((l) => l.startsWith('PASS window'));
  t.is(lines.length, 3, result.stderr);
});

uws('uws x2: no torn state is ever taken while slots are overwritten concurrently', async (t) => {
  const result = await runJob({ transport: 'uws', size: 2, fixture: 'asgd-exchange.js', args: ['torn', String(1 << 16), '1.5'], timeoutMs: 60000 });
  const lines = result.stdout.split('\n').filter((l) => l.startsWith('PASS torn'));
  t.is(lines.length, 2, result.stderr);
  const data = lines.map((l) => JSON.parse(l.split(' ').slice(3).join(' ')) as Record<string, number>);
  t.is(data.reduce((s, d) => s + d.bad!, 0), 0);
  const sum = (k: string): number => data.reduce((s, d) => s + d[k]!, 0);
  t.log(`states taken ${sum('checked')}, superseded ${sum('superseded')}, naive copies torn ${sum('naiveTorn')} of ${sum('naiveReads')}`);
});

uws('uws x3: sync keeps every rank identical after every step', async (t) => {
  const out = await solverJob('uws', 3, { problem: LSQ, config: config('sync', 60), trace: true }, 90000);
  t.is(out.ranks.length, 3, out.stderr);
  for (const r of out.ranks) t.deepEqual(r.trace, out.ranks[0]!.trace);
  t.is(out.ranks[0]!.trace!.length, 60);
});

uws('uws x2: sync checkpoint then resume equals the uninterrupted run exactly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'asgd-uws-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = (steps: number, resume: boolean): SolverConfig => ({ ...config('sync', steps), optimizer: { name: 'momentum', lr: 0.02, momentum: 0.9 }, checkpoint: { dir, resume } });
  await solverJob('uws', 2, { problem: LSQ, config: cfg(20, false) }, 90000);
  const resumed = await solverJob('uws', 2, { problem: LSQ, config: cfg(40, true) }, 90000);
  const straight = await solverJob('uws', 2, { problem: LSQ, config: config('sync', 40, { optimizer: { name: 'momentum', lr: 0.02, momentum: 0.9 } }) }, 90000);
  t.is(resumed.ranks.length, 2, resumed.stderr);
  for (let r = 0; r < 2; r++) {
    t.is(resumed.ranks[r]!.resumedFrom, 20);
    t.deepEqual(resumed.ranks[r]!.params, straight.ranks[r]!.params);
  }
});
