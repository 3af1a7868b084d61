/**
 * Backpressure (issue 9, "Load"): rank 0 floods puts at rank 1, whose JavaScript is busy in 200 ms
 * synchronous spells the whole time (its comm engine must take the puts without it). The sender keeps
 * posting; the queue's depth limit (QueueFullError) is the only thing that holds it back, and each
 * QueueFullError is answered with wait(). Each put carries a self-checking block into one of 256
 * target slots; at the end the sender sends the index of the last put into each slot, and the target
 * checks every slot byte for byte against it. Both report their peak RSS (VmHWM).
 *
 * argv: seconds [putBytes=65536]. Prints `RESULT <rank> <json>`. Set PGAS_CONFIG='{"queueDepth":64}'
 * to make the limit bite (the default 4096 does too, later).
 */
import { init, QueueFullError } from '../../pgas/index.js';
import { peakRssMb, rssMb } from './memory.js';
import { blockIntact, fillBlock } from './pattern.js';

const seconds = Number(process.argv[2] ?? 5);
const putBytes = Number(process.argv[3] ?? 65536);
const TARGET_SLOTS = 256;
const SOURCE_SLOTS = 128;
const TAG = 7;
const QUEUE = 0;
const DONE_ID = 0;

const ctx = await init();
if (ctx.size !== 2) throw new Error('flood-rank runs on exactly 2 ranks');
const data = await ctx.createSegment(0, TARGET_SLOTS * putBytes);
const table = await ctx.createSegment(1, 4 * TARGET_SLOTS);
const words = putBytes / 4;
const block = (slot: number): Uint32Array => new Uint32Array(data.buffer, slot * putBytes, words);
await ctx.barrier();
const started = performance.now();

if (ctx.rank === 0) {
  const last = new Int32Array(table.buffer, 0, TARGET_SLOTS).fill(-1);
  let posted = 0;
  let queueFull = 0;
  let waits = 0;
  const samples: number[] = [];
  let nextSample = 0;
  while (performance.now() - started < seconds * 1000) {
    const source = posted % SOURCE_SLOTS;
    if (source === 0 && posted > 0) { await ctx.wait(QUEUE); waits++; } // a source slot is reused only after its put completed
    fillBlock(block(source), TAG, posted);
    const slot = posted % TARGET_SLOTS;
    for (;;) {
      try {
        ctx.put(0, source * putBytes, 1, 0, slot * putBytes, putBytes, QUEUE);
        break;
      } catch (error) {
        if (!(error instanceof QueueFullError)) throw error;
        queueFull++;
        await ctx.wait(QUEUE);
      }
    }
    last[slot] = posted;
    posted++;
    if (performance.now() >= nextSample) { samples.push(rssMb()); nextSample = performance.now() + 250; }
  }
  await ctx.wait(QUEUE);
  const elapsed = (performance.now() - started) / 1000;
  ctx.put(1, 0, 1, 1, 0, 4 * TARGET_SLOTS, QUEUE);
  await ctx.wait(QUEUE);
  ctx.notify(1, 1, DONE_ID, 1, QUEUE);
  await ctx.wait(QUEUE);
  await ctx.barrier();
  console.log(`RESULT 0 ${JSON.stringify({ role: 'sender', putBytes, completed: posted, queueFull, waits, seconds: elapsed, putsPerSecond: posted / elapsed, mbPerSecond: (posted * putBytes) / elapsed / 2 ** 20, peakRssMb: peakRssMb(), rssMb: { first: samples[0], max: Math.max(...samples), last: samples.at(-1) } })}`);
} else {
  let spells = 0;
  const samples: number[] = [];
  while (ctx.resetNotify(1, DONE_ID) === 0) {
    const until = performance.now() + 200;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1); // the JavaScript thread is busy: no event loop turns
    spells++;
    samples.push(rssMb());
    await new Promise((r) => setImmediate(r));
  }
  const last = new Int32Array(table.buffer, 0, TARGET_SLOTS);
  let verified = 0;
  let bad = 0;
  for (let slot = 0; slot < TARGET_SLOTS; slot++) {
    if (last[slot]! < 0) continue;
    if (blockIntact(block(slot), TAG, last[slot])) verified++;
    else bad++;
  }
  await ctx.barrier();
  console.log(`RESULT 1 ${JSON.stringify({ role: 'target', busySpells: spells, slotsVerified: verified, slotsBad: bad, peakRssMb: peakRssMb(), rssMb: { first: samples[0], max: Math.max(...samples), last: samples.at(-1) } })}`);
}
await ctx.close();
