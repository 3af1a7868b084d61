import { ConfigError } from './errors.js';

/** Limits of one context. Everything that grows with use is bounded here. */
export interface PgasConfig {
  /** user segment ids are 0..maxSegments-1 */
  maxSegments: number;
  /** the largest segment, in bytes */
  maxSegmentBytes: number;
  /** notification ids per segment (GASPI: at least 65,536 here) */
  notificationsPerSegment: number;
  /** queue slots, 0..queues-1: the most queues that can exist at once (GASPI queue_max) */
  queues: number;
  /**
   * queues that exist at start, 0..initialQueues-1 (GASPI queue_num); queueCreate adds more up to
   * `queues`. Default: all of them.
   */
  initialQueues: number;
  /** outstanding operations one queue may hold before posting fails with QueueFullError */
  queueDepth: number;
  /** the largest passive message, in bytes */
  maxPassiveBytes: number;
  /** collectives move data in chunks of at most this many bytes (also the internal buffer size) */
  collectiveChunkBytes: number;
  /** microseconds a blocking call polls shared memory before it sleeps (latency versus CPU) */
  spinMicros: number;
}

export const DEFAULT_CONFIG: Readonly<PgasConfig> = Object.freeze({
  maxSegments: 64,
  maxSegmentBytes: 2 ** 31 - 8,
  notificationsPerSegment: 65536,
  queues: 8,
  initialQueues: 8,
  queueDepth: 4096,
  maxPassiveBytes: 1 << 20,
  collectiveChunkBytes: 1 << 20,
  spinMicros: 30,
});

const INTEGER_LIMITS: Record<keyof PgasConfig, [number, number]> = {
  maxSegments: [1, 4096],
  maxSegmentBytes: [8, 2 ** 31 - 8],
  notificationsPerSegment: [1, 1 << 22],
  queues: [1, 256],
  initialQueues: [1, 256],
  queueDepth: [1, 1 << 20],
  maxPassiveBytes: [1, 64 << 20],
  collectiveChunkBytes: [1024, 256 << 20],
  spinMicros: [0, 1_000_000],
};

/** Merge user settings over the defaults; anything unknown or out of range is a ConfigError. */
export function resolveConfig(partial: Partial<PgasConfig> = {}): PgasConfig {
  const out: PgasConfig = { ...DEFAULT_CONFIG };
  // Without initialQueues, every queue slot exists from the start (as before initialQueues existed).
  if (partial.initialQueues === undefined) out.initialQueues = partial.queues ?? DEFAULT_CONFIG.queues;
  for (const [key, value] of Object.entries(partial)) {
    if (!(key in INTEGER_LIMITS)) {
      throw new ConfigError(`unknown config key '${key}'; known keys: ${Object.keys(INTEGER_LIMITS).join(', ')}`);
    }
    if (value === undefined) continue;
    const [lo, hi] = INTEGER_LIMITS[key as keyof PgasConfig];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
      throw new ConfigError(`config '${key}' must be an integer in [${lo}, ${hi}], got ${String(value)}`);
    }
    out[key as keyof PgasConfig] = value;
  }
  if (out.initialQueues > out.queues) {
    throw new ConfigError(`config initialQueues (${out.initialQueues}) must not exceed queues (${out.queues}), the most queues that can exist`);
  }
  if (out.collectiveChunkBytes % 8 !== 0) throw new ConfigError('config collectiveChunkBytes must be a multiple of 8');
  return out;
}
