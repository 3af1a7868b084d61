/**
 * The registered K-Means application (asgd, 3 ranks, pgas-run --tolerate-failures) with rank 2
 * SIGKILLed while training: the survivors finish training, rank 0 reports the result made from the
 * survivors (all true clusters found), and the launcher exits 0 naming the lost rank and when.
 */
import test from 'ava';
import { ranksWithEnvMarker } from './fixtures/fault-lib.js';
import { baseEnv, startLauncher, uniqueMarker, uwsMissingReason } from './fixtures/launcher-harness.js';

const MARKER_VAR = 'PGAS_FAULT_TEST_MARKER';
const missing = uwsMissingReason();
(missing ? test.skip : test.serial)('kmeans app: a rank SIGKILLed mid-training, the survivors still report the clusters', async (t) => {
  const marker = uniqueMarker('fault-kmeans');
  const kill = (): void => { for (const p of ranksWithEnvMarker(MARKER_VAR, marker)) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } } };
  t.teardown(kill);
  const job = startLauncher(['-n', '3', '--tolerate-failures', '-x', `${MARKER_VAR}=${marker}`, 'kmeans', '--size', '20M', '--k', '10', '--batch', '256', '--time', '8', '--progress-every', '1'], { env: baseEnv(), timeoutMs: 110000 });
  await job.waitFor(/\[kmeans\] [2-9]\.\d s/, 1, 90000);
  const victim = ranksWithEnvMarker(MARKER_VAR, marker).find((p) => p.rank === 2);
  t.truthy(victim, 'rank 2 not found');
  if (victim) process.kill(victim.pid, 'SIGKILL');
  const r = await job.done;
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /dead ranks: 2 \(killed by SIGKILL on localhost\) [\d.]+ s after start/);
  t.regex(r.stdout, /result: found all 10 clusters/);
  t.regex(r.stdout, /per rank .*rank 0: .*rank 1: /);
  t.notRegex(r.stdout, /rank 2: \d/);
});
