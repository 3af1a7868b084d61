/**
 * Lazy data links on the uws transport (issue 11): real rank processes; the links (`connections()`)
 * and open sockets (/proc/PID/fd) each rank holds before and after its first use of a peer, eager for
 * contrast, disconnect / reconnect with content checks, put-then-notify order across a lazy connect,
 * and a rank killed while nobody holds a link to it.
 */
import test from 'ava';
import { passedRanks, runJob, type JobResult } from './helpers/job.js';
import { parseArgs } from '../runtime/launcher/args.js';
import { parseConnectionMode, readRankEnvironment } from '../pgas/env.js';
import { joinRendezvous, RendezvousServer, type RendezvousClient } from '../pgas/bootstrap/index.js';

interface Counts {
  rank: number;
  label: string;
  links: number[];
  sockets?: number;
  base?: number;
  open?: number;
  closed?: number;
}

function counts(result: JobResult, label: string): Map<number, Counts> {
  const byRank = new Map<number, Counts>();
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('COUNTS ')) continue;
    const c = JSON.parse(line.slice(7)) as Counts;
    if (c.label === label) byRank.set(c.rank, c);
  }
  return byRank;
}

function run(scenario: string, size: number, connections: 'lazy' | 'eager' | undefined): Promise<JobResult> {
  const env: Record<string, string> = connections ? { PGAS_CONNECTIONS: connections } : {};
  return runJob({ transport: 'uws', size, fixture: 'gaspi-lazy.js', args: [scenario], env, timeoutMs: 110000 });
}

function allPassed(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void; true: (v: boolean, m?: string) => void }, result: JobResult, name: string, ranks: number[]): void {
  t.deepEqual(passedRanks(result, name), ranks, result.stderr);
}

const SIZE = 4;
const everyRank = Array.from({ length: SIZE }, (_, r) => r);

test.serial('lazy (the default): no data link at start; a rank that puts only to its neighbour opens only that link', async (t) => {
  const result = await run('neighbour', SIZE, undefined);
  allPassed(t, result, 'neighbour', everyRank);
  t.true(result.codes.every((c) => c === 0), result.stderr);
  const start = counts(result, 'start');
  const after = counts(result, 'after');
  const barrier = counts(result, 'barrier');
  for (const r of everyRank) {
    const right = (r + 1) % SIZE;
    t.deepEqual(start.get(r)?.links, [r], `rank ${r} holds no link at start`);
    t.deepEqual(after.get(r)?.links, [r, right].sort((a, b) => a - b), `rank ${r} opened only the link to ${right}`);
    // one outgoing link of its own, one incoming from its left neighbour
    t.is(after.get(r)!.sockets! - start.get(r)!.sockets!, 2, `rank ${r}: sockets ${start.get(r)!.sockets} -> ${after.get(r)!.sockets}`);
    // a dissemination barrier of 4 needs the links to r+1 and r+2 only
    t.deepEqual(barrier.get(r)?.links, [r, right, (r + 2) % SIZE].sort((a, b) => a - b), `rank ${r} after a barrier`);
  }
});

test.serial('eager (PGAS_CONNECTIONS=eager): every link is open at start and first use opens none', async (t) => {
  const result = await run('neighbour', SIZE, 'eager');
  allPassed(t, result, 'neighbour', everyRank);
  const start = counts(result, 'start');
  const after = counts(result, 'after');
  for (const r of everyRank) {
    t.deepEqual(start.get(r)?.links, everyRank, `rank ${r} links at start`);
    t.is(after.get(r)!.sockets, start.get(r)!.sockets, `rank ${r}: no new socket on first use`);
  }
  // 3 outgoing + 3 incoming data connections more than a lazy rank holds at start
  const lazy = counts(await run('neighbour', SIZE, 'lazy'), 'start');
  for (const r of everyRank) t.is(start.get(r)!.sockets! - lazy.get(r)!.sockets!, 2 * (SIZE - 1), `rank ${r}: eager minus lazy sockets at start`);
});

test.serial('eager: connect, disconnect and reconnect on first use work there too (the gaspi-ext connect scenario)', async (t) => {
  const result = await runJob({ transport: 'uws', size: 3, fixture: 'gaspi-ext.js', args: ['connect'], env: { PGAS_CONNECTIONS: 'eager' }, timeoutMs: 110000 });
  t.deepEqual(passedRanks(result, 'connect'), [0, 1, 2], result.stderr);
  t.true(result.codes.every((c) => c === 0), result.stderr);
});

test.serial('disconnect closes the link after its pending ops completed; the next op and connect() reopen it', async (t) => {
  const result = await run('reconnect', 3, undefined);
  allPassed(t, result, 'reconnect', [0, 1, 2]);
  t.true(result.codes.every((c) => c === 0), result.stderr);
  for (const round of [1, 2, 3]) {
    const c = counts(result, `round ${round}`).get(0)!;
    t.truthy(c, `round ${round} reported`);
    t.is(c.open, c.base! + 1, `round ${round}: the first op opened one socket`);
    t.is(c.closed, c.base, `round ${round}: disconnect closed it`);
    t.deepEqual(c.links, [0], `round ${round}: no link after disconnect`);
  }
  const connect = counts(result, 'connect').get(0)!;
  t.deepEqual(connect.links, [0, 2]);
  t.is(connect.sockets, connect.base! + 1);
});

test.serial('put then notify to a rank without a link: the notification never arrives before the data', async (t) => {
  const result = await run('order', 2, undefined);
  allPassed(t, result, 'order', [0, 1]);
  t.true(result.codes.every((c) => c === 0), result.stderr);
});

test.serial('a rank killed while nobody holds a data link to it is seen dead by the others', async (t) => {
  const result = await run('deadnolink', 3, undefined);
  allPassed(t, result, 'deadnolink', [0, 1]);
  t.deepEqual(result.codes.slice(0, 2), [0, 0], result.stderr);
  t.is(result.signals[2], 'SIGKILL');
  t.deepEqual(counts(result, 'dying').get(2)?.links, [2], 'the victim held no link');
  const seen = counts(result, 'seen-dead');
  for (const r of [0, 1]) t.false(seen.get(r)!.links.includes(2), `rank ${r} never linked to the victim`);
});

test('pgas-run --connections lazy|eager becomes PGAS_CONNECTIONS; anything else is a usage error', (t) => {
  const cmd = parseArgs(['-n', '2', '--connections', 'eager', 'prog.js']);
  t.is(cmd.kind, 'launch');
  if (cmd.kind === 'launch') t.deepEqual(cmd.options.env, [['PGAS_CONNECTIONS', 'eager']]);
  t.throws(() => parseArgs(['--connections', 'sometimes', 'prog.js']), { message: /--connections must be lazy or eager/ });
});

test('PGAS_CONNECTIONS: lazy by default, eager on request, a ConfigError otherwise', (t) => {
  const env = { PGAS_RANK: '0', PGAS_SIZE: '2', PGAS_RENDEZVOUS: '127.0.0.1:1', PGAS_TOKEN: 'abcdefghij' };
  t.is(readRankEnvironment(env).connections, 'lazy');
  t.is(readRankEnvironment({ ...env, PGAS_CONNECTIONS: 'eager' }).connections, 'eager');
  t.throws(() => readRankEnvironment({ ...env, PGAS_CONNECTIONS: 'static' }), { code: 'ERR_CONFIG', message: /PGAS_CONNECTIONS must be lazy or eager/ });
  t.throws(() => parseConnectionMode(1, 'init option connections'), { code: 'ERR_CONFIG' });
});

test('the rendezvous relays a segment announcement to every other rank and answers once all recorded it; a lost rank is not waited for', async (t) => {
  const token = 'relay-test-token';
  const rv = await RendezvousServer.start({ host: '127.0.0.1', port: 0, size: 3, token, startupTimeoutMs: 5000, heartbeatMs: 100, log: () => undefined });
  t.teardown(() => rv.close());
  const recorded: string[] = [];
  const answered: [number, number, number][] = [];
  const closing: string[] = [];
  let refuse = false;
  const clients: RendezvousClient[] = await Promise.all([0, 1, 2].map((rank) => joinRendezvous({
    host: '127.0.0.1', port: rv.port, rank, size: 3, token, endpoint: `127.0.0.1:${1000 + rank}`, startupTimeoutMs: 5000, heartbeatMs: 100,
    onPeerDead: () => undefined,
    onSegment: (from, slot, bytes) => {
      recorded.push(`${rank}<-${from}:${slot}=${bytes}`);
      return refuse && rank === 1 ? 6 : 0;
    },
    onAnnounced: (req, status) => answered.push([rank, req, status]),
    onPeerClosing: (from) => closing.push(`${rank}<-${from}`),
  })));
  const until = async (what: () => boolean): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!what() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  t.true(clients[0]!.announce(7, 3, 4096));
  await until(() => answered.length === 1);
  t.deepEqual(recorded.sort(), ['1<-0:3=4096', '2<-0:3=4096']);
  t.deepEqual(answered, [[0, 7, 0]]);
  // a refusal reaches the announcer as the status
  refuse = true;
  clients[2]!.announce(8, 4, 0);
  await until(() => answered.length === 2);
  t.deepEqual(answered[1], [2, 8, 6]);
  // closing notices reach everyone else
  clients[1]!.closing();
  await until(() => closing.length === 2);
  t.deepEqual(closing.sort(), ['0<-1', '2<-1']);
  // a rank that is gone is not waited for: rank 2 vanishes before it could answer
  refuse = false;
  clients[2]!.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  clients[0]!.announce(9, 5, 64);
  await until(() => answered.length === 3);
  t.deepEqual(answered[2], [0, 9, 0]);
  clients[0]!.leave();
  clients[1]!.leave();
});
