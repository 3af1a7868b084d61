/**
 * Soak (issue 9, "Load"): every rank exchanges states of `floats` floats through ASGD's exchange
 * (runtime/asgd/solvers/exchange.ts: putNotify into a random rank's inbox slot, double-buffered slots,
 * torn-read detection) as fast as it can for `seconds`. Each state is a self-checking block (sender,
 * send number, checksum); every state the exchange hands over as consistent is checked, so a torn
 * state that got through would be counted in `acceptedBad`. RSS is sampled each second; the slope
 * after warm-up (the first quarter, at least 3 s) is reported in MiB per minute.
 *
 * argv: seconds [floats=1000000]. Prints `RESULT <rank> <json>` or `ERROR <rank> <json>`.
 */
import { init } from '../../pgas/index.js';
import { AsgdExchange } from '../../runtime/asgd/solvers/exchange.js';
import { peakRssMb, rssMb, slope } from './memory.js';
import { blockIntact, fillBlock } from './pattern.js';

const seconds = Number(process.argv[2] ?? 20);
const floats = Number(process.argv[3] ?? 1_000_000);

const ctx = await init();
try {
  const exchange = await AsgdExchange.create(ctx, floats, { outboxSegment: 0, inboxSegment: 1, queue: 0, seed: 11 });
  // Touch the inbox's pages now, before anyone sends (the barrier below): otherwise the first
  // minute's RSS growth is just slots being written for the first time, not a leak.
  ctx.segment(1).f32.fill(0);
  const w = new Float32Array(floats);
  const words = new Uint32Array(w.buffer);
  const g = new Float32Array(floats);
  let checked = 0;
  let acceptedBad = 0;
  exchange.inspect = (sender, _count, state) => {
    checked++;
    if (!blockIntact(new Uint32Array(state.buffer, state.byteOffset, state.length), sender)) acceptedBad++;
  };
  await ctx.barrier();
  const started = performance.now();
  const times: number[] = [];
  const rss: number[] = [];
  let nextSample = started;
  let sends = 0;
  while (performance.now() - started < seconds * 1000) {
    exchange.collect(w, g, 0, false);
    if (!exchange.sendReady()) await exchange.drain();
    fillBlock(words, ctx.rank, sends++);
    exchange.send(w);
    const now = performance.now();
    if (now >= nextSample) {
      times.push((now - started) / 60000);
      rss.push(rssMb());
      nextSample += 1000;
    }
  }
  await exchange.drain();
  await ctx.barrier();
  exchange.collect(w, g, 0, false); // what landed last is checked too
  const warm = Math.max(3, Math.ceil(times.length / 4));
  const after = { t: times.slice(warm), r: rss.slice(warm) };
  const c = exchange.counters;
  console.log(`RESULT ${ctx.rank} ${JSON.stringify({
    seconds: (performance.now() - started) / 1000, floats, sent: c.sent, sendFailed: c.sendFailed, statesPerSecond: c.sent / seconds,
    received: c.received, checked, acceptedBad, tornDetected: c.torn, superseded: c.superseded,
    rssMb: { warmEnd: after.r[0], last: rss.at(-1), max: Math.max(...rss) }, slopeMbPerMin: slope(after.t, after.r), peakRssMb: peakRssMb(),
  })}`);
} catch (error) {
  const e = error as Error & { code?: string };
  console.log(`ERROR ${ctx.rank} ${JSON.stringify({ name: e.name, code: e.code, message: e.message })}`);
  process.exitCode = 3;
}
await ctx.close();
