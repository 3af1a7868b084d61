/**
 * Synchronous solvers facing a dead rank: sync and distnewton (every rank needed at every step) end
 * on every survivor with RankLostError (code ERR_ASGD_RANK_LOST, naming the lost rank) soon after
 * the SIGKILL, never hang. The bound asserted is only a hang-catcher; the measured time is logged.
 */
import test, { type ExecutionContext } from 'ava';
import type { SolverConfig } from '../runtime/asgd/config.js';
import type { SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';
import { announcedPid, probeUcx, specArg, taggedLines } from './fixtures/fault-lib.js';
import { baseEnv, killMarked, startLauncher, uniqueMarker, uwsMissingReason } from './fixtures/launcher-harness.js';

const LSQ: SyntheticArgs = { kind: 'leastsq', rows: 512, dim: 16, l2: 0.01, noise: 0.1 };
const VICTIM = 1;

const CONFIGS: Record<string, SolverConfig> = {
  sync: { solver: 'sync', optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 8, seed: 3, stop: { steps: 10_000_000 } },
  distnewton: { solver: 'distnewton', optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 8, seed: 3, stop: { steps: 10_000_000 }, distnewton: { lambda: 0.1, tau: 0.05, boundStep: true } },
};

interface Failure { name: string; code: string; message: string; lostRank: number; at: number; lastStep: number }

async function failFast(t: ExecutionContext, transport: 'uws' | 'ucx', solver: string): Promise<void> {
  const marker = uniqueMarker(`fault-sync-${solver}`);
  t.teardown(() => killMarked(marker));
  const spec = { problem: LSQ, config: CONFIGS[solver], signalStep: 40 };
  const job = startLauncher(['-n', '3', '--transport', transport, '--tolerate-failures', 'test/fixtures/fault-solver.ts', specArg(spec), marker], { env: baseEnv(), timeoutMs: 90000 });
  await job.waitFor(new RegExp(`^\\[${VICTIM}\\] STEP ${VICTIM} `, 'm'), 1, 60000);
  const killedAt = Date.now();
  process.kill(announcedPid(job.stdout(), VICTIM), 'SIGKILL');
  const r = await job.done;
  t.is(r.signal, null, 'pgas-run was killed by the test timeout: a survivor hung');
  const errors = taggedLines<Failure>(r.stdout, 'ERROR');
  t.deepEqual(errors.map((e) => e.rank), [0, 2], r.stdout + r.stderr);
  const delays: number[] = [];
  for (const { rank, body } of errors) {
    t.is(body.name, 'RankLostError', `rank ${rank}: ${body.message}`);
    t.is(body.code, 'ERR_ASGD_RANK_LOST');
    t.is(body.lostRank, VICTIM);
    t.regex(body.message, new RegExp(`solver '${solver}' lost rank ${VICTIM} at step \\d+`));
    delays.push(body.at - killedAt);
    t.true(body.at - killedAt < 30000, `rank ${rank} took ${body.at - killedAt} ms to fail`);
  }
  t.regex(r.stderr, /exited with code 3/);
  t.log(`${transport} ${solver}: survivors failed ${delays.join(', ')} ms after the SIGKILL`);
}

const uwsMissing = uwsMissingReason();
const ucx = probeUcx();
for (const solver of Object.keys(CONFIGS)) {
  if (uwsMissing) test.skip(`uws ${solver}: dead rank (skipped: ${uwsMissing})`, () => {});
  else test.serial(`uws: ${solver} fails fast with RankLostError when a rank is SIGKILLed`, (t) => failFast(t, 'uws', solver));
  if (!ucx.usable) test.skip(`ucx ${solver}: dead rank (skipped: ${ucx.reason})`, () => {});
  else test.serial(`ucx: ${solver} fails fast with RankLostError when a rank is SIGKILLed`, (t) => failFast(t, 'ucx', solver));
}
