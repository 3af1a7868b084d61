/**
 * Whole-job restart: a job started with --checkpoint-dir DIR is killed (one rank SIGKILLed, so
 * pgas-run stops the rest), then `pgas-run --resume DIR` runs it again from its last checkpoints. For
 * sync the final state equals an uninterrupted run's bit for bit; for asgd (whose exchange timing is
 * not reproducible) it reaches the optimum as closely as the uninterrupted run does.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SolverConfig } from '../runtime/asgd/config.js';
import { syntheticOptimum, type SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';
import { distance } from './fixtures/asgd-lib.js';
import { announcedPid, specArg, taggedLines } from './fixtures/fault-lib.js';
import { baseEnv, killMarked, runLauncher, startLauncher, uniqueMarker, uwsMissingReason } from './fixtures/launcher-harness.js';

const LSQ: SyntheticArgs = { kind: 'leastsq', rows: 512, dim: 16, l2: 0.01, noise: 0.1 };
const SIZE = 3;
interface Result { steps: number; resumedFrom: number | null; params: number[] }

async function resumeMatches(t: ExecutionContext, config: SolverConfig): Promise<{ whole: Result[]; resumed: Result[] }> {
  const marker = uniqueMarker(`fault-resume-${config.solver}`);
  const dir = mkdtempSync(join(tmpdir(), 'fault-resume-'));
  t.teardown(() => { killMarked(marker); rmSync(dir, { recursive: true, force: true }); });
  const spec = specArg({ problem: LSQ, config, signalStep: 400 });
  const opts = { env: baseEnv(), timeoutMs: 110000 };

  const whole = await runLauncher(['-n', String(SIZE), 'test/fixtures/fault-solver.ts', spec, marker], opts);
  t.is(whole.code, 0, whole.stderr);

  const killed = startLauncher(['-n', String(SIZE), '--checkpoint-dir', dir, '-x', 'PGAS_CHECKPOINT_EVERY_STEPS=50', 'test/fixtures/fault-solver.ts', spec, marker], opts);
  await killed.waitFor(/^\[1\] STEP 1 /m, 1, 60000);
  process.kill(announcedPid(killed.stdout(), 1), 'SIGKILL');
  const k = await killed.done;
  t.not(k.code, 0);
  t.regex(k.stderr, /rank 1 killed by SIGKILL/);
  t.is(taggedLines(k.stdout, 'RESULT').length, 0, 'the killed job finished anyway: nothing to resume');

  const again = await runLauncher(['--resume', dir], opts);
  t.is(again.code, 0, again.stderr);
  const resumed = taggedLines<Result>(again.stdout, 'RESULT').map((x) => x.body);
  t.is(resumed.length, SIZE, again.stdout + again.stderr);
  for (const r of resumed) {
    t.true(r.resumedFrom !== null && r.resumedFrom >= 50, `resumed from ${String(r.resumedFrom)}`);
    t.is(r.steps, config.stop!.steps!);
  }
  return { whole: taggedLines<Result>(whole.stdout, 'RESULT').map((x) => x.body), resumed };
}

const uwsMissing = uwsMissingReason();
const uws = uwsMissing ? test.skip : test.serial;

uws('pgas-run --resume: a killed sync job continues and ends bit-identical to an uninterrupted run', async (t) => {
  const config: SolverConfig = { solver: 'sync', optimizer: { name: 'momentum', lr: 0.05, momentum: 0.9 }, batchSize: 8, seed: 3, stop: { steps: 1500 } };
  const { whole, resumed } = await resumeMatches(t, config);
  t.is(whole.length, SIZE);
  for (let r = 0; r < SIZE; r++) t.deepEqual(resumed[r]!.params, whole[r]!.params, `rank ${r}`);
  t.log(`resumed from steps ${resumed.map((r) => r.resumedFrom).join(', ')}`);
});

uws('pgas-run --resume: a killed asgd job continues and reaches the optimum like an uninterrupted run', async (t) => {
  const config: SolverConfig = { solver: 'asgd', optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 8, seed: 7, stop: { steps: 3000 } };
  const { whole, resumed } = await resumeMatches(t, config);
  const optimum = syntheticOptimum(LSQ);
  const dWhole = whole.map((r) => distance(Float32Array.from(r.params), optimum));
  const dResumed = resumed.map((r) => distance(Float32Array.from(r.params), optimum));
  for (const d of dResumed) t.true(d < 0.06, `resumed distance ${d}`);
  for (let r = 0; r < SIZE; r++) t.true(Math.abs(dResumed[r]! - dWhole[r]!) < 0.03, `rank ${r}: ${dResumed[r]} vs ${dWhole[r]}`);
  t.log(`distance to optimum: uninterrupted ${dWhole.map((d) => d.toFixed(4)).join(', ')}; resumed (from steps ${resumed.map((r) => r.resumedFrom).join(', ')}) ${dResumed.map((d) => d.toFixed(4)).join(', ')}`);
});

test('pgas-run --resume refuses a directory without a job record or without every rank\'s checkpoint', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fault-resume-empty-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await runLauncher(['--resume', dir], { env: baseEnv() });
  t.is(r.code, 2);
  t.regex(r.stderr, /--resume .*cannot read .*job\.json.*--checkpoint-dir/);
});
