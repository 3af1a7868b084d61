/**
 * One rank of the pgas micro-benchmark job (2 ranks; started by bench/pgas.ts through bench/job.ts).
 * argv[2] is a JSON RankSpec. Rank 0 prints one line `PGASBENCH <json RawRecord>` per figure, then
 * `PGASBENCH-DONE {}`.
 *
 * Phases (both ranks go through them in the same order):
 *  1. one-sided, timed by tinybench on rank 0 while rank 1 sits in a barrier: put and get of 8 B with
 *     `wait(queue)` after each (remote completion), put and get bandwidth with several ops in flight
 *     per wait, and (spec.memcpy) the plain TypedArray.set copy of the same sizes as a baseline;
 *  2. putNotify ping-pong: a fixed number of round trips (rank 0 putNotify -> rank 1 waitNotify,
 *     resetNotify, putNotify back -> rank 0 waitNotify, resetNotify);
 *  3. barrier, a fixed number of times;
 *  4. allreduce (sum, Float32) of 8 B and 4 MiB, a fixed number of times.
 * Phases 2-4 are loops with a fixed iteration count, the same on both ranks (a time-based count
 * would differ between ranks and deadlock them), each timed per iteration with performance.now().
 */
import { Bench } from 'tinybench';
import { init, type PgasContext } from '../pgas/index.js';
import { ALLREDUCE_BYTES, BANDWIDTH_SIZES, LATENCY_BYTES, RANK_DONE_TAG, RANK_TAG, type RankSpec } from './pgas-spec.js';
import { bandwidthRecord, latencyRecord, type RawRecord } from './stats.js';

const SRC = 0; // segment the origin reads from (put source, get target-side source)
const DST = 1; // segment written (put destination, get local destination)
const PING = 2; // ping-pong segment
const Q_ONE_SIDED = 0;
const Q_PING = 1;
const PING_ID = 1;

const spec = JSON.parse(process.argv[2] ?? '{"quick":false,"memcpy":false}') as RankSpec;
const quick = spec.quick;
const segmentBytes = Math.max(...BANDWIDTH_SIZES.map(([b, k]) => b * k));

function emit(record: RawRecord): void {
  process.stdout.write(`${RANK_TAG} ${JSON.stringify(record)}\n`);
}

/** tinybench settings for a task whose single iteration takes about `estimateMs`. */
function benchFor(estimateMs: number): Bench {
  const time = quick ? 120 : 400;
  const warmupTime = quick ? 40 : 120;
  return new Bench({
    time,
    warmupTime,
    // at least a few samples even for slow iterations; never more than the time budget asks for
    iterations: Math.max(5, Math.min(quick ? 16 : 40, Math.floor(time / Math.max(estimateMs, 1e-3)))),
    warmupIterations: Math.max(2, Math.min(16, Math.floor(warmupTime / Math.max(estimateMs, 1e-3)))),
    throws: true,
  });
}

async function tiny(name: string, estimateMs: number, fn: () => unknown): Promise<{ median: number; mean: number; min: number; n: number }> {
  const bench = benchFor(estimateMs);
  bench.add(name, fn);
  await bench.run();
  const result = bench.getTask(name)!.result;
  if (result.state !== 'completed') {
    throw new Error(`tinybench task '${name}' ended ${result.state}${result.state === 'errored' ? `: ${result.error.stack ?? result.error.message}` : ''}`);
  }
  const l = result.latency;
  return { median: l.p50, mean: l.mean, min: l.min, n: l.samplesCount };
}

async function oneSided(ctx: PgasContext): Promise<void> {
  const peer = 1;
  const q = Q_ONE_SIDED;
  // latency: one 8 B op, then wait for its remote completion
  for (const op of ['put', 'get'] as const) {
    const fn = op === 'put'
      ? async (): Promise<void> => { ctx.put(SRC, 0, peer, DST, 0, LATENCY_BYTES, q); await ctx.wait(q); }
      : async (): Promise<void> => { ctx.get(DST, 0, peer, SRC, 0, LATENCY_BYTES, q); await ctx.wait(q); };
    const t = await tiny(`${op} ${LATENCY_BYTES} B`, 0.05, fn);
    emit({ op, bytes: LATENCY_BYTES, metric: 'latency_us', value: t.median * 1000, mean: t.mean * 1000, best: t.min * 1000, iterations: t.n, method: 'tinybench' });
  }
  // bandwidth: `inflight` ops of `bytes` each to consecutive ranges, then one wait
  for (const op of ['put', 'get'] as const) {
    for (const [bytes, inflight] of BANDWIDTH_SIZES) {
      const fn = op === 'put'
        ? async (): Promise<void> => {
          for (let i = 0, off = 0; i < inflight; i++, off += bytes) ctx.put(SRC, off, peer, DST, off, bytes, q);
          await ctx.wait(q);
        }
        : async (): Promise<void> => {
          for (let i = 0, off = 0; i < inflight; i++, off += bytes) ctx.get(DST, off, peer, SRC, off, bytes, q);
          await ctx.wait(q);
        };
      const t = await tiny(`${op} ${bytes} B x${inflight}`, (bytes * inflight) / 1e6, fn);
      emit(bandwidthRecord(op, bytes, bytes * inflight, t.median, t.mean, t.min, t.n, inflight, 'tinybench'));
    }
  }
  if (spec.memcpy) {
    // the same copies as the threads transport's put, between two SharedArrayBuffers, with no runtime
    const from = ctx.segment(SRC).u8;
    const to = ctx.segment(DST).u8;
    for (const [bytes, inflight] of BANDWIDTH_SIZES) {
      const fn = (): void => {
        for (let i = 0, off = 0; i < inflight; i++, off += bytes) to.set(from.subarray(off, off + bytes), off);
      };
      const t = await tiny(`memcpy ${bytes} B x${inflight}`, (bytes * inflight) / 4e6, fn);
      emit(bandwidthRecord('memcpy', bytes, bytes * inflight, t.median, t.mean, t.min, t.n, inflight, 'tinybench'));
    }
  }
}

async function pingPong(ctx: PgasContext): Promise<void> {
  const warmup = quick ? 100 : 1000;
  const n = quick ? 500 : 5000;
  const samples = new Float64Array(n);
  const me = ctx.rank;
  const other = 1 - me;
  // rank 0 sends from bytes 0..7 into the peer's 8..15, rank 1 from 8..15 into the peer's 0..7
  const localOff = me === 0 ? 0 : 8;
  const remoteOff = me === 0 ? 8 : 0;
  let sinceDrain = 0;
  for (let i = -warmup; i < n; i++) {
    if (me === 0) {
      const t0 = performance.now();
      ctx.putNotify(PING, localOff, other, PING, remoteOff, LATENCY_BYTES, PING_ID, 1, Q_PING);
      await ctx.waitNotify(PING, PING_ID, 1);
      ctx.resetNotify(PING, PING_ID);
      const t1 = performance.now();
      if (i >= 0) samples[i] = t1 - t0;
    } else {
      await ctx.waitNotify(PING, PING_ID, 1);
      ctx.resetNotify(PING, PING_ID);
      ctx.putNotify(PING, localOff, other, PING, remoteOff, LATENCY_BYTES, PING_ID, 1, Q_PING);
    }
    // keep the queue from filling, outside the timed span (the puts are long complete by now)
    if (++sinceDrain === 256) {
      sinceDrain = 0;
      await ctx.wait(Q_PING);
    }
  }
  await ctx.wait(Q_PING);
  if (me === 0) {
    emit(latencyRecord('putNotify', LATENCY_BYTES, 'rtt_us', samples, n, 'loop'));
    emit(latencyRecord('putNotify', LATENCY_BYTES, 'one_way_us', samples, n, 'loop', 0.5));
  }
}

async function collectiveLoop(ctx: PgasContext, op: string, bytes: number, warmup: number, n: number, step: () => Promise<void>): Promise<void> {
  const samples = new Float64Array(n);
  for (let i = 0; i < warmup; i++) await step();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await step();
    samples[i] = performance.now() - t0;
  }
  if (ctx.rank === 0) emit(latencyRecord(op, bytes, 'latency_us', samples, n, 'loop'));
}

async function collectives(ctx: PgasContext): Promise<void> {
  await collectiveLoop(ctx, 'barrier', 0, quick ? 50 : 300, quick ? 300 : 3000, () => ctx.barrier());
  for (const bytes of ALLREDUCE_BYTES) {
    const input = new Float32Array(bytes / 4).fill(ctx.rank + 1);
    const output = new Float32Array(bytes / 4);
    const big = bytes > 1 << 16;
    await collectiveLoop(ctx, 'allreduce', bytes, big ? 3 : quick ? 50 : 300, big ? (quick ? 6 : 30) : quick ? 300 : 3000, () => ctx.allreduce(input, output, 'sum'));
    const expect = (ctx.size * (ctx.size + 1)) / 2;
    if (output[0] !== expect || output[output.length - 1] !== expect) {
      throw new Error(`allreduce of ${bytes} B gave ${output[0]} .. ${output[output.length - 1]}, expected ${expect}`);
    }
  }
}

const ctx = await init();
if (ctx.size !== 2) throw new Error(`the pgas benchmark runs on exactly 2 ranks, got ${ctx.size}`);
const src = await ctx.createSegment(SRC, segmentBytes);
await ctx.createSegment(DST, segmentBytes);
await ctx.createSegment(PING, 64);
for (let i = 0; i < src.u8.length; i += 4096) src.u8[i] = (i >> 12) & 0xff; // touch the pages
await ctx.barrier();

if (ctx.rank === 0) await oneSided(ctx);
await ctx.barrier();
await pingPong(ctx);
await ctx.barrier();
await collectives(ctx);
await ctx.barrier();
if (ctx.rank === 0) process.stdout.write(`${RANK_DONE_TAG} {}\n`);
await ctx.close();
