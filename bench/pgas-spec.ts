/**
 * What the pgas benchmark's processes agree on (imported by the orchestrator and by the programs it
 * starts; this module has no side effects, unlike the programs themselves).
 */

/** The rank program's argument (argv[2], JSON). */
export interface RankSpec {
  quick: boolean;
  /** also time TypedArray.set of the bandwidth sizes (the threads transport's baseline) */
  memcpy: boolean;
}

/** rank 0 prints `PGASBENCH <json RawRecord>` per figure, then `PGASBENCH-DONE {}` */
export const RANK_TAG = 'PGASBENCH';
export const RANK_DONE_TAG = 'PGASBENCH-DONE';

/** Payload sizes of the bandwidth figures and how many operations are in flight per wait for each. */
export const BANDWIDTH_SIZES: readonly (readonly [bytes: number, inflight: number])[] = [
  [4 << 10, 64],
  [64 << 10, 32],
  [1 << 20, 8],
  [4 << 20, 4],
];
export const LATENCY_BYTES = 8;
export const ALLREDUCE_BYTES: readonly number[] = [8, 4 << 20];

/** the ws echo baseline prints `WSECHO <json RawRecord>` lines; its server `WSECHO-PORT <port>` */
export const ECHO_TAG = 'WSECHO';
export const ECHO_PORT_TAG = 'WSECHO-PORT';
export const ECHO_RTT_BYTES = 8;
/** the echo bandwidth the target compares with (it is measured at every BANDWIDTH_SIZES size) */
export const ECHO_BW_BYTES = 4 << 20;
