/**
 * The dashboard server and the metrics feed over real sockets: the key check on every route (HTTP
 * and WebSocket upgrade), record validation on the feed, the page's hello and broadcasts, and a real
 * rank-like process publishing through runtime/metrics-feed (throttled to 10 records/s, keep-alive,
 * never keeping the process alive, a wrong key costs a warning and nothing else).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { WebSocket } from 'ws';
import { DashboardServer } from '../runtime/launcher/dashboard/server.js';
import type { MetricsRecord } from '../runtime/metrics-feed/record.js';
import { ROOT, baseEnv } from './fixtures/launcher-harness.js';

const VIEW = 'view-key-0123456789abcdef';
const FEED = 'feed-key-0123456789abcdef';

interface Harness {
  server: DashboardServer;
  base: string;
  records: MetricsRecord[];
  closed: number[];
  logs: string[];
}

async function startServer(): Promise<Harness> {
  const records: MetricsRecord[] = [];
  const closed: number[] = [];
  const logs: string[] = [];
  const server = new DashboardServer({
    host: '127.0.0.1', viewKey: VIEW, feedKey: FEED, size: 4,
    log: (l) => logs.push(l),
    handlers: {
      page: () => '<!doctype html><title>t</title>',
      hello: () => JSON.stringify({ type: 'hello', n: records.length }),
      record: (r) => records.push(r),
      feedClosed: (rank) => closed.push(rank),
    },
  });
  const port = await server.listen(0);
  return { server, base: `127.0.0.1:${port}`, records, closed, logs };
}

async function status(url: string, method = 'GET'): Promise<number> {
  const res = await fetch(url, { method });
  await res.arrayBuffer();
  return res.status;
}

/** An upgrade's status; when accepted, the socket and every message it receives from the start. */
function upgrade(url: string): Promise<{ status: number; ws?: WebSocket; received: string[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const received: string[] = [];
    ws.on('message', (d) => received.push(String(d)));
    ws.once('open', () => resolve({ status: 101, ws, received }));
    ws.once('unexpected-response', (_q, res) => { res.resume(); resolve({ status: res.statusCode ?? 0, received }); ws.terminate(); });
    ws.once('error', reject);
  });
}

const closeCode = (ws: WebSocket): Promise<number> => new Promise((r) => ws.once('close', (code) => r(code)));
const until = async (cond: () => boolean, ms = 20000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

test.serial('every route wants its own key: 403 for HTTP and upgrades without it', async (t) => {
  const h = await startServer();
  t.teardown(() => h.server.close());
  t.is(await status(`http://${h.base}/`), 403);
  t.is(await status(`http://${h.base}/?key=${FEED}`), 403, 'the feed key does not open the page');
  t.is(await status(`http://${h.base}/anything`), 403, 'unknown paths are 403 too, not 404, without the key');
  t.is(await status(`http://${h.base}/?key=${VIEW}`), 200);
  t.is(await status(`http://${h.base}/x?key=${VIEW}`), 404);
  t.is(await status(`http://${h.base}/?key=${VIEW}`, 'POST'), 405);
  t.is(await status(`http://${h.base}/`, 'POST'), 403);
  t.is((await upgrade(`ws://${h.base}/ws`)).status, 403);
  t.is((await upgrade(`ws://${h.base}/ws?key=${FEED}`)).status, 403);
  t.is((await upgrade(`ws://${h.base}/feed?key=${VIEW}`)).status, 403);
  t.is((await upgrade(`ws://${h.base}/feed`)).status, 403);
  t.is((await upgrade(`ws://${h.base}/other?key=${VIEW}`)).status, 404);
  t.is(h.server.refused, 8);
  const res = await fetch(`http://${h.base}/?key=${VIEW}`);
  t.is(res.headers.get('referrer-policy'), 'no-referrer');
  t.is(res.headers.get('cache-control'), 'no-store');
});

test.serial('pages get a hello, then broadcasts; feeds are validated and bound to one rank', async (t) => {
  const h = await startServer();
  t.teardown(() => h.server.close());
  const { received: pageMessages } = await upgrade(`ws://${h.base}/ws?key=${VIEW}`);
  await until(() => pageMessages.length === 1);
  t.deepEqual(JSON.parse(pageMessages[0]!), { type: 'hello', n: 0 });
  t.is(h.server.pages, 1);
  h.server.broadcast('{"type":"tick"}');
  await until(() => pageMessages.length === 2);
  t.is(pageMessages[1], '{"type":"tick"}');

  const feed = (await upgrade(`ws://${h.base}/feed?key=${FEED}`)).ws!;
  feed.send(JSON.stringify({ rank: 2, pid: 5, host: 'h', time: 1, samples: 10 }));
  await until(() => h.records.length === 1);
  t.deepEqual(h.records[0], { rank: 2, pid: 5, host: 'h', time: 1, samples: 10 });
  const closing = closeCode(feed);
  feed.send(JSON.stringify({ rank: 3, pid: 5, host: 'h', time: 2 }));
  t.is(await closing, 1008, 'a connection cannot speak for two ranks');
  t.is(h.server.badFeeds, 1);
  t.regex(h.logs.join(''), /closed a metrics feed of rank 2: a connection that reported for rank 2 sent a record for rank 3/);
  t.deepEqual(h.closed, [], 'an invalid record does not make the rank look dead');

  const feed2 = (await upgrade(`ws://${h.base}/feed?key=${FEED}`)).ws!;
  const closing2 = closeCode(feed2);
  feed2.send('{"rank": 9, "pid": 1, "host": "h", "time": 0}');
  t.is(await closing2, 1008);
  t.is(h.server.badFeeds, 2);

  const feed3 = (await upgrade(`ws://${h.base}/feed?key=${FEED}`)).ws!;
  feed3.send(JSON.stringify({ rank: 1, pid: 5, host: 'h', time: 1 }));
  await until(() => h.records.length === 2);
  feed3.terminate(); // as when the rank's process dies
  await until(() => h.closed.length === 1);
  t.deepEqual(h.closed, [1]);
  t.is(h.records.length, 2);
});

interface Publisher {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runPublisher(feedUrl: string, args: string[] = []): Promise<Publisher> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/test/fixtures/dashboard-publisher.js'), ...args], {
    env: baseEnv({ PGAS_METRICS_FEED: feedUrl }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += String(d); });
  child.stderr.on('data', (d) => { stderr += String(d); });
  const hang = setTimeout(() => child.kill('SIGKILL'), 60000); // hang catcher only
  return new Promise((resolve) => child.once('close', (code) => { clearTimeout(hang); resolve({ code, stdout, stderr }); }));
}

test.serial('a rank publishing every step sends at most 10 records/s, the latest always, and still exits', async (t) => {
  const h = await startServer();
  t.teardown(() => h.server.close());
  const run = await runPublisher(`ws://${h.base}/feed?key=${FEED}`, ['--rank', '3', '--ms', '1000', '--idle', '800']);
  t.is(run.code, 0, `the open feed must not keep the rank alive (or it was killed by the hang catcher)\n${run.stderr}`);
  t.is(run.stderr, '');
  const total = Number(/published (\d+)/.exec(run.stdout)?.[1]);
  const records = h.records;
  t.true(records.length >= 3, `${records.length} records`);
  t.true(records.every((r) => r.rank === 3 && r.pid > 0 && r.host.length > 0));
  const gaps = records.slice(1).map((r, i) => r.time - records[i]!.time);
  t.true(gaps.every((g) => g >= 99.9), `records at most every 100 ms of the rank's clock: ${gaps.map((g) => g.toFixed(1))}`);
  t.true(records.length <= 1 + Math.ceil((records.at(-1)!.time - records[0]!.time) / 100), 'no more than 10/s');
  const last = records.at(-1)!;
  t.is(last.samples, total, 'the keep-alive sent the final count while the rank was idle');
  t.is(last.accepted, Math.floor(total / 20));
  t.deepEqual(h.logs, [], "every record was valid");
  const withLoss = records.filter((r) => typeof r.loss === 'number');
  t.true(withLoss.length > 0);
  t.true(withLoss.every((r) => r.loss! > 0 && r.loss! <= 1), 'loss is a mean of the published losses');
  await until(() => h.closed.length === 1);
  t.deepEqual(h.closed, [3], 'its connection closed when it exited');
});

test.serial('a wrong feed key or an absent dashboard costs one warning, not the rank', async (t) => {
  const h = await startServer();
  t.teardown(() => h.server.close());
  const wrong = await runPublisher(`ws://${h.base}/feed?key=nope`, ['--ms', '200', '--idle', '0']);
  t.is(wrong.code, 0);
  t.regex(wrong.stderr, /pgas metrics feed: cannot report to the dashboard at ws:\/\/127\.0\.0\.1:\d+\/feed: .*403.* \(the job goes on\)/);
  t.notRegex(wrong.stderr, /nope/, 'the key is not printed');
  t.is(wrong.stderr.split('\n').filter(Boolean).length, 1);
  t.is(h.records.length, 0);
  const port = Number(h.base.split(':')[1]);
  h.server.close();
  const absent = await runPublisher(`ws://127.0.0.1:${port}/feed?key=${FEED}`, ['--ms', '200', '--idle', '0']);
  t.is(absent.code, 0);
  t.regex(absent.stderr, /cannot report to the dashboard/);
});
