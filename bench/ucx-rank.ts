/**
 * One rank of the UCX benchmark job (2 ranks, PGAS_TRANSPORT=ucx; started by bench/ucx.ts). argv[2] is
 * a JSON UcxRankSpec. Rank 0 prints `UCXBENCH <json UcxRankRecord>` per figure, then `UCXBENCH-DONE`.
 *
 *  1. rank 0 alone (rank 1 waits in a barrier; its progress thread serves what needs the target):
 *     put and get latency (one operation, then `wait`: remote completion) and bandwidth (`inflight`
 *     operations, then one `wait`) for every size, twice: all operations on one source and one
 *     destination region (what ucx_perftest's ucp_put_bw / ucp_get do, so the ceiling compares like
 *     with like: at 4 MiB both buffers stay in cache) and on `inflight` distinct regions (memory that
 *     misses the cache, as a training job's state does);
 *  2. putNotify ping-pong of 8 B: each side polls `waitNotify(seg, id, 1, 0)` (zero timeout) until the
 *     notification is there, resets it and answers; one-way latency = round trip / 2.
 */
import { init, PgasError } from '../pgas/index.js';
import type { UcxTransport } from '../pgas/transports/ucx/index.js';

export interface UcxRankSpec {
  sizes: number[];
  /** seconds spent per size and metric */
  seconds: number;
  pingPongs: number;
}

export interface UcxRankRecord {
  op: 'put' | 'get' | 'putNotify' | 'info';
  metric: 'latency_us' | 'bandwidth_GBps' | 'bandwidth_distinct_GBps' | 'one_way_latency_us' | 'lanes';
  bytes: number;
  /** median over samples */
  value: number;
  best: number;
  samples: number;
  inflight?: number;
  note?: string;
}

const SRC = 0;
const DST = 1;
const PING = 2;
const Q = 0;
const Q_PING = 1;
/** Bytes in flight per bandwidth sample: distinct regions need that much segment memory; one region does not. */
const MAX_INFLIGHT_BYTES = 16 << 20;
const MAX_INFLIGHT_BYTES_ONE_REGION = 64 << 20;

const spec = JSON.parse(process.argv[2] ?? '{}') as UcxRankSpec;
const emit = (r: UcxRankRecord): void => void process.stdout.write(`UCXBENCH ${JSON.stringify(r)}\n`);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const ctx = await init();
const biggest = Math.max(...spec.sizes);
const inflightFor = (bytes: number, budget = MAX_INFLIGHT_BYTES): number => Math.max(1, Math.min(64, Math.floor(budget / bytes)));
const segmentBytes = Math.max(biggest, ...spec.sizes.map((b) => b * inflightFor(b)));
await ctx.createSegment(SRC, segmentBytes);
await ctx.createSegment(DST, segmentBytes);
await ctx.createSegment(PING, 4096);
await ctx.barrier();

/** Repeat `once` (which takes one sample in ms) for about spec.seconds, at least 5 and at most 100k times. */
async function sample(once: () => Promise<number>): Promise<number[]> {
  for (let i = 0; i < 3; i++) await once(); // warm-up: wire-up, first-touch, JIT
  const out: number[] = [];
  const end = performance.now() + spec.seconds * 1000;
  while ((performance.now() < end || out.length < 5) && out.length < 100_000) out.push(await once());
  return out;
}

if (ctx.rank === 0) {
  const info = (ctx.transport as unknown as UcxTransport).describe();
  const lanes = info.endpoints.split('\n').filter((l) => /lane\[\d+\]/.test(l)).map((l) => l.trim()).slice(0, 6).join(' | ');
  emit({ op: 'info', metric: 'lanes', bytes: 0, value: 0, best: 0, samples: 0, note: lanes });
  for (const op of ['put', 'get'] as const) {
    const post = op === 'put'
      ? (off: number, bytes: number): void => ctx.put(SRC, off, 1, DST, off, bytes, Q)
      : (off: number, bytes: number): void => ctx.get(DST, off, 1, SRC, off, bytes, Q);
    for (const bytes of spec.sizes) {
      const lat = await sample(async () => {
        const t = performance.now();
        post(0, bytes);
        await ctx.wait(Q);
        return performance.now() - t;
      });
      emit({ op, metric: 'latency_us', bytes, value: median(lat) * 1000, best: Math.min(...lat) * 1000, samples: lat.length });
      for (const distinct of [false, true]) {
        const k = distinct ? inflightFor(bytes) : inflightFor(bytes, MAX_INFLIGHT_BYTES_ONE_REGION);
        const gbps = (ms: number): number => (k * bytes) / (ms / 1000) / 1e9;
        const bw = await sample(async () => {
          const t = performance.now();
          for (let i = 0; i < k; i++) post(distinct ? i * bytes : 0, bytes);
          await ctx.wait(Q);
          return performance.now() - t;
        });
        const metric = distinct ? 'bandwidth_distinct_GBps' : 'bandwidth_GBps';
        emit({ op, metric, bytes, value: gbps(median(bw)), best: gbps(Math.min(...bw)), samples: bw.length, inflight: k });
      }
    }
  }
}
await ctx.barrier();

// putNotify ping-pong, both ranks; zero-timeout polling as ucx_perftest polls memory.
const peer = 1 - ctx.rank;
async function pollNotify(): Promise<void> {
  for (;;) {
    try {
      await ctx.waitNotify(PING, 1, 1, 0);
      ctx.resetNotify(PING, 1);
      return;
    } catch (error) {
      if (!(error instanceof PgasError) || error.code !== 'ERR_TIMEOUT') throw error;
    }
  }
}
const rounds: number[] = [];
for (let i = 0; i < spec.pingPongs; i++) {
  if (i % 1000 === 999) await ctx.wait(Q_PING); // keep the queue below its depth
  const t = performance.now();
  if (ctx.rank === 0) {
    ctx.putNotify(PING, 0, peer, PING, 8, 8, 1, 1, Q_PING);
    await pollNotify();
  } else {
    await pollNotify();
    ctx.putNotify(PING, 0, peer, PING, 8, 8, 1, 1, Q_PING);
  }
  rounds.push(performance.now() - t);
}
await ctx.wait(Q_PING);
if (ctx.rank === 0) {
  const steady = rounds.slice(Math.min(100, Math.floor(rounds.length / 10)));
  emit({ op: 'putNotify', metric: 'one_way_latency_us', bytes: 8, value: (median(steady) / 2) * 1000, best: (Math.min(...steady) / 2) * 1000, samples: steady.length });
}
await ctx.barrier();
if (ctx.rank === 0) process.stdout.write('UCXBENCH-DONE\n');
await ctx.close();
