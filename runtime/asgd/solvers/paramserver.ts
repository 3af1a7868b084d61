import { TimeoutError, type PgasContext } from '../../../pgas/index.js';
import type { ResolvedSolverConfig } from '../config.js';
import { prepare } from './setup.js';
import { Trainer } from './trainer.js';
import type { ProblemSource, RunHooks, RunResult } from './types.js';

/**
 * Parameter server / AsySG-con (ALGORITHMS.md §2). Rank 0 is the server and holds w; ranks 1..n−1 are
 * workers, worker i training on data part i−1 of n−1. A worker reads a consistent snapshot of w with
 * one-sided gets (a versioned double buffer: never a torn read), computes a mini-batch gradient,
 * putNotifies it with the version it read into its own slot of the server's inbox, and waits for the
 * server's acknowledgement. The server applies gradients one at a time (slots taken round-robin in
 * the order they are found set), w ← w − update(g), records the staleness τ = updates since the
 * read, publishes the new version and acknowledges.
 *
 * Bounded staleness: the server holds a worker's acknowledgement while that worker has had more than
 * `maxClockGap` gradients applied beyond the slowest worker. With the default 0 every other worker can
 * be applied at most once between a worker's read and its own update, so τ ≤ workers − 1; with one
 * worker τ = 0 and the run is plain SGD. (maxClockGap = Infinity: no holding, τ unbounded.)
 * One rank: the server trains alone (plain SGD, τ = 0). `steps` counts the server's updates (a
 * worker's own count is its pushes).
 */

const HEADER = 4; // words: published: version, writing; message: read version, sequence, samples, loss
const V_VERSION = 0;
const V_WRITING = 1;
const N_ACK = 0;
const N_STOP = 1;
const HISTOGRAM = 1024;

export async function runParamServer<B>(ctx: PgasContext, config: ResolvedSolverConfig, source: ProblemSource<B>, hooks: RunHooks = {}): Promise<RunResult> {
  const workers = ctx.size - 1;
  const server = ctx.rank === 0;
  // the server evaluates on all the data; workers train on their parts
  const { problem, checkpoint } = server
    ? await prepare(ctx, config, source, 0, 1)
    : await prepare(ctx, config, source, ctx.rank - 1, workers);
  const d = problem.model.paramCount;
  const boosted = config.optimizer.name.startsWith('boosted-');
  const messageWords = HEADER + (boosted ? 2 : 1) * d;
  const base = config.segmentBase;
  // segment sizes differ by role; every rank creates every id (a collective create needs them all)
  const published = await ctx.createSegment(base, server ? 4 * (HEADER + 2 * d) : 16);
  const inbox = await ctx.createSegment(base + 1, server ? 4 * Math.max(1, workers) * messageWords : 16);
  const local = await ctx.createSegment(base + 2, server ? 4 * d : 4 * (HEADER + d + messageWords + HEADER));
  const params = server ? local.f32 : new Float32Array(d);
  const trainer = new Trainer(ctx, config, problem, params, checkpoint !== null);
  trainer.hooks = hooks;
  trainer.initParams();
  // the server's checkpoint holds w, its optimizer state and the update count; a worker's, its data
  // position and push count (each rank resumes its own part; the run continues within tolerance)
  if (checkpoint) trainer.restore(checkpoint);
  let histogram: number[] | undefined;
  await ctx.barrier();
  if (server) histogram = await serve(ctx, config, trainer, published.f32, inbox.f32, messageWords, boosted);
  else await work(ctx, config, trainer, local.f32, messageWords, boosted);
  await ctx.barrier();
  // every rank returns the server's final state
  if (ctx.size > 1) await ctx.broadcast(params, 0);
  const result = await trainer.finish(params, histogram);
  for (const id of [base + 2, base + 1, base]) await ctx.deleteSegment(id);
  return result;
}

async function serve<B>(ctx: PgasContext, config: ResolvedSolverConfig, trainer: Trainer<B>, published: Float32Array, inbox: Float32Array, messageWords: number, boosted: boolean): Promise<number[]> {
  const d = trainer.model.paramCount;
  const w = trainer.params;
  const g = trainer.grad;
  const header = new Int32Array(published.buffer, published.byteOffset, HEADER);
  const buffers = [published.subarray(HEADER, HEADER + d), published.subarray(HEADER + d, HEADER + 2 * d)];
  const histogram = new Array<number>(HISTOGRAM).fill(0);
  const counters = trainer.counters;
  const record = (tau: number): void => {
    histogram[Math.min(tau, HISTOGRAM - 1)]!++;
    counters.stalenessCount++;
    counters.stalenessSum += tau;
    counters.stalenessMax = Math.max(counters.stalenessMax, tau);
  };
  const publish = (version: number): void => {
    Atomics.store(header, V_WRITING, version);
    buffers[version % 2]!.set(w);
    Atomics.store(header, V_VERSION, version);
  };
  // versions count the server's updates, so a resumed run continues the numbering
  publish(trainer.step);
  const workers = ctx.size - 1;
  if (workers === 0) {
    // alone: the server is its own worker, plain SGD with staleness 0
    while (trainer.stopReason === null) {
      const lr = trainer.lr();
      trainer.gradientStep();
      trainer.optimizer.step(w, g, lr, null);
      record(0);
      const stop = trainer.afterStep();
      if (trainer.checkpointDueBySteps() || trainer.checkpointDueByTime()) trainer.saveCheckpoint();
      if (stop) break;
    }
    return histogram;
  }
  const messages = Array.from({ length: workers }, (_, i) => inbox.subarray(i * messageWords, (i + 1) * messageWords));
  const u32 = new Uint32Array(inbox.buffer, inbox.byteOffset, workers * messageWords);
  const dw = boosted ? new Float32Array(d) : null;
  const clocks = new Float64Array(workers);
  const holding = new Uint8Array(workers);
  const gap = config.paramserver.maxClockGap;
  /** acknowledge every held worker that is not too far ahead of the slowest; resolves when the notifications are out */
  const acknowledge = async (): Promise<void> => {
    let slowest = Infinity;
    for (let i = 0; i < workers; i++) slowest = Math.min(slowest, clocks[i]!);
    let posted = 0;
    for (let i = 0; i < workers; i++) {
      if (holding[i] && clocks[i]! - slowest <= gap) {
        holding[i] = 0;
        ctx.notify(i + 1, config.segmentBase + 2, N_ACK, trainer.step + 1, config.queue);
        posted++;
      }
    }
    // a queue holds a bounded number of posts between waits
    if (posted > 0) await ctx.wait(config.queue);
  };
  for (let i = 0; i < workers; i++) holding[i] = 1;
  await acknowledge();
  let next = 0;
  while (trainer.stopReason === null) {
    let ids: number[];
    try {
      ids = await ctx.waitNotify(config.segmentBase + 1, 0, workers, 50);
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      trainer.stopReason = trainer.stop.budget(trainer.step, trainer.counters.samples);
      continue;
    }
    // round-robin from the worker after the last one served, so that no slot starves
    for (let n = 0; n < workers && trainer.stopReason === null; n++) {
      const i = (next + n) % workers;
      if (!ids.includes(i) || ctx.resetNotify(config.segmentBase + 1, i) === 0) continue;
      const message = messages[i]!;
      const read = u32[i * messageWords]!;
      const samples = u32[i * messageWords + 2]!;
      const tau = trainer.step - read;
      record(tau);
      g.set(message.subarray(HEADER, HEADER + d));
      if (dw !== null) {
        const snapshot = message.subarray(HEADER + d, HEADER + 2 * d);
        for (let k = 0; k < d; k++) dw[k] = w[k]! - snapshot[k]!;
      }
      trainer.optimizer.step(w, g, trainer.lr(), dw);
      trainer.metrics.addLoss(message[3]!);
      trainer.counters.samples += samples;
      trainer.counters.received++;
      publish(trainer.step + 1);
      clocks[i]!++;
      holding[i] = 1;
      trainer.afterStep(() => ({ stalenessMean: counters.stalenessSum / counters.stalenessCount, stalenessMax: counters.stalenessMax }));
      if (trainer.checkpointDueBySteps() || trainer.checkpointDueByTime()) trainer.saveCheckpoint();
      if (trainer.stopReason === null) await acknowledge();
      next = i + 1;
    }
  }
  for (let i = 0; i < workers; i++) ctx.notify(i + 1, config.segmentBase + 2, N_STOP, 1, config.queue);
  await ctx.wait(config.queue);
  return histogram;
}

async function work<B>(ctx: PgasContext, config: ResolvedSolverConfig, trainer: Trainer<B>, local: Float32Array, messageWords: number, boosted: boolean): Promise<void> {
  const d = trainer.model.paramCount;
  const q = config.queue;
  const seg = config.segmentBase + 2;
  const server = 0;
  // local segment: [header (as read)] [snapshot d] [message: header, g, (snapshot)] [header (after)]
  const before = new Int32Array(local.buffer, local.byteOffset, HEADER);
  const snapshot = local.subarray(HEADER, HEADER + d);
  const messageOffset = HEADER + d;
  const message = local.subarray(messageOffset, messageOffset + messageWords);
  const messageU32 = new Uint32Array(local.buffer, local.byteOffset + 4 * messageOffset, HEADER);
  const afterOffset = messageOffset + messageWords;
  const after = new Int32Array(local.buffer, local.byteOffset + 4 * afterOffset, HEADER);
  const g = message.subarray(HEADER, HEADER + d);
  const slot = 4 * (ctx.rank - 1) * messageWords;
  let sequence = 0;
  for (;;) {
    const ids = await ctx.waitNotify(seg, N_ACK, 2);
    if (ids.includes(N_STOP)) break;
    ctx.resetNotify(seg, N_ACK);
    // a consistent snapshot: read the version, the buffer it names, then the version words again;
    // the buffer is rewritten only by the publish of version + 2, which first sets `writing`
    let version: number;
    for (;;) {
      ctx.get(seg, 0, server, config.segmentBase, 0, 4 * HEADER, q);
      await ctx.wait(q);
      version = Atomics.load(before, V_VERSION);
      ctx.get(seg, 4 * HEADER, server, config.segmentBase, 4 * (HEADER + (version % 2) * d), 4 * d, q);
      ctx.get(seg, 4 * afterOffset, server, config.segmentBase, 0, 4 * HEADER, q);
      await ctx.wait(q);
      if (Atomics.load(after, V_WRITING) < version + 2) break;
      trainer.counters.superseded++;
    }
    const loss = trainer.gradientStep(snapshot);
    g.set(trainer.grad);
    if (boosted) message.set(snapshot, HEADER + d);
    messageU32[0] = version;
    messageU32[1] = sequence;
    messageU32[2] = trainer.batchSize;
    message[3] = loss;
    ctx.putNotify(seg, 4 * messageOffset, server, config.segmentBase + 1, slot, 4 * messageWords, ctx.rank - 1, sequence + 1, q);
    await ctx.wait(q);
    sequence = (sequence + 1) % 0x40000000;
    trainer.counters.sent++;
    trainer.step++;
    trainer.counters.steps = trainer.step;
    if (trainer.checkpointDueBySteps() || trainer.checkpointDueByTime()) trainer.saveCheckpoint();
  }
}
