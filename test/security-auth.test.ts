/**
 * The job-token handshake (pgas/auth) on its own and at the rendezvous: the proof holds only for the
 * token, the nonce, the direction, the role and the ids it was made for; the rendezvous closes every
 * connection that does not prove the token (wrong proof, any other first line, silence) before reading
 * anything else from it, logs its address once per connection, and rate-limits those lines.
 */
import test from 'ava';
import { connect, createServer, type Socket } from 'node:net';
import { ANSWER_BYTES, ClientHandshake, RejectionLog, ServerHandshake } from '../pgas/auth/index.js';
import { joinRendezvous, RendezvousServer } from '../pgas/bootstrap/index.js';

const TOKEN = 'auth-test-token-0123456789';

function exchange(serverToken: string, clientToken: string, opts: { role?: 'data' | 'rendezvous'; clientRole?: 'data' | 'rendezvous'; clientId?: number; serverId?: number; dialled?: number } = {}) {
  const server = new ServerHandshake(serverToken, opts.role ?? 'data', opts.serverId ?? 0, (id) => (id === 0 ? 'self' : undefined));
  const client = new ClientHandshake(clientToken, opts.clientRole ?? opts.role ?? 'data', opts.clientId ?? 1, opts.dialled ?? opts.serverId ?? 0);
  const answer = client.answer(server.challenge) as Buffer;
  return { server, client, answer, result: server.accept(answer) };
}

test('the right token is accepted both ways; the token is nowhere in what is sent', (t) => {
  const { client, answer, result, server } = exchange(TOKEN, TOKEN);
  t.is(answer.length, ANSWER_BYTES);
  if (typeof result === 'string') return t.fail(result);
  t.is(result.clientId, 1);
  t.is(client.confirm(result.confirm), undefined);
  for (const sent of [server.challenge, answer, result.confirm]) t.false(sent.includes(Buffer.from(TOKEN)));
});

test('wrong token, other role, other dialled rank, claimed self, second answer: all refused', (t) => {
  t.is(exchange(TOKEN, `${TOKEN}!`).result, 'wrong proof of the job token');
  t.is(exchange(TOKEN, TOKEN, { role: 'data', clientRole: 'rendezvous' }).result, 'wrong proof of the job token');
  t.is(exchange(TOKEN, TOKEN, { serverId: 2, dialled: 3 }).result, 'wrong proof of the job token');
  t.is(exchange(TOKEN, TOKEN, { clientId: 0 }).result, 'self');
  const { server, answer } = exchange(TOKEN, TOKEN);
  t.is(server.accept(answer), 'a second answer on one connection');
});

test('replaying an answer to a new challenge, or reflecting the confirmation, fails', (t) => {
  const first = exchange(TOKEN, TOKEN);
  const fresh = new ServerHandshake(TOKEN, 'data', 0);
  t.is(fresh.accept(first.answer), 'wrong proof of the job token');
  // The server's confirmation is no client answer, and a client does not accept a forged confirmation.
  const { client, result } = exchange(TOKEN, TOKEN);
  if (typeof result === 'string') return t.fail(result);
  const forged = Buffer.from(result.confirm);
  forged[10] ^= 1;
  t.regex(client.confirm(forged) ?? '', /could not prove/);
  // A server without the token cannot produce a confirmation the client accepts.
  const impostor = exchange(`${TOKEN}?`, TOKEN);
  t.is(impostor.result, 'wrong proof of the job token');
  const client2 = new ClientHandshake(TOKEN, 'data', 1, 0);
  const server2 = new ServerHandshake('another-token-value', 'data', 0);
  client2.answer(server2.challenge);
  const fake = Buffer.alloc(36);
  fake.writeUInt32LE(0x314b4750, 0);
  t.regex(client2.confirm(fake) ?? '', /could not prove/);
});

test('the rejection log: one line per rejection up to the burst, then a count', async (t) => {
  const lines: string[] = [];
  const log = new RejectionLog((l) => lines.push(l), 'x', { burst: 3, windowMs: 100 });
  for (let i = 0; i < 10; i++) log.reject(`10.0.0.${i}:1`, 'why');
  t.is(lines.length, 3);
  t.is(lines[0], 'x: rejected a connection from 10.0.0.0:1: why');
  await new Promise((resolve) => setTimeout(resolve, 250));
  t.is(lines.length, 4);
  t.regex(lines[3]!, /x: rejected 7 more connections \(not logged one by one: over 3 per 100 ms\)/);
  t.is(log.total, 10);
});

/** Connect, read everything until the rendezvous closes; send `lines` after the challenge. */
function talk(port: number, send: (challenge: string) => string | undefined): Promise<{ text: string; ms: number }> {
  return new Promise((resolve) => {
    const start = Date.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => {
      const first = text.length === 0;
      text += d.toString();
      if (first) {
        const line = send(text);
        if (line !== undefined) socket.write(line);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ text, ms: Date.now() - start }));
  });
}

test('the rendezvous closes unauthenticated connections before reading anything else, and logs each', async (t) => {
  const logs: string[] = [];
  const rv = await RendezvousServer.start({ host: '127.0.0.1', port: 0, size: 2, token: TOKEN, startupTimeoutMs: 20000, heartbeatMs: 100, authTimeoutMs: 300, log: (l) => logs.push(l) });
  t.teardown(() => rv.close());
  // A heartbeat, a leave, a table request: anything before a proven registration ends the connection.
  for (const line of ['{"t":"hb"}\n', '{"t":"leave"}\n', '{"t":"table"}\n', '{"t":"register","rank":1,"size":2}\n']) {
    const r = await talk(rv.port, () => line);
    t.regex(r.text, /^\{"t":"challenge","data":"[^"]+"\}\n$/, line);
  }
  // The old protocol (the token in clear) is refused too, and says nothing back.
  const old = await talk(rv.port, () => `${JSON.stringify({ t: 'register', token: TOKEN, rank: 1, size: 2, endpoint: 'x:1', pid: 1, hostname: 'h' })}\n`);
  t.notRegex(old.text, /table|welcome/);
  // A proof made for rank 1 but presented as rank 0.
  const moved = await talk(rv.port, (c) => {
    const answer = new ClientHandshake(TOKEN, 'rendezvous', 1, 0).answer(Buffer.from((JSON.parse(c) as { data: string }).data, 'base64')) as Buffer;
    return `${JSON.stringify({ t: 'register', auth: answer.toString('base64'), rank: 0, size: 2, endpoint: 'x:1', pid: 1, hostname: 'h' })}\n`;
  });
  t.regex(moved.text, /ERR_BAD_TOKEN/);
  // Silence: closed after the auth timeout.
  const silent = await talk(rv.port, () => undefined);
  t.true(silent.ms >= 250 && silent.ms < 10000, `closed after ${silent.ms} ms`);
  // A long line before authenticating is cut off at 4 KiB, not buffered up to 1 MiB.
  const long = await talk(rv.port, () => 'x'.repeat(100_000));
  t.notRegex(long.text, /table/);
  const rejected = logs.filter((l) => /^rendezvous: rejected a connection from 127\.0\.0\.1:\d+: /.test(l));
  t.is(rejected.length, 8, logs.join('\n'));
  t.true(rejected.some((l) => /a proof made for rank 1 \(claims rank 0/.test(l)));
  t.true(rejected.some((l) => /no proof of the job token within 300 ms/.test(l)));
  t.true(rejected.some((l) => /a line longer than 4096 bytes/.test(l)));
  // The job itself is unaffected: both ranks join and get the table.
  const join = (rank: number) => joinRendezvous({ host: '127.0.0.1', port: rv.port, rank, size: 2, token: TOKEN, endpoint: `127.0.0.1:${1000 + rank}`, startupTimeoutMs: 5000, heartbeatMs: 100, onPeerDead: () => undefined });
  const clients = await Promise.all([join(0), join(1)]);
  t.is(clients[1].members.length, 2);
  for (const c of clients) c.leave();
});

test('a rank refuses a rendezvous that cannot prove the token (an impostor holding the port)', async (t) => {
  // The impostor challenges, accepts whatever answer comes, and sends a made-up confirmation and table.
  const impostor = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write(`${JSON.stringify({ t: 'challenge', data: new ServerHandshake('x', 'rendezvous', 0).challenge.toString('base64') })}\n`);
    socket.once('data', () => {
      const confirm = Buffer.alloc(36, 7);
      confirm.writeUInt32LE(0x314b4750, 0);
      socket.write(`${JSON.stringify({ t: 'welcome', data: confirm.toString('base64') })}\n`);
      socket.write(`${JSON.stringify({ t: 'table', members: [{ rank: 0, endpoint: 'evil:1', pid: 1, hostname: 'evil' }] })}\n`);
    });
  });
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  t.teardown(() => impostor.close());
  const port = (impostor.address() as { port: number }).port;
  const error = await t.throwsAsync(joinRendezvous({ host: '127.0.0.1', port, rank: 0, size: 1, token: TOKEN, endpoint: 'x:1', startupTimeoutMs: 3000, heartbeatMs: 100, onPeerDead: () => undefined }));
  t.is((error as { code?: string }).code, 'ERR_BAD_TOKEN');
  t.regex(error!.message, /did not prove the job token/);
});
