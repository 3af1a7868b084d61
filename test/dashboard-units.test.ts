/**
 * The dashboard's pure parts: the key check, metric record validation, health classification, the
 * launcher's aggregation of records into ticks (rates, job progress, ETA, deaths) and its bounded
 * history, and the --dashboard flags.
 */
import test from 'ava';
import { parseArgs } from '../runtime/launcher/args.js';
import { JobAggregator } from '../runtime/launcher/dashboard/aggregate.js';
import { classifyHealth, median, type HealthInput } from '../runtime/launcher/dashboard/health.js';
import { History } from '../runtime/launcher/dashboard/history.js';
import { keyInQuery, keyMatches, makeKey } from '../runtime/launcher/dashboard/key.js';
import type { JobMeta } from '../runtime/launcher/dashboard/messages.js';
import { MetricsRecordError, parseMetricsRecord, type MetricsRecord } from '../runtime/metrics-feed/record.js';
import { metricsDue, metricsFeedEnabled, publishMetrics } from '../runtime/metrics-feed/publish.js';

// ---- key ------------------------------------------------------------------------------------------

test('keys are random, URL-safe and long', (t) => {
  const keys = new Set(Array.from({ length: 200 }, () => makeKey()));
  t.is(keys.size, 200);
  for (const k of keys) t.regex(k, /^[A-Za-z0-9_-]{24}$/);
});

test('keyMatches: only the exact key, wherever it sits in the query', (t) => {
  const key = makeKey();
  t.true(keyMatches(`key=${key}`, key));
  t.true(keyMatches(`a=1&key=${key}&b=2`, key));
  t.true(keyMatches(`key=${encodeURIComponent(key)}`, key));
  t.false(keyMatches('', key));
  t.false(keyMatches('key=', key));
  t.false(keyMatches(`key=${key.slice(0, -1)}`, key));
  t.false(keyMatches(`key=${key}x`, key));
  t.false(keyMatches(`KEY=${key}`, key));
  t.false(keyMatches(`other=${key}`, key));
  t.false(keyMatches('key=', ''), 'an empty expected key matches nothing, not even an empty one');
  t.is(keyInQuery('x=1&key=abc'), 'abc');
  t.is(keyInQuery('x=1'), '');
});

// ---- records --------------------------------------------------------------------------------------

const good = { rank: 2, pid: 1234, host: 'node01', time: 1500.5, samples: 1000, steps: 10, loss: 0.5, error: null, progress: 0.25, sent: 9, received: 8, accepted: 3, transport: 'uws', solver: 'asgd', deadPeers: [1] };

test('a valid record parses to exactly its known fields', (t) => {
  t.deepEqual(parseMetricsRecord(JSON.stringify({ ...good, futureField: 1 }), 4), good as MetricsRecord);
  t.deepEqual(parseMetricsRecord('{"rank":0,"pid":1,"host":"h","time":0}', 1), { rank: 0, pid: 1, host: 'h', time: 0 });
});

test('invalid records are typed errors naming the field', (t) => {
  const bad: Array<[unknown, RegExp]> = [
    ['not json', /not JSON/],
    [[1, 2], /object/],
    [{ ...good, rank: 4 }, /rank must be a whole number 0\.\.3/],
    [{ ...good, rank: -1 }, /rank/],
    [{ ...good, rank: 1.5 }, /rank/],
    [{ ...good, time: -1 }, /time/],
    [{ ...good, time: 'now' }, /time/],
    [{ ...good, samples: -5 }, /samples/],
    [{ ...good, sent: 1e300 }, /sent/],
    [{ ...good, loss: 'NaN' }, /loss/],
    [{ ...good, progress: 1.5 }, /progress/],
    [{ ...good, host: 'h'.repeat(65) }, /host/],
    [{ ...good, deadPeers: [7] }, /deadPeers\[0\]/],
    [{ ...good, deadPeers: [0, 1, 2, 3, 0] }, /at most 4/],
    [{ ...good, pid: undefined }, /pid/],
  ];
  for (const [value, message] of bad) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const err = t.throws(() => parseMetricsRecord(text, 4), { instanceOf: MetricsRecordError }, text);
    t.regex(err!.message, message, text);
    t.is(err!.code, 'ERR_METRICS_RECORD');
  }
  t.throws(() => parseMetricsRecord(JSON.stringify({ ...good, host: 'x' }) + ' '.repeat(17000), 4), { message: /over the 16384-byte limit/ });
});

// ---- health ---------------------------------------------------------------------------------------

const running: HealthInput = { exit: undefined, silentMs: 50, lostMs: undefined, seenDeadBy: 0, rate: 100, medianRate: 100 };

test('health: exit, peers, lost connection, silence, rate, in that order', (t) => {
  t.deepEqual(classifyHealth(running), { health: 'alive', reason: '' });
  t.deepEqual(classifyHealth({ ...running, exit: { code: null, signal: 'SIGKILL' } }), { health: 'dead', reason: 'killed by SIGKILL' });
  t.deepEqual(classifyHealth({ ...running, exit: { code: 3, signal: null } }), { health: 'dead', reason: 'exited with code 3' });
  t.deepEqual(classifyHealth({ ...running, exit: { code: 0, signal: null }, seenDeadBy: 2 }), { health: 'done', reason: 'exited with code 0' });
  t.is(classifyHealth({ ...running, seenDeadBy: 2 }).health, 'dead');
  t.regex(classifyHealth({ ...running, seenDeadBy: 2 }).reason, /seen dead by 2 ranks/);
  t.is(classifyHealth({ ...running, lostMs: 999 }).health, 'alive', 'an exit is usually seen within ms of the connection closing');
  t.deepEqual(classifyHealth({ ...running, lostMs: 1000 }), { health: 'dead', reason: 'lost contact 1.0 s ago' });
  t.deepEqual(classifyHealth({ ...running, silentMs: undefined }), { health: 'starting', reason: 'no report yet' });
  t.deepEqual(classifyHealth({ ...running, silentMs: 2100 }), { health: 'slow', reason: 'no report for 2.1 s' });
  t.deepEqual(classifyHealth({ ...running, rate: 49 }), { health: 'slow', reason: '49% of the median rate' });
  t.is(classifyHealth({ ...running, rate: 50 }).health, 'alive');
  t.is(classifyHealth({ ...running, rate: 1, medianRate: null }).health, 'alive', 'no median, no comparison');
});

test('median needs two values', (t) => {
  t.is(median([]), null);
  t.is(median([5]), null);
  t.is(median([3, 1]), 2);
  t.is(median([9, 1, 5]), 5);
});

// ---- aggregation ------------------------------------------------------------------------------------

const meta = (size: number): JobMeta => ({ program: 'p', size, transport: 'uws', hosts: 'localhost', startedAt: 0 });
const rec = (rank: number, time: number, samples: number, extra: Partial<MetricsRecord> = {}): MetricsRecord =>
  ({ rank, pid: 100 + rank, host: 'h', time, samples, ...extra });

test('rates come from the ranks\' own clocks over ~2 s of reports', (t) => {
  const agg = new JobAggregator(meta(2), 0);
  // rank 0: 1,000 samples per 100 ms = 10,000/s; reports arrive late and bunched at the launcher
  for (let i = 0; i <= 30; i++) agg.ingest(rec(0, i * 100, i * 1000), 5000 + i);
  // rank 1: 500 samples per 100 ms
  for (let i = 0; i <= 30; i++) agg.ingest(rec(1, i * 100, i * 500), 5000 + i);
  const view = agg.view(5100);
  t.is(view.ranks[0]!.rate, 10000);
  t.is(view.ranks[1]!.rate, 5000);
  t.is(view.job.rate, 15000);
  t.is(view.ranks[0]!.pid, 100);
  t.deepEqual(view.job.counts, { starting: 0, alive: 2, slow: 0, dead: 0, done: 0, stopped: 0 });
});

test('a rank killed, one lost, one seen dead by a peer, one silent, one finished', (t) => {
  const agg = new JobAggregator(meta(6), 0);
  for (let r = 0; r < 6; r++) agg.ingest(rec(r, 1000, 100 * r, r === 0 ? { deadPeers: [2] } : {}), 1000);
  agg.rankExited(1, { code: null, signal: 'SIGKILL' });
  agg.feedClosed(3, 1000);
  agg.rankExited(5, { code: 0, signal: null });
  agg.ingest(rec(0, 1500, 100, { deadPeers: [2] }), 1500);
  for (const r of [2, 3, 5]) agg.ingest(rec(r, 1500, 100), 1500);
  agg.feedClosed(3, 1600);
  const v = agg.view(2700);
  t.deepEqual(v.ranks.map((x) => x.health), ['alive', 'dead', 'dead', 'dead', 'slow', 'done']);
  t.is(v.ranks[1]!.reason, 'killed by SIGKILL');
  t.regex(v.ranks[2]!.reason, /seen dead by 1 rank/);
  t.is(v.ranks[3]!.reason, 'lost contact 1.1 s ago');
  t.is(v.ranks[4]!.reason, 'no report for 1.7 s');
  t.is(v.ranks[5]!.progress, 1);
  t.deepEqual(v.job.counts, { starting: 0, alive: 1, slow: 1, dead: 3, done: 1, stopped: 0 });
  // a dead rank's report of others does not count
  agg.rankExited(0, { code: 1, signal: null });
  agg.ingest(rec(2, 2000, 200), 2700);
  t.is(agg.view(2700).ranks[2]!.health, 'alive');
});

test('threads: the exit of the one process is every rank\'s', (t) => {
  const agg = new JobAggregator(meta(3), 0);
  agg.rankExited(undefined, { code: null, signal: 'SIGTERM' });
  t.deepEqual(agg.view(10).ranks.map((x) => x.health), ['dead', 'dead', 'dead']);
});

test('ranks pgas-run stopped itself are "stopped", not dead; a rank that failed first stays dead', (t) => {
  const agg = new JobAggregator(meta(3), 0);
  agg.rankExited(0, { code: 3, signal: null });
  agg.rankExited(1, { code: null, signal: 'SIGTERM' });
  agg.rankExited(2, { code: 0, signal: null });
  for (const r of [1, 2]) agg.rankStoppedByLauncher(r); // rank 2 finished before the signal reached it
  const v = agg.view(10);
  t.deepEqual(v.ranks.map((x) => x.health), ['dead', 'stopped', 'done']);
  t.is(v.ranks[1]!.reason, 'stopped by pgas-run (killed by SIGTERM)');
  t.is(v.job.counts.stopped, 1);
  t.deepEqual(classifyHealth({ ...running, exit: { code: null, signal: 'SIGKILL' }, stoppedByLauncher: true }).health, 'stopped');
});

test('job progress is the least of the running ranks; ETA the longest', (t) => {
  const agg = new JobAggregator(meta(3), 0);
  agg.ingest(rec(0, 10000, 1, { progress: 0.5 }), 100); // 10 s for half: 10 s to go
  agg.ingest(rec(1, 10000, 1, { progress: 0.25 }), 100); // 10 s for a quarter: 30 s to go
  agg.ingest(rec(2, 10000, 1, { progress: 0.1 }), 100);
  agg.rankExited(2, { code: null, signal: 'SIGKILL' }); // the dead do not hold the job back
  const job = agg.view(200).job;
  t.is(job.progress, 0.25);
  t.is(job.eta, 30);
  agg.rankExited(0, { code: 0, signal: null });
  agg.rankExited(1, { code: 0, signal: null });
  const end = agg.view(300).job;
  t.is(end.progress, 1);
  t.is(end.eta, null);
});

test('ticks build the history; dead ranks leave gaps', (t) => {
  const agg = new JobAggregator(meta(2), 0);
  agg.ingest(rec(0, 0, 0, { loss: 2, error: 0.5 }), 0);
  agg.ingest(rec(0, 1000, 1000, { loss: 1, error: 0.25 }), 1000);
  agg.ingest(rec(1, 1000, 1000, { loss: 3 }), 1000);
  agg.tick(1000);
  agg.rankExited(1, { code: null, signal: 'SIGKILL' });
  agg.tick(1100);
  const h = agg.hello(1100).history;
  t.deepEqual(h.t, [1, 1.1]);
  t.deepEqual(h.rate, [[1000, 1000], [null, null]]);
  t.deepEqual(h.loss, [[1, 1], [3, null]]);
  t.deepEqual(h.error, [[0.25, 0.25], [null, null]]);
});

test('history stays within its capacity and spans the whole job', (t) => {
  const h = new History(1, 8);
  for (let i = 0; i < 1000; i++) h.add(i, [i], [null], [null]);
  t.true(h.length <= 8 && h.length >= 4, `length ${h.length}`);
  t.is(h.data.t[0], 0);
  t.true(h.data.t.at(-1)! >= 1000 - 1000 / 4, `last point ${h.data.t.at(-1)}`);
  const gaps = h.data.t.slice(1).map((v, i) => v - h.data.t[i]!);
  t.true(gaps.every((g) => g === gaps[0]), `even spacing ${gaps}`);
  t.deepEqual(h.data.rate[0], h.data.t);
  t.throws(() => new History(1, 1), { instanceOf: RangeError });
});

// ---- flags ----------------------------------------------------------------------------------------

test('--dashboard takes an optional =PORT and never the next argument', (t) => {
  const opts = (argv: string[]) => {
    const c = parseArgs(argv);
    if (c.kind !== 'launch') throw new Error('expected launch');
    return c.options;
  };
  const a = opts(['-n', '2', '--dashboard', 'prog.js', '--x']);
  t.is(a.dashboardPort, 0);
  t.is(a.dashboardHost, '127.0.0.1');
  t.is(a.program, 'prog.js');
  t.deepEqual(a.programArgs, ['--x']);
  t.is(opts(['-n', '2', '--dashboard=8123', 'p.js']).dashboardPort, 8123);
  const b = opts(['-n', '2', '--dashboard', '--dashboard-host', '0.0.0.0', '--dashboard-dir', 'out', 'p.js']);
  t.is(b.dashboardHost, '0.0.0.0');
  t.is(b.dashboardDir, 'out');
  t.is(opts(['-n', '2', 'p.js']).dashboardPort, undefined);
  t.throws(() => parseArgs(['-n', '2', '--dashboard=http', 'p.js']), { message: /--dashboard needs a whole number/ });
  t.throws(() => parseArgs(['-n', '2', '--dashboard=70000', 'p.js']), { message: /between 0 and 65535/ });
  t.throws(() => parseArgs(['-n', '2', '--dashboard-host', '1.2.3.4', 'p.js']), { message: /need --dashboard/ });
  t.throws(() => parseArgs(['-n', '2', '--dashboard', '--dashboard-host', 'a b', 'p.js']), { message: /host name or address/ });
  t.throws(() => parseArgs(['--dashboard', 'p.js']), { message: /--dashboard needs -n/ });
});

// ---- the rank side without a dashboard ------------------------------------------------------------

test('without PGAS_METRICS_FEED publishing is a no-op', (t) => {
  t.is(process.env.PGAS_METRICS_FEED, undefined);
  t.false(metricsFeedEnabled());
  t.false(metricsDue());
  t.notThrows(() => publishMetrics(0, { samples: 1 }));
});
