/**
 * Fuzzing a live uws rank: over authenticated raw WebSocket connections (reopened whenever the rank
 * closes one), at least 10,000 random and mutated frames, while a legitimate peer keeps putting and
 * getting and checking. At the end the rank still serves, the peer saw no failure, and the segment and
 * notification words that nobody may legitimately write are unchanged.
 */
import test from 'ava';
import type WebSocket from 'ws';
import { DecodedFrame, decodeFrame, FrameEncoder, FrameOp } from '../pgas/wire/index.js';
import { pattern, rng } from './fixtures/uws-lib.js';
import { fuzzFrame, wouldModify, type Kind } from './fixtures/uws-fuzzer.js';
import { killAll, startJob, TOKEN } from './fixtures/uws-harness.js';
import { openAuthenticated } from './fixtures/uws-auth-client.js';

/** 10,000 in `npm test`; PGAS_FUZZ_FRAMES=100000 for the recorded run (RELIABILITY.md, Part 2). */
const FRAMES = Number(process.env.PGAS_FUZZ_FRAMES ?? 10_000);
const CONNECTIONS = 3;
const BATCH = 16;

interface Conn {
  ws: WebSocket;
  answers: Buffer[];
  closed: boolean;
  wake: (() => void) | undefined;
}

/** An authenticated connection (the token handshake done, as rank 1). */
async function open(endpoint: string): Promise<Conn> {
  const ws = await openAuthenticated(endpoint, TOKEN);
  const conn: Conn = { ws, answers: [], closed: false, wake: undefined };
  ws.on('message', (data: Buffer) => { conn.answers.push(data); conn.wake?.(); });
  ws.on('close', () => { conn.closed = true; conn.wake?.(); });
  ws.on('error', () => undefined);
  return conn;
}

/** Wait until the probe with `sequence` is answered (true) or the connection closes (false). */
async function probed(conn: Conn, sequence: number, f: DecodedFrame): Promise<boolean> {
  const deadline = Date.now() + 10000;
  for (;;) {
    while (conn.answers.length > 0) {
      const answer = conn.answers.shift()!;
      if (decodeFrame(answer, f) !== undefined) throw new Error('the rank sent a malformed answer');
      if (f.op === FrameOp.GetReply && f.sequence === sequence) {
        const data = answer.subarray(f.payloadOffset);
        for (let i = 0; i < 8; i++) if (data[i] !== pattern(7, 100 + i)) throw new Error('the probe read wrong data');
        return true;
      }
    }
    if (conn.closed) return false;
    if (Date.now() > deadline) throw new Error(`probe ${sequence} unanswered`);
    await new Promise<void>((resolve) => {
      conn.wake = resolve;
      setTimeout(resolve, 200);
    });
    conn.wake = undefined;
  }
}

test(`${FRAMES} malformed and mutated frames on authenticated connections do not crash a rank or change a byte it protects`, async (t) => {
  const ranks = await startJob(2, { perRank: (r) => ({ scenario: r === 0 ? 'serve' : 'legit' }) });
  t.teardown(() => killAll(ranks));
  const ready = await ranks[0]!.waitLine((l) => l.ready === true, 30000);
  await ranks[1]!.waitLine((l) => l.ready === true, 30000);
  const endpoint = ready.endpoint as string;

  let confirmed = 0;
  let skipped = 0;
  let reconnects = 0;
  const byKind = new Map<Kind, number>();
  const encoder = new FrameEncoder();
  let probeSequence = 0xf0000000;

  const fuzzer = async (id: number): Promise<void> => {
    const random = rng(9000 + id);
    const f = new DecodedFrame();
    let conn = await open(endpoint);
    let pending: { kind: Kind; frame: Buffer } | undefined;
    while (confirmed < FRAMES) {
      if (pending) {
        // the frame held back from the last batch goes alone
        conn.ws.send(pending.frame);
        const sequence = probeSequence++;
        conn.ws.send(encoder.request(FrameOp.Get, sequence, 0, 1, 100, 8, 0, 0, null, 0, 0));
        const answered = await probed(conn, sequence, f);
        confirmed++;
        byKind.set(pending.kind, (byKind.get(pending.kind) ?? 0) + 1);
        pending = undefined;
        if (!answered) {
          conn.ws.terminate();
          conn = await open(endpoint);
          reconnects++;
        }
        continue;
      }
      // A batch of frames, then a probe (a valid get of the protected segment); if the probe is
      // answered, every frame of the batch was processed. A closed connection counts the batch only
      // when it was a single frame (then that frame is what closed it). Frames that look like they
      // will close the connection go alone, the others in batches (the guess only saves time).
      const batch: Kind[] = [];
      let single = false;
      while (batch.length < BATCH && !single) {
        const { kind, frame } = fuzzFrame(random);
        if (wouldModify(frame)) {
          skipped++;
          continue;
        }
        const closes = decodeFrame(frame, f) !== undefined || f.sequence === 0 || f.payloadLength > 65536;
        if (closes && batch.length > 0) {
          pending = { kind, frame };
          break;
        }
        conn.ws.send(frame);
        batch.push(kind);
        single = closes;
      }
      const sequence = probeSequence++;
      conn.ws.send(encoder.request(FrameOp.Get, sequence, 0, 1, 100, 8, 0, 0, null, 0, 0));
      const answered = await probed(conn, sequence, f);
      if (answered || single) {
        confirmed += batch.length;
        for (const kind of batch) byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      }
      if (!answered) {
        conn.ws.terminate();
        conn = await open(endpoint);
        reconnects++;
      }
    }
    conn.ws.close();
  };
  // One frame far over the largest message (a 16 MiB chunk plus header): uWS closes that connection.
  const huge = await open(endpoint);
  huge.ws.send(Buffer.alloc(17 << 20));
  while (!huge.closed) await new Promise((resolve) => setTimeout(resolve, 20));

  await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => fuzzer(i)));

  // The rank still serves: a fresh connection reads the protected pattern.
  const last = await open(endpoint);
  last.ws.send(encoder.request(FrameOp.Get, 1, 0, 1, 100, 8, 0, 0, null, 0, 0));
  t.true(await probed(last, 1, new DecodedFrame()));
  last.ws.close();

  ranks[1]!.write('stop');
  const legit = await ranks[1]!.waitLine((l) => 'rounds' in l, 30000);
  ranks[0]!.write('stop');
  const final = await ranks[0]!.waitLine((l) => l.final === true, 30000);
  t.log(`FUZZ-AUTH frames=${confirmed} failures=${legit.failureCount as number} checksumUnchanged=${final.checksum === ready.checksum}`);
  t.log(`confirmed ${confirmed} frames (${JSON.stringify(Object.fromEntries(byKind))}), ${skipped} legitimate writes not sent, ${reconnects} reconnects, ${legit.rounds as number} legitimate rounds`);
  t.true(confirmed >= FRAMES);
  for (const kind of ['random', 'truncated', 'mutated', 'flipped', 'prefix'] as Kind[]) t.true((byKind.get(kind) ?? 0) > 100, `few ${kind} frames`);
  t.is(legit.failureCount, 0, JSON.stringify(legit.failures));
  t.true((legit.rounds as number) > 10);
  t.is(final.checksum, ready.checksum, 'a protected segment or notification word changed');
  for (const r of ranks) t.deepEqual(await r.exited, { code: 0, signal: null }, r.stderr().slice(-3000));
  t.regex(ranks[0]!.stderr(), /closing the data connection from rank 1/);
});
