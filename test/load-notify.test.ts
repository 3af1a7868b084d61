/**
 * Notifications under contention, short version (a million of each is
 * `node dist/bench/reliability/run.js notify`): 8 ranks, 100,000 notifications to distinct ids and
 * 20,000 fetchAdds + notifications on shared ids. None lost: every distinct id holds its round's
 * value, every counter equals the fetchAdds aimed at it, the old values fetchAdd returned are
 * 0..n-1 once each, every aimed-at shared id is set.
 */
import test from 'ava';
import { probeUcx, taggedLines } from './fixtures/fault-lib.js';
import { uwsMissingReason } from './fixtures/launcher-harness.js';
import { runJob } from './helpers/job.js';

interface Notify {
  distinct: { sent: number; received: number; lost: number };
  shared: { fetchAdds: number; countedHere: number; counterMismatch: number; oldValueMismatch: number; sharedIdsUnset: number };
}

function notifyJob(transport: 'uws' | 'ucx', distinct: number, shared: number): ReturnType<typeof runJob> {
  return runJob({ transport: 'uws', size: 8, fixture: '../../bench/reliability/notify-rank.js', args: [String(distinct), String(shared)], env: transport === 'ucx' ? { PGAS_TRANSPORT: 'ucx' } : {}, timeoutMs: 110000 });
}

const missing = uwsMissingReason();
(missing ? test.skip : test.serial)('uws x8: notifications to distinct and shared ids and fetchAdd counters under contention: none lost', async (t) => {
  const r = await notifyJob('uws', 100_000, 20_000);
  t.deepEqual(r.codes, Array(8).fill(0), r.stderr);
  const ranks = taggedLines<Notify>(r.stdout, 'RESULT').map((x) => x.body);
  t.is(ranks.length, 8, r.stdout + r.stderr);
  const sum = (f: (n: Notify) => number): number => ranks.reduce((s, n) => s + f(n), 0);
  t.true(sum((n) => n.distinct.sent) >= 100_000);
  t.is(sum((n) => n.distinct.received), sum((n) => n.distinct.sent));
  t.is(sum((n) => n.distinct.lost), 0);
  t.is(sum((n) => n.shared.fetchAdds), 20_000);
  t.is(sum((n) => n.shared.countedHere), 20_000);
  t.is(sum((n) => n.shared.counterMismatch), 0);
  t.is(sum((n) => n.shared.oldValueMismatch), 0);
  t.is(sum((n) => n.shared.sharedIdsUnset), 0);
  t.log(`${sum((n) => n.distinct.sent)} distinct-id notifications, ${sum((n) => n.shared.fetchAdds)} fetchAdds + shared-id notifications: none lost`);
});

const ucx = probeUcx();
if (!ucx.usable) test.skip(`ucx x8: notifications under contention (skipped: ${ucx.reason})`, () => {});
else {
  test.serial('ucx x8: 100,000 distinct-id notifications and 20,000 fetchAdds + shared-id notifications: none lost', async (t) => {
    const r = await notifyJob('ucx', 100_000, 20_000);
    t.deepEqual(r.codes, Array(8).fill(0), r.stderr);
    const ranks = taggedLines<Notify>(r.stdout, 'RESULT').map((x) => x.body);
    t.is(ranks.length, 8);
    t.is(ranks.reduce((s, n) => s + n.distinct.lost + n.shared.counterMismatch + n.shared.oldValueMismatch + n.shared.sharedIdsUnset, 0), 0);
    t.is(ranks.reduce((s, n) => s + n.shared.countedHere, 0), 20_000);
  });
  // Not in the suite: at 300,000 distinct ids (more in flight per target than the queue depth) a
  // rank sometimes aborts inside UCX (RELIABILITY.md, "Found and not fixed here"); it aborted in
  // all 4 runs of bench/reliability/run.js at that size but passed once under ava: flaky, so not a test.
}
