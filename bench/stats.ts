/** Small helpers shared by the pgas benchmark's rank program, echo baseline and orchestrator. */

export interface Summary {
  /** the median sample */
  median: number;
  mean: number;
  min: number;
  max: number;
  count: number;
}

/** Median, mean, min and max of `n` samples (any unit). */
export function summarize(samples: ArrayLike<number>, n = samples.length): Summary {
  if (n <= 0) throw new Error('summarize: no samples');
  const sorted = Float64Array.from({ length: n }, (_, i) => samples[i]!).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const mid = n >> 1;
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, mean: sum / n, min: sorted[0]!, max: sorted[n - 1]!, count: n };
}

/**
 * One figure measured by a rank or a baseline, before the orchestrator adds the transport and the
 * ratios. Latencies are in microseconds, bandwidths in GB/s (10^9 bytes per second).
 */
export interface RawRecord {
  op: string;
  /** payload bytes of one operation (0 for a barrier) */
  bytes: number;
  metric: 'latency_us' | 'rtt_us' | 'one_way_us' | 'bandwidth_GBps';
  /** the figure: from the median sample (latency: median time; bandwidth: bytes / median time) */
  value: number;
  /** the same figure from the mean time */
  mean: number;
  /** the best sample (lowest latency, highest bandwidth) */
  best: number;
  /** timed samples */
  iterations: number;
  /** operations in flight per completion wait (bandwidth) */
  inflight?: number;
  /** how it was measured: 'tinybench' or 'loop' */
  method: 'tinybench' | 'loop';
}

/** Build a latency record (µs) from samples in milliseconds. */
export function latencyRecord(op: string, bytes: number, metric: RawRecord['metric'], samplesMs: ArrayLike<number>, n: number, method: RawRecord['method'], scale = 1): RawRecord {
  const s = summarize(samplesMs, n);
  return { op, bytes, metric, value: s.median * 1000 * scale, mean: s.mean * 1000 * scale, best: s.min * 1000 * scale, iterations: n, method };
}

/** Build a bandwidth record (GB/s) from per-iteration times in milliseconds, each moving `bytesPerSample`. */
export function bandwidthRecord(op: string, bytes: number, bytesPerSample: number, median: number, mean: number, min: number, n: number, inflight: number, method: RawRecord['method']): RawRecord {
  const gbps = (ms: number): number => bytesPerSample / (ms * 1e6);
  return { op, bytes, metric: 'bandwidth_GBps', value: gbps(median), mean: gbps(mean), best: gbps(min), iterations: n, inflight, method };
}
