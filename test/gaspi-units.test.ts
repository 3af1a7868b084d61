/** Pure pieces of issue 11: queue config, the stats layout and its formatting, allreduceElemMax. */
import test from 'ava';
import { resolveConfig, ConfigError } from '../pgas/index.js';
import { allreduceElemMax } from '../pgas/collectives/allreduce.js';
import { SharedState } from '../pgas/shared-state.js';
import { IN_ATOMIC, IN_GET, IN_NOTIFY, IN_PUT_NOTIFY, countIncoming } from '../pgas/stats-layout.js';
import { formatStats, readStats, statsLine, STATS_LINE_PREFIX, type RankStats } from '../pgas/stats.js';

test('initialQueues defaults to queues and may not exceed it', (t) => {
  t.is(resolveConfig({}).initialQueues, 8);
  t.is(resolveConfig({ queues: 16 }).initialQueues, 16);
  t.is(resolveConfig({ queues: 16, initialQueues: 8 }).initialQueues, 8);
  const error = t.throws(() => resolveConfig({ queues: 4, initialQueues: 8 }));
  t.true(error instanceof ConfigError && /initialQueues \(8\) must not exceed queues \(4\)/.test(error.message), String(error));
  t.throws(() => resolveConfig({ initialQueues: 0 }), { instanceOf: ConfigError });
});

test('the stats region sits after the queue words and starts at zero', (t) => {
  const shared = SharedState.create(5, resolveConfig({ queues: 3 }));
  t.is(shared.stats.length, 5 * 20 + 8);
  t.true(shared.stats.byteOffset >= shared.queues.byteOffset + shared.queues.byteLength);
  t.is(shared.stats.byteOffset % 8, 0);
  t.true(shared.stats.every((v) => v === 0));
  t.is(shared.queueCount, 3 + 2, 'collectives queue and read queue');
});

test('countIncoming classifies ops by kind, and internal slots as internal traffic', (t) => {
  const shared = SharedState.create(3, resolveConfig({ maxSegments: 4 }));
  countIncoming(shared.stats, 2, 0, 4, IN_PUT_NOTIFY, 100);
  countIncoming(shared.stats, 2, 1, 4, IN_GET, 30);
  countIncoming(shared.stats, 2, 1, 4, IN_NOTIFY, 0);
  countIncoming(shared.stats, 2, 3, 4, IN_ATOMIC, 8);
  countIncoming(shared.stats, 1, 4, 4, IN_PUT_NOTIFY, 64); // slot 4 = the world group's internal segment
  const s = readStats(shared.stats, 0, 3, 'uws', true);
  t.like(s.peers[2]!.received, { putOps: 1, putBytes: 100, notifyOps: 2, getOps: 1, getBytes: 30, atomicOps: 1, internalOps: 0 });
  t.like(s.peers[1]!.received, { putOps: 0, internalOps: 1, internalBytes: 64 });
  t.is(readStats(shared.stats, 0, 3, 'ucx', false).peers[2]!.received, undefined);
});

test('formatStats and the stats line', (t) => {
  const shared = SharedState.create(3, resolveConfig({}));
  countIncoming(shared.stats, 1, 0, 64, IN_PUT_NOTIFY, 2048);
  const s = readStats(shared.stats, 0, 3, 'threads', true);
  const lines = formatStats(s);
  t.is(lines[0], 'rank 0 [threads]: waits 0 (0.0 ms), waitNotify 0 (0.0 ms), collectives 0 (0.0 ms)');
  t.regex(lines[2]!, /received: put 1 \(2\.0 KiB\), get 0 \(0 B\), notify 1/);
  t.is(lines.length, 4, 'one line for the only peer with traffic');
  const line = statsLine(s);
  t.true(line.startsWith(STATS_LINE_PREFIX));
  const record = JSON.parse(line.slice(STATS_LINE_PREFIX.length)) as RankStats;
  t.deepEqual(record.peers.map((p) => p.rank), [1], 'peers without traffic are left out');
});

test('allreduceElemMax is the chunk in elements', (t) => {
  t.is(allreduceElemMax(1 << 20, 4), 262144);
  t.is(allreduceElemMax(1 << 20, 8), 131072);
});
