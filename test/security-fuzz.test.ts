/**
 * Hostile connections against a live uws rank: unauthenticated WebSockets that send ops (valid puts,
 * notifies, atomics among them), random and mutated frames, forged, replayed, wrong-token and
 * wrong-rank authentication answers, or nothing at all. While a legitimate peer keeps putting and
 * reading back, every such connection must be closed (code 4003) before any op is read, logged with
 * its address (rate-limited), and no protected byte may change. PGAS_FUZZ_FRAMES sets how many frames
 * are sent (default 10,000; the recorded run used 100,000).
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import { ANSWER_BYTES, ClientHandshake } from '../pgas/auth/index.js';
import { DecodedFrame, decodeFrame, FrameEncoder, FrameOp } from '../pgas/wire/index.js';
import { openAuthenticated, openRaw } from './fixtures/uws-auth-client.js';
import { fuzzFrame, plausibleFrame, type Random } from './fixtures/uws-fuzzer.js';
import { killAll, startJob, TOKEN } from './fixtures/uws-harness.js';
import { pattern, rng } from './fixtures/uws-lib.js';

const FRAMES = Number(process.env.PGAS_FUZZ_FRAMES ?? 10_000);
const CONCURRENT = 4;
const AUTH_TIMEOUT_MS = 500;

type Opening = 'op' | 'valid-op' | 'forged-answer' | 'wrong-token' | 'replayed-answer' | 'wrong-rank' | 'silent';
const OPENINGS: Opening[] = ['op', 'valid-op', 'forged-answer', 'wrong-token', 'replayed-answer', 'wrong-rank'];

/** What the rank answers on an unauthenticated connection: the challenge, then the close code. */
interface Outcome { messages: Buffer[]; code: number }

function run(ws: WebSocket, send: (challenge: Buffer) => void, waitForChallenge: boolean, limitMs = 15000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const messages: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error('the rank did not close an unauthenticated connection')), limitMs);
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => {
      messages.push(data);
      if (waitForChallenge && messages.length === 1) send(data);
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ messages, code });
    });
    if (!waitForChallenge) ws.once('open', () => send(Buffer.alloc(0)));
  });
}

function pick<T>(random: Random, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

test('unauthenticated connections are closed before any op is read, logged, and change nothing', async (t) => {
  const ranks = await startJob(2, {
    perRank: (r) => ({ scenario: r === 0 ? 'serve' : 'legit', env: { PGAS_AUTH_TIMEOUT_MS: String(AUTH_TIMEOUT_MS) } }),
  });
  t.teardown(() => killAll(ranks));
  const ready = await ranks[0]!.waitLine((l) => l.ready === true, 30000);
  await ranks[1]!.waitLine((l) => l.ready === true, 30000);
  const endpoint = ready.endpoint as string;

  // An answer that was valid once (on another connection, for another nonce): replaying it must fail.
  let captured: Buffer | undefined;
  {
    const ws = openRaw(endpoint);
    const hs = new ClientHandshake(TOKEN, 'data', 1, 0);
    await run(ws, (challenge) => {
      captured = hs.answer(challenge) as Buffer;
      ws.send(captured);
      setTimeout(() => ws.close(), 50);
    }, true);
    t.is(captured?.length, ANSWER_BYTES);
  }

  let sent = 0;
  let connections = 1; // the capture above
  let answered = 0; // messages other than the challenge that came back (must stay 0)
  const codes = new Map<number, number>();
  const byOpening = new Map<Opening, number>();
  const attacker = async (id: number): Promise<void> => {
    const random = rng(7000 + id);
    while (sent < FRAMES) {
      const opening = pick(random, OPENINGS);
      const burst: Buffer[] = [];
      const extra = 1 + Math.floor(random() * 48);
      for (let i = 0; i < extra; i++) burst.push(random() < 0.5 ? plausibleFrame(random) : fuzzFrame(random).frame);
      const first = (challenge: Buffer): Buffer => {
        switch (opening) {
          case 'op': return fuzzFrame(random).frame;
          case 'valid-op': return plausibleFrame(random);
          case 'forged-answer': {
            const forged = randomBytes(ANSWER_BYTES);
            forged.writeUInt32LE(0x31414750, 0);
            forged.writeUInt32LE(1, 4);
            return forged;
          }
          case 'wrong-token': return new ClientHandshake(`${TOKEN}x`, 'data', 1, 0).answer(challenge) as Buffer;
          case 'replayed-answer': return captured!;
          case 'wrong-rank': return new ClientHandshake(TOKEN, 'data', pick(random, [0, 2, 7, 0xfffffffe]), 0).answer(challenge) as Buffer;
          default: return Buffer.alloc(0);
        }
      };
      // Ops and forgeries go before or after the challenge arrives; answers need the challenge.
      const waitForChallenge = opening !== 'op' && opening !== 'valid-op' ? true : random() < 0.5;
      const ws = openRaw(endpoint);
      connections++;
      const outcome = await run(ws, (challenge) => {
        const frames = [first(challenge), ...burst];
        for (const frame of frames) ws.send(frame);
        sent += frames.length;
      }, waitForChallenge);
      byOpening.set(opening, (byOpening.get(opening) ?? 0) + 1);
      codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
      answered += outcome.messages.filter((m) => m.length !== 36).length;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => attacker(i)));

  // A connection that says nothing is closed after the auth timeout (in a fresh rate-limit window, so
  // that its log line is not summarised away).
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const silent = await run(openRaw(endpoint), () => undefined, true, AUTH_TIMEOUT_MS + 10000);
  connections++;
  t.is(silent.code, 4003);

  // The rank still serves an authenticated peer: the protected pattern reads back.
  const ws = await openAuthenticated(endpoint, TOKEN);
  const reply = new Promise<Buffer>((resolve) => ws.once('message', resolve));
  ws.send(new FrameEncoder().request(FrameOp.Get, 1, 0, 1, 100, 8, 0, 0, null, 0, 0));
  const f = new DecodedFrame();
  const answer = await reply;
  t.is(decodeFrame(answer, f), undefined);
  t.is(f.op, FrameOp.GetReply);
  for (let i = 0; i < 8; i++) t.is(answer[f.payloadOffset + i], pattern(7, 100 + i));
  ws.close();

  await new Promise((resolve) => setTimeout(resolve, 1500)); // the rate limiter's last count
  ranks[1]!.write('stop');
  const legit = await ranks[1]!.waitLine((l) => 'rounds' in l, 30000);
  ranks[0]!.write('stop');
  const final = await ranks[0]!.waitLine((l) => l.final === true, 30000);
  const stderr = ranks[0]!.stderr();
  const lines = stderr.split('\n').filter((l) => /uws rank 0: rejected a connection from \S+: /.test(l));
  const summarised = [...stderr.matchAll(/uws rank 0: rejected (\d+) more connections?/g)].reduce((n, m) => n + Number(m[1]), 0);
  t.log(`FUZZ-UNAUTH frames=${sent} connections=${connections} closeCodes=${JSON.stringify(Object.fromEntries(codes))} openings=${JSON.stringify(Object.fromEntries(byOpening))}`);
  t.log(`FUZZ-UNAUTH logLines=${lines.length} summarised=${summarised} legitRounds=${legit.rounds as number} legitFailures=${legit.failureCount as number} checksumUnchanged=${final.checksum === ready.checksum}`);
  t.log(`sample: ${lines[0]} | ${lines.find((l) => /replay|wrong proof/.test(l)) ?? ''}`);

  t.true(sent >= FRAMES);
  t.is(answered, 0, 'an unauthenticated connection got an answer other than the challenge');
  // Every connection was closed by the rank: with 4003, or seen as 1006 when the attacker was still
  // writing its burst as the close arrived (the TCP connection is then reset under it).
  t.is((codes.get(4003) ?? 0) + (codes.get(1006) ?? 0), connections - 2, `close codes ${JSON.stringify(Object.fromEntries(codes))}`);
  t.true((codes.get(4003) ?? 0) >= 0.95 * (connections - 2), `close codes ${JSON.stringify(Object.fromEntries(codes))}`);
  t.is(legit.failureCount, 0, JSON.stringify(legit.failures));
  t.true((legit.rounds as number) > 10);
  t.is(final.checksum, ready.checksum, 'a protected segment or notification word changed');
  // Every rejected connection is accounted for: a line of its own, or counted in a summary line.
  t.is(lines.length + summarised, connections - 1);
  t.true(lines.some((l) => /rejected a connection from 127\.0\.0\.1\S*: no proof of the job token within 500 ms/.test(l)));
  t.false(/closing the data connection from rank/.test(stderr), 'an unauthenticated frame reached the frame handler');
  for (const r of ranks) t.deepEqual(await r.exited, { code: 0, signal: null }, r.stderr().slice(-3000));
});
