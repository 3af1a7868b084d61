/**
 * pgas: a GASPI-style partitioned global address space for Node.js.
 *
 *   const ctx = await init();                       // join the job (env contract: env.ts)
 *   const seg = await ctx.createSegment(0, 4096);   // collective: returns when every rank has it
 *   ctx.putNotify(0, 0, peer, 0, 0, 64, 7, 1, 0);   // local seg, local off, rank, remote seg, remote off, bytes, id, value, queue
 *   await ctx.wait(0);                              // queue 0 complete: data is at the target
 *   await ctx.waitNotify(0, 7, 1, 1000);            // ids set, or TimeoutError after 1 s
 */
export { init, type InitOptions } from './init.js';
export {
  PgasContext, KILLED_EXIT_CODE, type BindSegmentOptions, type CreateSegmentOptions, type PgasLimits, type RankHealth, type SegmentInfo,
} from './context.js';
export { formatStats, statsLine, STATS_LINE_PREFIX, type PeerStats, type RankStats, type TrafficCounters } from './stats.js';
export { Segment } from './segment.js';
export { Group } from './collectives/group.js';
export type { ReduceOp, ReduceArray, UserReduce, UserReduceArray } from './collectives/allreduce.js';
export { DEFAULT_CONFIG, resolveConfig, type PgasConfig } from './config.js';
export { readRankEnvironment, DEFAULT_CONNECTIONS, type ConnectionMode, type RankEnvironment } from './env.js';
export { runThreadRanks, type ThreadRunOptions, type ThreadRunResult } from './transports/threads/hub.js';
export type { PassiveMessage, TransportKind } from './transport.js';
export * from './errors.js';
