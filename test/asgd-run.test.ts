/**
 * Run control, metrics and checkpoints, in real jobs: every stop condition ends a run with its
 * reason; the seed decides everything; schedules drive the rate; metric lines and the merged summary;
 * checkpoints written atomically and resumed (sync exactly, asgd within tolerance); a checkpoint of
 * another model shape fails on every rank before anything is trained.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SolverConfig } from '../runtime/asgd/config.js';
import { syntheticOptimum, syntheticProblem, type SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';
import { Rng, Stream } from '../runtime/asgd/rng.js';
import { Schedule, validateScheduleConfig } from '../runtime/asgd/schedule.js';
import { summarizeMetricsDir } from '../runtime/asgd/run/metrics.js';
import { distance, solverJob } from './fixtures/asgd-lib.js';

const LSQ: SyntheticArgs = { kind: 'leastsq', rows: 512, dim: 8, l2: 0.01, noise: 0.1 };
const base = (solver: SolverConfig['solver'], stop: SolverConfig['stop'], extra: Partial<SolverConfig> = {}): SolverConfig => ({
  solver, optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 8, seed: 5, stop, ...extra,
});

function tempDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'asgd-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test.serial('stop conditions: samples, epochs, seconds, each with its reason', async (t) => {
  const bySamples = await solverJob('threads', 1, { problem: LSQ, config: base('asgd', { samples: 1000 }) });
  t.like(bySamples.ranks[0], { steps: 125, samples: 1000, stopReason: 'samples' });
  const byEpochs = await solverJob('threads', 2, { problem: LSQ, config: base('asgd', { epochs: 2 }) });
  for (const r of byEpochs.ranks) t.like(r, { steps: 64, samples: 512, stopReason: 'epochs' });
  const bySeconds = await solverJob('threads', 2, { problem: LSQ, config: base('asgd', { seconds: 0.2 }) });
  for (const r of bySeconds.ranks) {
    t.is(r.stopReason, 'seconds');
    t.true(r.steps > 0);
  }
  const syncSeconds = await solverJob('threads', 2, { problem: LSQ, config: base('sync', { seconds: 0.2 }) });
  t.is(syncSeconds.ranks.length, 2, syncSeconds.stderr);
  t.is(syncSeconds.ranks[0]!.steps, syncSeconds.ranks[1]!.steps, 'sync ranks stop at the same step');
  t.deepEqual(syncSeconds.ranks[0]!.params, syncSeconds.ranks[1]!.params);
});

test.serial('target loss and target score end the run once reached', async (t) => {
  const { model, data } = syntheticProblem({ part: 0, parts: 1, seed: 5, args: LSQ });
  const best = model.loss(Float32Array.from(syntheticOptimum(LSQ)), data.all());
  const target = best * 1.05;
  for (const solver of ['asgd', 'sync'] as const) {
    const out = await solverJob('threads', 2, { problem: LSQ, config: base(solver, { steps: 100000, targetLoss: target, evalEvery: 10 }) });
    t.is(out.ranks.length, 2, out.stderr);
    for (const r of out.ranks) {
      t.is(r.stopReason, 'targetLoss', `${solver} rank ${r.rank}`);
      t.true(r.steps < 100000 && r.steps % 10 === 0, `${solver}: ${r.steps} steps`);
    }
    if (solver === 'sync') t.is(out.ranks[0]!.steps, out.ranks[1]!.steps);
    else for (const r of out.ranks) t.true(r.finalLoss <= target, `asgd rank ${r.rank} loss ${r.finalLoss}`);
  }
  const logistic: SyntheticArgs = { kind: 'logistic', rows: 1000, dim: 4, l2: 0.1 };
  const scored = await solverJob('threads', 1, { problem: logistic, config: { ...base('asgd', { steps: 100000, targetScore: 0.7, evalEvery: 5 }), optimizer: { name: 'sgd', lr: 0.5 } } });
  t.is(scored.ranks[0]!.stopReason, 'targetScore');
  t.true(scored.ranks[0]!.finalScore! >= 0.7);
});

test.serial('the seed decides the run; a schedule drives the rate', async (t) => {
  const a = await solverJob('threads', 1, { problem: LSQ, config: base('asgd', { steps: 50 }) });
  const b = await solverJob('threads', 1, { problem: LSQ, config: base('asgd', { steps: 50 }) });
  const c = await solverJob('threads', 1, { problem: LSQ, config: { ...base('asgd', { steps: 50 }), seed: 6 } });
  t.deepEqual(a.ranks[0]!.params, b.ranks[0]!.params);
  t.notDeepEqual(a.ranks[0]!.params, c.ranks[0]!.params);
  const schedule = { policy: 'step', gamma: 0.5, stepsize: 10 } as const;
  const out = await solverJob('threads', 1, { problem: { ...LSQ, initScale: 1 }, config: { ...base('asgd', { steps: 35 }), schedule } });
  const { model, data } = syntheticProblem({ part: 0, parts: 1, seed: 5, args: { ...LSQ, initScale: 1 } });
  const w = new Float32Array(8);
  const g = new Float32Array(8);
  model.init(w, new Rng(5, Stream.Init));
  const rate = new Schedule(validateScheduleConfig(schedule));
  for (let s = 0; s < 35; s++) {
    model.gradient(w, data.next(8), g);
    const lr = rate.rate(0.05, s);
    t.is(lr, 0.05 * 0.5 ** Math.floor(s / 10));
    for (let k = 0; k < 8; k++) w[k] = w[k]! - lr * g[k]!;
  }
  t.deepEqual(out.ranks[0]!.params, Array.from(w));
});

test.serial('metrics: JSON lines per rank every N steps, and the merged summary', async (t) => {
  const dir = tempDir(t);
  const out = await solverJob('threads', 2, { problem: LSQ, config: base('asgd', { steps: 200 }, { metrics: { dir, every: 50 } }) });
  t.is(out.ranks.length, 2, out.stderr);
  t.deepEqual(readdirSync(dir).sort(), ['rank-0.jsonl', 'rank-1.jsonl', 'summary.json']);
  for (const rank of [0, 1]) {
    const lines = readFileSync(join(dir, `rank-${rank}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    t.deepEqual(lines.map((l) => l.step), [50, 100, 150, 200, 200], 'every 50 steps, plus the final line');
    for (const line of lines) {
      for (const key of ['rank', 'time', 'samples', 'epoch', 'lr', 'sent', 'received', 'accepted', 'rejectedWindow', 'rejectedNonFinite', 'torn']) t.true(key in line, `${key} in ${JSON.stringify(line)}`);
      t.is(line.rank, rank);
    }
    t.true(lines[0]!.loss! > 0, 'mean training loss of the interval');
    t.is(lines[1]!.samples, 800);
    t.true('evalLoss' in lines.at(-1)!, 'the final line has the evaluation');
  }
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown> & { totals: Record<string, number> };
  t.like(summary, { solver: 'asgd', ranks: 2, steps: [200, 200], totalSamples: 3200, stopReasons: ['steps', 'steps'] });
  t.is(summary.totals.sent, 400);
  t.deepEqual(summary, out.ranks[0]!.summary as unknown as Record<string, unknown>);
  const fromFiles = summarizeMetricsDir(dir);
  t.like(fromFiles, { solver: 'asgd', ranks: 2, steps: [200, 200], totalSamples: 3200, stopReasons: ['steps', 'steps'] });
  t.is(fromFiles.totals.sent, 400);
  t.is(fromFiles.totals.received, summary.totals.received);
});

test.serial('sync: checkpoint then resume equals the uninterrupted run exactly (momentum state included)', async (t) => {
  const dir = tempDir(t);
  const config = (steps: number, resume: boolean): SolverConfig => ({ ...base('sync', { steps }), optimizer: { name: 'momentum', lr: 0.02, momentum: 0.9 }, checkpoint: { dir, everySteps: 7, resume } });
  const first = await solverJob('threads', 3, { problem: LSQ, config: config(20, false) });
  t.is(first.ranks.length, 3, first.stderr);
  // each rank keeps its latest checkpoint and the one before it (.prev), never a temporary
  t.deepEqual(readdirSync(dir).sort(), ['rank-0.ckpt', 'rank-0.ckpt.prev', 'rank-1.ckpt', 'rank-1.ckpt.prev', 'rank-2.ckpt', 'rank-2.ckpt.prev'], 'no temporary files left');
  const resumed = await solverJob('threads', 3, { problem: LSQ, config: config(45, true) });
  const straight = await solverJob('threads', 3, { problem: LSQ, config: { ...config(45, false), checkpoint: undefined } as SolverConfig });
  t.is(resumed.ranks.length, 3, resumed.stderr + JSON.stringify(resumed.errors));
  for (let r = 0; r < 3; r++) {
    t.is(resumed.ranks[r]!.steps, 45);
    t.is(resumed.ranks[r]!.resumedFrom, 20, 'it did continue from the checkpoint');
    t.is(straight.ranks[r]!.resumedFrom, null);
    t.is(resumed.ranks[r]!.samples, straight.ranks[r]!.samples);
    t.deepEqual(resumed.ranks[r]!.params, straight.ranks[r]!.params, `rank ${r}`);
  }
  t.notDeepEqual(first.ranks[0]!.params, straight.ranks[0]!.params);
});

test.serial('asgd: one rank resumes exactly (Adam state, data cursor); several ranks within tolerance', async (t) => {
  const dir = tempDir(t);
  const adam = (steps: number, resume: boolean): SolverConfig => ({ ...base('asgd', { steps }), optimizer: { name: 'adam', lr: 0.01 }, checkpoint: { dir, resume } });
  await solverJob('threads', 1, { problem: LSQ, config: adam(150, false) });
  const resumed = await solverJob('threads', 1, { problem: LSQ, config: adam(300, true) });
  const straight = await solverJob('threads', 1, { problem: LSQ, config: { ...adam(300, false), checkpoint: undefined } as SolverConfig });
  t.is(resumed.ranks[0]!.resumedFrom, 150);
  t.deepEqual(resumed.ranks[0]!.params, straight.ranks[0]!.params);

  const dir2 = tempDir(t);
  const many = (steps: number, resume: boolean): SolverConfig => ({ ...base('asgd', { steps }), checkpoint: { dir: dir2, everySeconds: 0.05, resume } });
  await solverJob('threads', 3, { problem: LSQ, config: many(1500, false) });
  const again = await solverJob('threads', 3, { problem: LSQ, config: many(3000, true) });
  const whole = await solverJob('threads', 3, { problem: LSQ, config: { ...many(3000, false), checkpoint: undefined } as SolverConfig });
  const optimum = syntheticOptimum(LSQ);
  for (let r = 0; r < 3; r++) {
    t.is(again.ranks[r]!.steps, 3000);
    t.is(again.ranks[r]!.resumedFrom, 1500);
    const gap = distance(again.ranks[r]!.params, whole.ranks[r]!.params);
    t.true(gap < 0.05, `rank ${r}: resumed and uninterrupted differ by ${gap}`);
    t.true(distance(again.ranks[r]!.params, optimum) < 0.06);
  }
});

test.serial('paramserver: every rank checkpoints its part and the run resumes within tolerance', async (t) => {
  const dir = tempDir(t);
  const ps = (steps: number, resume: boolean): SolverConfig => ({ ...base('paramserver', { steps }), checkpoint: { dir, everySteps: 500, resume } });
  const first = await solverJob('threads', 3, { problem: LSQ, config: ps(1500, false) });
  t.is(first.ranks.length, 3, first.stderr);
  t.deepEqual(readdirSync(dir).filter((f) => !f.endsWith('.prev')).sort(), ['rank-0.ckpt', 'rank-1.ckpt', 'rank-2.ckpt']);
  const resumed = await solverJob('threads', 3, { problem: LSQ, config: ps(3000, true) });
  t.is(resumed.ranks.length, 3, resumed.stderr + JSON.stringify(resumed.errors));
  t.is(resumed.ranks[0]!.resumedFrom, 1500);
  t.is(resumed.ranks[0]!.steps, 3000);
  t.is(resumed.ranks[0]!.summary!.staleness!.count, 1500, 'only the updates of this run');
  t.true(distance(resumed.ranks[0]!.params, syntheticOptimum(LSQ)) < 0.06);
});

test.serial('a checkpoint of another model shape: every rank fails before training, with a clear error', async (t) => {
  const dir = tempDir(t);
  const metrics = tempDir(t);
  await solverJob('threads', 2, { problem: LSQ, config: base('asgd', { steps: 20 }, { checkpoint: { dir } }) });
  const out = await solverJob('threads', 2, { problem: { ...LSQ, dim: 9 }, config: base('asgd', { steps: 20 }, { checkpoint: { dir, resume: true }, metrics: { dir: metrics } }) });
  t.is(out.ranks.length, 0);
  t.is(out.errors.length, 2);
  for (const e of out.errors) {
    t.is(e.code, 'ERR_ASGD_CHECKPOINT_MISMATCH');
    t.regex(e.message, /model of 8 parameters, this model has 9/);
  }
  t.false(existsSync(join(metrics, 'rank-0.jsonl')), 'nothing was trained');
  // one rank's checkpoint missing: all ranks refuse, none starts over alone
  rmSync(join(dir, 'rank-1.ckpt'));
  const partial = await solverJob('threads', 2, { problem: LSQ, config: base('asgd', { steps: 40 }, { checkpoint: { dir, resume: true } }) });
  t.is(partial.errors.length, 2);
  t.true(partial.errors.every((e) => e.code === 'ERR_ASGD_CHECKPOINT_MISMATCH'));
});

test.serial('bad configurations fail on every rank before anything runs', async (t) => {
  const unknown = await solverJob('threads', 2, { problem: LSQ, config: { ...base('asgd', { steps: 5 }), solver: 'hogwash' as 'asgd' } });
  t.is(unknown.errors.length, 2);
  t.true(unknown.errors.every((e) => e.code === 'ERR_ASGD_UNKNOWN_NAME' && /unknown solver 'hogwash'/.test(e.message)));
  const boosted = await solverJob('threads', 2, { problem: LSQ, config: { ...base('sync', { steps: 5 }), optimizer: { name: 'boosted-sgd', lr: 0.1 } } });
  t.true(boosted.errors.length === 2 && boosted.errors.every((e) => e.code === 'ERR_ASGD_INCOMPATIBLE'));
  const nan = await solverJob('threads', 2, { problem: LSQ, config: { ...base('asgd', { steps: 5 }), optimizer: { name: 'sgd', lr: -1 } } });
  t.true(nan.errors.length === 2 && nan.errors.every((e) => e.code === 'ERR_ASGD_INVALID_OPTION'));
});

