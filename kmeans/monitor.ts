/**
 * Watching a run from inside the model: every solver calls the model's gradient with the rank's
 * current state once a step, so a thin wrapper there sees samples, steps and the state itself without
 * any hook in the solvers. At most every `evalEvery` seconds it measures the error of the state (the
 * matched centre error against the truth for synthetic data, else the inertia per point on a small
 * held-out sample) into a bounded trace, and rank 0 prints a progress line every `printEvery` seconds.
 */
import type { Model } from '../runtime/asgd/index.js';
import { metricsFeedEnabled, publishMetrics } from '../runtime/metrics-feed/index.js';
import type { KmeansBatch } from './batches.js';
import type { StopRule } from './cli-args.js';
import { centreError } from './hungarian.js';
import { inertiaPerPoint } from './kernels.js';
import type { KmeansModel } from './model.js';
import { formatCount } from './size.js';

/** (time, samples, error) points, thinned by half whenever full: bounded memory for any run length. */
export class ErrorTrace {
  readonly t: number[] = [];
  readonly samples: number[] = [];
  readonly error: number[] = [];
  constructor(readonly capacity = 400) {}

  add(t: number, samples: number, error: number): void {
    if (this.t.length >= this.capacity) {
      for (const a of [this.t, this.samples, this.error]) {
        let w = 0;
        for (let r = 0; r < a.length; r += 2) a[w++] = a[r]!;
        a.length = w;
      }
    }
    this.t.push(t);
    this.samples.push(samples);
    this.error.push(error);
  }

  get length(): number {
    return this.t.length;
  }

  /** Packed as [count, t0, s0, e0, t1, ...] into out at offset (1 + 3·capacity floats). */
  pack(out: Float64Array, offset: number): void {
    out[offset] = this.t.length;
    for (let i = 0; i < this.t.length; i++) {
      out[offset + 1 + 3 * i] = this.t[i]!;
      out[offset + 2 + 3 * i] = this.samples[i]!;
      out[offset + 3 + 3 * i] = this.error[i]!;
    }
  }

  static unpack(data: Float64Array, offset: number, capacity: number): ErrorTrace {
    const trace = new ErrorTrace(capacity);
    const n = data[offset]!;
    for (let i = 0; i < n; i++) trace.add(data[offset + 1 + 3 * i]!, data[offset + 2 + 3 * i]!, data[offset + 3 + 3 * i]!);
    return trace;
  }
}

export interface MonitorOptions {
  rank: number;
  /** ranks in the job (the progress line extrapolates rank 0's rate to all of them) */
  ranks: number;
  k: number;
  dim: number;
  /** true centres (synthetic data): the error is the matched centre error */
  truth?: Float32Array;
  /** else: the error is the inertia per point on these points */
  probe?: Float32Array;
  stop: StopRule;
  /** points in this rank's partition (for epochs and the ETA) */
  partitionSize: number;
  evalEvery: number;
  /** 0: no progress lines */
  printEvery: number;
  /** rewrite one line in place ('\r') instead of printing new ones */
  live: boolean;
  write: (text: string) => void;
}

export class RunMonitor {
  readonly trace = new ErrorTrace();
  samples = 0;
  steps = 0;
  /** the last error measured (NaN before the first) */
  lastError = NaN;
  private readonly started = performance.now();
  private nextEval = 0;
  private nextPrint: number;
  private printedLive = false;

  constructor(private readonly options: MonitorOptions) {
    this.nextPrint = options.printEvery > 0 ? options.printEvery : Infinity;
  }

  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** The error of centres `params`. */
  error(params: Float32Array): number {
    const { truth, probe, k, dim } = this.options;
    if (truth !== undefined) return centreError(truth, truth.length / dim, params, k, dim).mean;
    if (probe !== undefined) return inertiaPerPoint(probe, probe.length / dim, dim, params, k);
    return NaN;
  }

  /** A step took `n` samples with the state `params` (before the step). */
  step(params: Float32Array, n: number): void {
    this.samples += n;
    this.steps++;
    const t = this.elapsed();
    if (t >= this.nextEval) {
      this.record(params, t);
      // At least 20 times what the measurement took: with many centres the matching (O(k³)) is not
      // free, and watching must not slow the run by more than a few percent.
      const cost = this.elapsed() - t;
      this.nextEval = t + Math.max(this.options.evalEvery, 20 * cost);
    }
    if (metricsFeedEnabled()) this.publish(t);
    if (t >= this.nextPrint) {
      this.print(t);
      this.nextPrint = t + this.options.printEvery;
    }
  }

  /** Measure and record now (also used for the final state). */
  record(params: Float32Array, t = this.elapsed()): number {
    this.lastError = this.error(params);
    this.trace.add(t, this.samples, this.lastError);
    this.publish(t);
    return this.lastError;
  }

  /** Report to the pgas-run dashboard (a no-op without one); the core adds loss and exchange counts. */
  private publish(t: number): void {
    const progress = this.fractionDone(t);
    publishMetrics(this.options.rank, {
      samples: this.samples,
      steps: this.steps,
      error: Number.isFinite(this.lastError) ? this.lastError : null,
      ...(progress === undefined ? {} : { progress }),
    });
  }

  /** Fraction of the stop budget used, from the first budget that applies (undefined for a target-only run). */
  fractionDone(t: number): number | undefined {
    const s = this.options.stop;
    const parts: number[] = [];
    if (s.steps !== undefined) parts.push(this.steps / s.steps);
    if (s.samples !== undefined) parts.push(this.samples / s.samples);
    if (s.epochs !== undefined) parts.push(this.samples / (s.epochs * this.options.partitionSize));
    if (s.seconds !== undefined) parts.push(t / s.seconds);
    return parts.length ? Math.min(1, Math.max(...parts)) : undefined;
  }

  private print(t: number): void {
    if (this.options.rank !== 0) return;
    const rate = this.samples / t;
    const fraction = this.fractionDone(t);
    const eta = fraction !== undefined && fraction > 0 ? `${Math.max(0, (t / fraction) - t).toFixed(0)} s` : '—';
    const what = this.options.truth !== undefined ? 'centre error' : 'inertia/pt';
    const all = this.options.ranks > 1 ? ` (~${formatCount(rate * this.options.ranks)}/s all ranks)` : '';
    const line = `[kmeans] ${t.toFixed(1)} s  samples ${formatCount(this.samples)} on rank 0, ${formatCount(rate)}/s${all}  ` +
      `${what} ${Number.isFinite(this.lastError) ? this.lastError.toPrecision(3) : '—'}  ETA ${eta}`;
    if (this.options.live) {
      this.options.write(`\r${line.padEnd(100)}`);
      this.printedLive = true;
    } else {
      this.options.write(`${line}\n`);
    }
  }

  /** End a live line so that what follows starts on a new line. */
  finish(): void {
    if (this.printedLive) this.options.write('\n');
    this.printedLive = false;
  }
}

/** The K-Means model with a monitor watching every gradient call. */
export class MonitoredModel implements Model<KmeansBatch> {
  readonly paramCount: number;
  constructor(readonly inner: KmeansModel, readonly monitor: RunMonitor) {
    this.paramCount = inner.paramCount;
  }

  init(params: Float32Array, rng: Parameters<KmeansModel['init']>[1]): void {
    this.inner.init(params, rng);
  }

  gradient(params: Float32Array, batch: KmeansBatch, gradOut: Float32Array): number {
    this.monitor.step(params, batch.n);
    return this.inner.gradient(params, batch, gradOut);
  }

  loss(params: Float32Array, data: KmeansBatch): number {
    return this.inner.loss(params, data);
  }

  score(params: Float32Array, data: KmeansBatch): number {
    return this.inner.score(params, data);
  }
}
