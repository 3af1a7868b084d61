/**
 * A rank SIGKILLed in the middle of an asgd run, over uws and ucx, under pgas-run --tolerate-failures:
 * the survivors see it dead in their health vector within 2 s of the kill, stop sending to it, go on
 * training, and end the run among themselves; the result (rank 0's summary) is made from the
 * survivors and names the lost rank; the launcher's summary names the rank and when it died.
 */
import test, { type ExecutionContext } from 'ava';
import { syntheticOptimum, type SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';
import { announcedPid, probeUcx, specArg, taggedLines } from './fixtures/fault-lib.js';
import { baseEnv, killMarked, startLauncher, uniqueMarker, uwsMissingReason } from './fixtures/launcher-harness.js';
import { distance } from './fixtures/asgd-lib.js';

const LSQ: SyntheticArgs = { kind: 'leastsq', rows: 512, dim: 16, l2: 0.01, noise: 0.1 };
const VICTIM = 2;
const SIZE = 4;

interface Death { rank: number; seenAt: number; step: number; sent: number; sendFailed: number }
interface Result {
  steps: number;
  params: number[];
  counters: Record<string, number>;
  deaths: Death[];
  health: string[];
  summary: { ranks: number; lostRanks?: number[]; survivors?: number[] };
}

async function killMidRun(t: ExecutionContext, transport: 'uws' | 'ucx', env: string[]): Promise<void> {
  const marker = uniqueMarker(`fault-kill-${transport}`);
  t.teardown(() => killMarked(marker));
  const spec = {
    problem: LSQ,
    config: { solver: 'asgd', optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 8, seed: 7, stop: { seconds: 8 } },
    signalStep: 300,
  };
  const job = startLauncher(['-n', String(SIZE), '--transport', transport, '--tolerate-failures', ...env, 'test/fixtures/fault-solver.ts', specArg(spec), marker], { env: baseEnv(), timeoutMs: 110000 });
  await job.waitFor(new RegExp(`^\\[${VICTIM}\\] STEP ${VICTIM} `, 'm'), 1, 60000);
  const pid = announcedPid(job.stdout(), VICTIM);
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  const r = await job.done;
  t.is(r.code, 0, r.stderr);

  // the launcher names the lost rank and when
  const since = /rank 2 killed by SIGKILL on localhost; the job goes on without it \(--tolerate-failures\); ([\d.]+) s after start/.exec(r.stderr);
  t.truthy(since, r.stderr);
  t.regex(r.stderr, /dead ranks: 2 \(killed by SIGKILL on localhost\) [\d.]+ s after start/);

  const results = taggedLines<Result>(r.stdout, 'RESULT');
  t.deepEqual(results.map((x) => x.rank), [0, 1, 3], r.stdout + r.stderr);
  const detection: number[] = [];
  for (const { rank, body } of results) {
    const death = body.deaths.find((d) => d.rank === VICTIM);
    t.truthy(death, `rank ${rank} never saw rank ${VICTIM} dead`);
    if (!death) continue;
    detection.push(death.seenAt - killedAt);
    t.true(death.seenAt - killedAt < 2000, `rank ${rank} saw the death ${death.seenAt - killedAt} ms after the kill`);
    t.is(body.health[VICTIM], 'dead');
    // went on training and sending after the death, and no send went to the dead rank after it was seen
    t.true(body.steps > death.step, `rank ${rank} stopped at the death`);
    t.true(body.counters.sent! > death.sent, `rank ${rank} sent nothing after the death`);
    t.true(body.counters.sendFailed! - death.sendFailed <= 1, `rank ${rank}: ${body.counters.sendFailed! - death.sendFailed} sends failed after the death was seen`);
    t.true(distance(Float32Array.from(body.params), syntheticOptimum(LSQ)) < 0.1, `rank ${rank} did not converge`);
  }
  const summary = results.find((x) => x.rank === 0)!.body.summary;
  t.deepEqual(summary.lostRanks, [VICTIM]);
  t.deepEqual(summary.survivors, [0, 1, 3]);
  t.is(summary.ranks, 3);
  t.log(`${transport}: detection ${detection.join(', ')} ms after SIGKILL; launcher saw the exit ${since?.[1]} s after start`);
}

const uwsMissing = uwsMissingReason();
if (uwsMissing) test.skip(`uws: SIGKILL mid-asgd (skipped: ${uwsMissing})`, () => {});
else test.serial('uws: a rank SIGKILLed mid-asgd is seen dead within 2 s, the survivors finish with a result', (t) => killMidRun(t, 'uws', []));

const ucx = probeUcx();
if (!ucx.usable) test.skip(`ucx: SIGKILL mid-asgd (skipped: ${ucx.reason})`, () => {});
else test.serial('ucx: a rank SIGKILLed mid-asgd is seen dead within 2 s, the survivors finish with a result', (t) => killMidRun(t, 'ucx', []));
