/**
 * The rendezvous (pgas/bootstrap) in one process: registration, the table, every refusal, the startup
 * timeout, and liveness (closed connections, missed heartbeats, clean leaves).
 */
import test from 'ava';
import { connect } from 'node:net';
import { joinRendezvous, RendezvousServer, type JoinOptions, type RendezvousClient } from '../pgas/bootstrap/index.js';
import { BadTokenError, RendezvousError } from '../pgas/errors.js';
import { MISSED_HEARTBEATS } from '../pgas/bootstrap/protocol.js';
import { ClientHandshake } from '../pgas/auth/index.js';

const TOKEN = 'bootstrap-test-token';

async function server(size: number, overrides: { startupTimeoutMs?: number; heartbeatMs?: number; port?: number } = {}): Promise<{ rv: RendezvousServer; logs: string[] }> {
  const logs: string[] = [];
  const rv = await RendezvousServer.start({
    host: '127.0.0.1', port: overrides.port ?? 0, size, token: TOKEN,
    startupTimeoutMs: overrides.startupTimeoutMs ?? 5000, heartbeatMs: overrides.heartbeatMs ?? 100, log: (l) => logs.push(l),
  });
  return { rv, logs };
}

function join(rv: { port: number }, rank: number, size: number, extra: Partial<JoinOptions> = {}): Promise<RendezvousClient> {
  return joinRendezvous({
    host: '127.0.0.1', port: rv.port, rank, size, token: TOKEN, endpoint: `127.0.0.1:${1000 + rank}`,
    startupTimeoutMs: 5000, heartbeatMs: 100, onPeerDead: () => undefined, ...extra,
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('every rank receives the whole table, in rank order', async (t) => {
  const { rv } = await server(3);
  t.teardown(() => rv.close());
  const clients = await Promise.all([2, 0, 1].map((r) => join(rv, r, 3, { hostname: `h${r}`, pid: 100 + r })));
  for (const c of clients) {
    t.deepEqual(c.members.map((m) => [m.rank, m.endpoint, m.hostname, m.pid]), [
      [0, '127.0.0.1:1000', 'h0', 100], [1, '127.0.0.1:1001', 'h1', 101], [2, '127.0.0.1:1002', 'h2', 102],
    ]);
  }
  t.deepEqual(rv.registeredRanks(), [0, 1, 2]);
  for (const c of clients) c.leave();
});

test('a wrong token is refused with BadTokenError and logged', async (t) => {
  const { rv, logs } = await server(2, { startupTimeoutMs: 2000 });
  t.teardown(() => rv.close());
  const error = await t.throwsAsync(join(rv, 1, 2, { token: 'wrong-token-123' }), { instanceOf: BadTokenError });
  t.regex(error!.message, /rejected the job token/);
  t.true(logs.some((l) => /rendezvous: rejected a connection from 127\.0\.0\.1:\d+: wrong proof of the job token \(claims rank 1/.test(l)));
});

test('a duplicate rank and a size mismatch are refused with clear errors', async (t) => {
  const { rv, logs } = await server(3);
  t.teardown(() => rv.close());
  const first = join(rv, 1, 3, { hostname: 'first' });
  await sleep(100);
  const dup = await t.throwsAsync(join(rv, 1, 3, { hostname: 'second' }), { instanceOf: RendezvousError });
  t.regex(dup!.message, /rank 1 registered twice: first from first .* again from second/);
  const size = await t.throwsAsync(join(rv, 2, 4), { instanceOf: RendezvousError });
  t.regex(size!.message, /rank 2 was started with PGAS_SIZE=4, but the job has 3 ranks/);
  const range = await t.throwsAsync(join(rv, 5, 3), { instanceOf: RendezvousError });
  t.regex(range!.message, /rank 5 is not below the job size 3/);
  t.true(logs.length >= 3);
  // The first registration is unaffected: the job still starts.
  const others = await Promise.all([join(rv, 0, 3), join(rv, 2, 3)]);
  t.is((await first).members.length, 3);
  for (const c of [...others, await first]) c.leave();
});

test('the startup timeout names the ranks that never registered, to every rank that did', async (t) => {
  const { rv, logs } = await server(4, { startupTimeoutMs: 400 });
  t.teardown(() => rv.close());
  const results = await Promise.allSettled([join(rv, 0, 4), join(rv, 2, 4)]);
  for (const r of results) {
    t.is(r.status, 'rejected');
    const reason = (r as PromiseRejectedResult).reason as Error;
    t.true(reason instanceof RendezvousError);
    t.regex(reason.message, /ranks 1, 3 never registered within 400 ms/);
  }
  t.true(logs.some((l) => /ranks 1, 3 never registered/.test(l)));
});

test('a rank retries until the rendezvous is up, and gives up after the startup timeout', async (t) => {
  const probe = await server(1);
  const port = probe.rv.port;
  await probe.rv.close();
  const early = join({ port }, 1, 2, { startupTimeoutMs: 5000 });
  await sleep(300);
  const { rv } = await server(2, { port });
  t.teardown(() => rv.close());
  const zero = await join(rv, 0, 2);
  t.is((await early).members.length, 2);
  zero.leave();
  (await early).leave();
  const refused = await t.throwsAsync(join({ port: 1 }, 1, 2, { startupTimeoutMs: 300 }), { instanceOf: RendezvousError });
  t.regex(refused!.message, /could not reach the rendezvous at 127.0.0.1:1 within 300 ms/);
});

test('a rank whose connection drops is announced dead; one that leaves is not', async (t) => {
  const { rv } = await server(3);
  t.teardown(() => rv.close());
  const dead: [number, number][] = [];
  const clients = await Promise.all([0, 1, 2].map((r) => join(rv, r, 3, { onPeerDead: (d) => dead.push([r, d]) })));
  clients[1]!.leave();
  await sleep(300);
  t.deepEqual(dead, []);
  clients[2]!.destroy();
  await sleep(300);
  t.deepEqual(dead, [[0, 2]]);
  clients[0]!.leave();
});

test('a rank that stops sending heartbeats is declared dead after MISSED_HEARTBEATS periods', async (t) => {
  const { rv, logs } = await server(2, { heartbeatMs: 50 });
  t.teardown(() => rv.close());
  const dead: number[] = [];
  const zero = join(rv, 0, 2, { heartbeatMs: 50, onPeerDead: (d) => dead.push(d) });
  // Rank 1 registers by hand (answering the challenge) and then says nothing more.
  const silent = connect(rv.port, '127.0.0.1');
  silent.on('error', () => undefined);
  const challenge = await new Promise<string>((resolve) => silent.once('data', (d) => resolve(d.toString())));
  const answer = new ClientHandshake(TOKEN, 'rendezvous', 1, 0).answer(Buffer.from((JSON.parse(challenge) as { data: string }).data, 'base64'));
  silent.write(`${JSON.stringify({ t: 'register', auth: (answer as Buffer).toString('base64'), rank: 1, size: 2, endpoint: 'x:1', pid: 1, hostname: 'h' })}\n`);
  await zero;
  const start = Date.now();
  while (dead.length === 0 && Date.now() - start < 3000 + MISSED_HEARTBEATS * 50) await sleep(20);
  t.deepEqual(dead, [1]);
  t.true(Date.now() - start >= (MISSED_HEARTBEATS - 2) * 50, 'declared too early');
  t.true(logs.some((l) => new RegExp(`rank 1 missed ${MISSED_HEARTBEATS} heartbeats`).test(l)));
  (await zero).leave();
  silent.destroy();
});

test('losing the rendezvous means rank 0 is dead; a clean end of the rendezvous does not', async (t) => {
  const first = await server(2);
  const dead: number[] = [];
  const a = await Promise.all([join(first.rv, 0, 2), join(first.rv, 1, 2, { onPeerDead: (d) => dead.push(d) })]);
  await first.rv.close();
  await sleep(200);
  t.deepEqual(dead, [], 'a clean close of the rendezvous is not a death');
  a[0].leave();

  const second = await server(2, { heartbeatMs: 50 });
  const lost: number[] = [];
  await Promise.all([join(second.rv, 0, 2, { heartbeatMs: 50 }), join(second.rv, 1, 2, { heartbeatMs: 50, onPeerDead: (d) => lost.push(d) })]);
  // Kill the rendezvous's sockets without "bye": the ranks see rank 0 (its host) gone.
  (second.rv as unknown as { clients: Set<{ socket: { destroy(): void } }> }).clients.forEach((c) => c.socket.destroy());
  const start = Date.now();
  while (lost.length === 0 && Date.now() - start < 2000) await sleep(20);
  t.deepEqual(lost, [0]);
  await second.rv.close();
});

test('garbage on the rendezvous port is refused and logged', async (t) => {
  const { rv, logs } = await server(2, { startupTimeoutMs: 2000 });
  t.teardown(() => rv.close());
  const socket = connect(rv.port, '127.0.0.1');
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
    socket.write('this is not json\n');
  });
  // An unauthenticated connection gets its challenge and nothing else: closed, logged with its address.
  t.regex(answer, /^\{"t":"challenge","data":"[A-Za-z0-9+/=]+"\}\n$/);
  t.true(logs.some((l) => /rendezvous: rejected a connection from 127\.0\.0\.1:\d+: sent a line that is not JSON/.test(l)));
});
