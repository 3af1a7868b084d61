/**
 * The uws transport with real rank processes (child processes started with the env contract of
 * pgas/env.ts), tested at the Transport level.
 */
import { readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import WebSocket from 'ws';
import { WireStatus } from '../pgas/errors.js';
import { DecodedFrame, decodeFrame, FrameEncoder, FrameOp } from '../pgas/wire/index.js';
import { killAll, OPS, startJob, TOKEN, type Rank } from './fixtures/uws-harness.js';
import { openAuthenticated } from './fixtures/uws-auth-client.js';

test.serial('put/get at random offsets, ordering, putNotify, chunked transfers, atomics, re-checks, messages, delete (3 ranks)', async (t) => {
  const ranks = await startJob(3, { script: OPS });
  t.teardown(() => killAll(ranks));
  for (const r of ranks) {
    const line = await r.waitLine((l) => 'failures' in l, 60000);
    t.deepEqual(line.failures, [], `rank ${r.rank} failures`);
    t.deepEqual(await r.exited, { code: 0, signal: null }, `rank ${r.rank}: ${r.stderr()}`);
  }
});


function nextMessage(ws: WebSocket, timeoutMs = 5000): Promise<Buffer | { closed: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer')), timeoutMs);
    const done = (value: Buffer | { closed: number }): void => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve(value);
    };
    const onMessage = (data: Buffer): void => done(data);
    const onClose = (code: number): void => done({ closed: code });
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}

async function serving(t: { teardown: (f: () => void) => void }): Promise<{ ranks: Rank[]; endpoint: string; checksum: string }> {
  const ranks = await startJob(2, { perRank: (r) => ({ scenario: r === 0 ? 'serve' : 'legit' }) });
  t.teardown(() => killAll(ranks));
  const ready = await ranks[0]!.waitLine((l) => l.ready === true);
  await ranks[1]!.waitLine((l) => l.ready === true);
  return { ranks, endpoint: ready.endpoint as string, checksum: ready.checksum as string };
}

async function stopServing(ranks: Rank[]): Promise<{ checksum: string; legit: Record<string, unknown> }> {
  ranks[1]!.write('stop');
  const legit = await ranks[1]!.waitLine((l) => 'rounds' in l);
  ranks[0]!.write('stop');
  const final = await ranks[0]!.waitLine((l) => l.final === true);
  return { checksum: final.checksum as string, legit };
}

test.serial('the target re-checks handcrafted frames: out-of-range, bad notification, no sequence; nothing changes', async (t) => {
  const { ranks, endpoint, checksum } = await serving(t);
  const ws = await openAuthenticated(endpoint, TOKEN);
  const enc = new FrameEncoder();
  const f = new DecodedFrame();
  const ask = async (frame: Buffer): Promise<DecodedFrame | { closed: number }> => {
    ws.send(frame);
    const answer = await nextMessage(ws);
    if (!Buffer.isBuffer(answer)) return answer;
    t.is(decodeFrame(answer, f), undefined);
    return f;
  };
  // Past the end of the protected segment (64 KiB): rejected, acknowledged with the status.
  let a = await ask(enc.request(FrameOp.Put, 1, 0, 1, 65530, 16, 0, 0, new Uint8Array(16).fill(0xee), 0, 16));
  t.like(a, { op: FrameOp.Ack, sequence: 1, status: WireStatus.OUT_OF_RANGE });
  // A negative offset, a length that disagrees with the payload, a bad notification, an unknown segment.
  a = await ask(enc.request(FrameOp.Get, 2, 0, 1, -4, 8, 0, 0, null, 0, 0));
  t.like(a, { op: FrameOp.Ack, sequence: 2, status: WireStatus.OUT_OF_RANGE });
  a = await ask(enc.request(FrameOp.Put, 3, 0, 1, 0, 64, 0, 0, new Uint8Array(16).fill(0xee), 0, 16));
  t.like(a, { op: FrameOp.Ack, sequence: 3, status: WireStatus.PROTOCOL });
  a = await ask(enc.request(FrameOp.PutNotify, 4, 0, 1, 0, 8, 1024, 1, new Uint8Array(8).fill(0xee), 0, 8));
  t.like(a, { op: FrameOp.Ack, sequence: 4, status: WireStatus.OUT_OF_RANGE });
  a = await ask(enc.request(FrameOp.Notify, 5, 0, 1, 0, 0, 3, 0, null, 0, 0));
  t.like(a, { op: FrameOp.Ack, sequence: 5, status: WireStatus.INVALID });
  a = await ask(enc.request(FrameOp.Put, 6, 0, 40, 0, 8, 0, 0, new Uint8Array(8), 0, 8));
  t.like(a, { op: FrameOp.Ack, sequence: 6, status: WireStatus.UNKNOWN_SEGMENT });
  a = await ask(enc.atomic(FrameOp.FetchAdd, 7, 1, 12, 1n, 0n));
  t.like(a, { op: FrameOp.AtomicReply, sequence: 7, status: WireStatus.OUT_OF_RANGE });
  // A valid get is served (the raw client is authenticated): the pattern comes back.
  a = await ask(enc.request(FrameOp.Get, 8, 0, 1, 100, 4, 0, 0, null, 0, 0));
  t.like(a, { op: FrameOp.GetReply, sequence: 8, payloadLength: 4 });
  // A bad frame without a sequence cannot be answered: the connection is closed and logged.
  a = await ask(enc.request(FrameOp.Put, 0, 0, 1, 65536, 8, 0, 0, new Uint8Array(8), 0, 8));
  t.true('closed' in a);
  const { checksum: after, legit } = await stopServing(ranks);
  t.is(after, checksum, 'the protected segment and the notification words are unchanged');
  t.is(legit.failureCount, 0);
  t.regex(ranks[0]!.stderr(), /closing the data connection from rank 1: rejected Put/);
});

test.serial('a data connection with a wrong token is refused before any frame is read, and logged', async (t) => {
  const { ranks, endpoint, checksum } = await serving(t);
  const refused = await t.throwsAsync(openAuthenticated(endpoint, 'not-the-token-at-all'));
  t.regex(refused!.message, /code 4003/);
  const { checksum: after } = await stopServing(ranks);
  t.is(after, checksum);
  t.regex(ranks[0]!.stderr(), /uws rank 0: rejected a connection from \S+: wrong proof of the job token/);
});

test.serial('a rank with a wrong token fails the rendezvous with BadTokenError; rank 0 logs it', async (t) => {
  const ranks = await startJob(2, {
    scenario: 'fail-start',
    perRank: (r) => (r === 1 ? { token: 'a-different-token-xyz' } : { env: { PGAS_STARTUP_TIMEOUT_MS: '3000' } }),
  });
  t.teardown(() => killAll(ranks));
  const bad = await ranks[1]!.waitLine((l) => 'error' in l || 'started' in l);
  t.like(bad, { error: { name: 'BadTokenError', code: 'ERR_BAD_TOKEN' } });
  t.regex((bad.error as { message: string }).message, /rejected the job token/);
  const zero = await ranks[0]!.waitLine((l) => 'error' in l || 'started' in l);
  t.like(zero, { error: { code: 'ERR_RENDEZVOUS' } });
  t.regex((zero.error as { message: string }).message, /rank 1 never registered within 3000 ms/);
  t.regex(ranks[0]!.stderr(), /rendezvous: rejected a connection from \S+: wrong proof of the job token \(claims rank 1/);
});

test.serial('the rendezvous times out naming the ranks that never arrived', async (t) => {
  const ranks = await startJob(4, { scenario: 'fail-start', ranks: [0, 1], env: { PGAS_STARTUP_TIMEOUT_MS: '4000' } });
  t.teardown(() => killAll(ranks));
  for (const r of ranks) {
    const line = await r.waitLine((l) => 'error' in l || 'started' in l);
    t.like(line, { error: { name: 'RendezvousError', code: 'ERR_RENDEZVOUS' } }, `rank ${r.rank}`);
    t.regex((line.error as { message: string }).message, /ranks 2, 3 never registered within 4000 ms/);
  }
});

/**
 * Resolves once every thread of `pid` is stopped. kill(SIGSTOP) returns before that: on a loaded
 * machine a thread of the rank (its communication worker) still answered two requests posted after
 * the kill had returned, so the test must see the stop before it relies on it.
 */
async function waitStopped(pid: number, timeoutMs = 10000): Promise<boolean> {
  const state = (tid: string): string => {
    try {
      return readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').slice(0, 1);
    } catch {
      return 'T'; // the thread ended: it answers nothing either
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (readdirSync(`/proc/${pid}/task`).every((tid) => 'Tt'.includes(state(tid)))) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return false;
}

test.serial('a killed rank is seen dead by the others within 5 s; its pending and new operations fail', async (t) => {
  const ranks = await startJob(3, { scenario: 'watch' });
  t.teardown(() => killAll(ranks));
  for (const r of ranks) await r.waitLine((l) => l.ready === true);
  // Freeze rank 2 so that operations to it stay pending, then kill it.
  ranks[2]!.child.kill('SIGSTOP');
  t.true(await waitStopped(ranks[2]!.child.pid!), 'rank 2 did not stop within 10 s of SIGSTOP');
  ranks[0]!.write('post 2');
  ranks[1]!.write('post 2');
  for (const r of ranks.slice(0, 2)) {
    const posted = await r.waitLine((l) => l.posted === true);
    t.is(posted.completed, 0, `rank ${r.rank}: operations to a frozen rank completed: ${JSON.stringify(posted)}`);
  }
  const killedAt = Date.now();
  ranks[2]!.child.kill('SIGKILL');
  for (const r of ranks.slice(0, 2)) {
    const line = await r.waitLine((l) => l.dead === 2, 8000);
    t.true((line.at as number) - killedAt < 5000, `rank ${r.rank} noticed after ${(line.at as number) - killedAt} ms`);
    t.is(line.pendingStatus, WireStatus.PEER_DEAD);
    t.is(line.atomic, 'ERR_PEER_DEAD');
    t.is(line.newOpStatus, WireStatus.PEER_DEAD);
    t.is(line.send, 'ERR_PEER_DEAD');
    t.is(line.atomicAfter, 'ERR_PEER_DEAD');
  }
  // The survivors close cleanly: neither sees the other die.
  ranks[0]!.write('stop');
  ranks[1]!.write('stop');
  for (const r of ranks.slice(0, 2)) {
    await r.waitLine((l) => l.closed === true);
    t.false(r.lines.some((l) => 'dead' in l && l.dead !== 2), `rank ${r.rank} saw a clean close as a death`);
  }
});

test.serial('process.exit(3) and an uncaught error leave with exit codes 3 and 1, not an abort', async (t) => {
  const ranks = await startJob(2, { scenario: 'exit' });
  t.teardown(() => killAll(ranks));
  const [zero, one] = [await ranks[0]!.exited, await ranks[1]!.exited];
  t.is(ranks[0]!.lines.filter((l) => l.ready === true).length, 1, ranks[0]!.stderr());
  t.is(ranks[1]!.lines.filter((l) => l.ready === true).length, 1, ranks[1]!.stderr());
  t.deepEqual(zero, { code: 3, signal: null }, ranks[0]!.stderr());
  t.deepEqual(one, { code: 1, signal: null }, ranks[1]!.stderr());
  t.regex(ranks[1]!.stderr(), /deliberate uncaught error/);
  for (const r of ranks) t.notRegex(r.stderr(), /uv_loop_close|Assertion failed/);
});

test.serial('while a rank\'s main thread busy-loops for 2 s, another rank puts, gets, notifies and adds into its memory', async (t) => {
  const ranks = await startJob(2, { scenario: 'busy' });
  t.teardown(() => killAll(ranks));
  const busy = await ranks[1]!.waitLine((l) => 'busyStart' in l, 30000);
  const active = await ranks[0]!.waitLine((l) => 'putDoneAt' in l, 30000);
  const start = busy.busyStart as number;
  const end = busy.busyEnd as number;
  for (const key of ['putDoneAt', 'getDoneAt', 'notifyDoneAt', 'atomicDoneAt']) {
    const at = active[key] as number;
    t.true(at > start && at < end, `${key} at ${at - start} ms into a ${end - start} ms busy loop`);
  }
  t.true(active.getOk, 'the get returned the busy rank\'s data');
  t.is(active.atomicOld, '0');
  t.true(busy.sawPut, 'the put was in place when the loop ended');
  t.is(busy.notification, 42);
  t.is(busy.counter, '5');
  for (const r of ranks) t.deepEqual(await r.exited, { code: 0, signal: null }, r.stderr());
});

test.serial('a rank that closes keeps serving its memory until every peer has closed too', async (t) => {
  const ranks = await startJob(2, { scenario: 'linger' });
  t.teardown(() => killAll(ranks));
  const one = await ranks[1]!.waitLine((l) => 'getStatus' in l);
  const zero = await ranks[0]!.waitLine((l) => 'closedAt' in l);
  t.is(one.getStatus, 0, 'a get from a rank that called close() succeeds');
  t.true(one.same);
  t.true(one.zeroAlive, 'a closing rank is not dead');
  t.true((one.getDoneAt as number) > (zero.closeCalledAt as number));
  t.true((zero.closedAt as number) >= (one.getDoneAt as number), 'rank 0\'s close returned before rank 1 closed');
  for (const r of ranks) t.deepEqual(await r.exited, { code: 0, signal: null }, r.stderr());
});
