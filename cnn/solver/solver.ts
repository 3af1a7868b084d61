import { basename, dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { Rng } from '../../runtime/asgd/rng.js';
import { SnapshotError, SolverError } from '../errors.js';
import { DataLayer } from '../layers/data.js';
import { Net } from '../net.js';
import type { SamplerCursor } from '../data/sampler.js';
import { learningRate } from './lr-policy.js';
import { loadWeights, readSolverState, writeSolverState, writeWeights } from './snapshot.js';
import { readSolverFile, type NetSource, type SolverConfig } from './solver-config.js';
import { computeUpdate, HISTORY_COUNT } from './update-rules.js';

export interface SolverOptions {
  /** seeds the fillers, dropout and shuffling (default: random_seed, or 1 when it is −1) */
  seed?: number;
  /** this rank's part of the training data */
  part?: number;
  parts?: number;
  /** called with progress, test results and snapshots */
  onEvent?: (event: SolverEvent) => void;
}

export interface TestOutput {
  name: string;
  /** mean over test_iter batches (one value per element of the output blob) */
  values: number[];
  /** the blob's loss weight (0 for accuracy) */
  lossWeight: number;
}

export type SolverEvent =
  | { kind: 'train'; iter: number; loss: number; smoothedLoss: number; lr: number; imagesPerSecond: number; etaSeconds: number; seconds: number }
  | { kind: 'test'; iter: number; net: number; outputs: TestOutput[]; seconds: number }
  | { kind: 'snapshot'; iter: number; weights: string; state: string };

const INIT_STREAM = 0x696e6974; // "init"

/**
 * Caffe's Solver and SGDSolver family: the training loop of Solver::Step (test every test_interval,
 * forward/backward iter_size times, the learning rate of the current iteration, gradient clipping,
 * per-blob normalisation and weight decay, the update of the chosen type, snapshots), over a train net
 * whose parameters are one contiguous array, with test nets sharing that array.
 */
export class Solver {
  readonly config: SolverConfig;
  readonly net: Net;
  readonly testNets: Net[];
  readonly histories: Float32Array[];
  iter = 0;
  /** the iteration a restored solver state started this run at (0 for a fresh run) */
  resumedFrom = 0;
  /** seconds spent in test passes (so that throughput can leave them out) */
  testSeconds = 0;
  readonly seed: number;
  private readonly onEvent: (event: SolverEvent) => void;
  private readonly losses: number[] = [];
  private lossSum = 0;
  private readonly started = performance.now();
  private lastDisplay = { time: performance.now(), iter: 0 };
  private readonly imagesPerIter: number;

  static fromFile(file: string, options: SolverOptions = {}): Solver {
    return new Solver(readSolverFile(file), options);
  }

  constructor(config: SolverConfig, options: SolverOptions = {}) {
    this.config = config;
    this.seed = options.seed ?? (config.random_seed >= 0 ? config.random_seed : 1);
    this.onEvent = options.onEvent ?? (() => {});
    const common = { seed: this.seed, part: options.part ?? 0, parts: options.parts ?? 1 };
    const build = (src: NetSource, phase: 'TRAIN' | 'TEST', shareWith?: Net): Net =>
      new Net(src.param, { ...common, phase, baseDir: src.baseDir, stages: src.stages, level: src.level, shareWith });
    this.net = build(config.trainNet, 'TRAIN');
    this.net.initParams(new Rng(this.seed, INIT_STREAM));
    this.testNets = config.testNets.map((src) => build(src, 'TEST', this.net));
    this.histories = [];
    for (let i = 0; i < HISTORY_COUNT[config.type]; i++) this.histories.push(new Float32Array(this.net.paramCount));
    const first = this.net.tops[0]?.[0];
    this.imagesPerIter = (first?.shape[0] ?? 1) * config.iter_size;
  }

  /** the rate Caffe's GetLearningRate gives at the current iteration */
  get learningRate(): number {
    return learningRate(this.config, this.iter);
  }

  /** Train until `max_iter` (Caffe's Solver::Solve), resuming from a solver state file if given. */
  solve(resumeFrom?: string): void {
    if (resumeFrom) this.restore(resumeFrom);
    this.step(this.config.max_iter - this.iter);
    const c = this.config;
    if (c.snapshot_after_train && (c.snapshot === 0 || this.iter % c.snapshot !== 0)) this.snapshot();
    if (c.test_interval > 0 && this.iter % c.test_interval === 0) this.testAll();
  }

  /** `iters` iterations of Solver::Step. */
  step(iters: number): void {
    const c = this.config;
    const stop = this.iter + iters;
    while (this.iter < stop) {
      this.net.clearGrads();
      if (c.test_interval > 0 && this.iter % c.test_interval === 0 && (this.iter > 0 || c.test_initialization)) this.testAll();
      let loss = 0;
      for (let i = 0; i < c.iter_size; i++) loss += this.net.forwardBackward();
      loss /= c.iter_size;
      if (!Number.isFinite(loss)) throw new SolverError(`the training loss is ${loss} at iteration ${this.iter}: lower base_lr`);
      const smoothed = this.smooth(loss);
      if (c.display > 0 && this.iter % c.display === 0) this.display(loss, smoothed);
      this.applyUpdate();
      this.iter++;
      if (c.snapshot > 0 && this.iter % c.snapshot === 0) this.snapshot();
    }
  }

  private smooth(loss: number): number {
    const n = this.config.average_loss;
    if (this.losses.length < n) {
      this.losses.push(loss);
      this.lossSum += loss;
    } else {
      const k = this.iter % n;
      this.lossSum += loss - this.losses[k]!;
      this.losses[k] = loss;
    }
    return this.lossSum / this.losses.length;
  }

  private display(loss: number, smoothed: number): void {
    const now = performance.now();
    const done = this.iter - this.lastDisplay.iter;
    const secs = (now - this.lastDisplay.time) / 1000;
    const ips = done > 0 && secs > 0 ? (done * this.imagesPerIter) / secs : 0;
    const itPerSec = done > 0 && secs > 0 ? done / secs : 0;
    const eta = itPerSec > 0 ? (this.config.max_iter - this.iter) / itPerSec : NaN;
    this.lastDisplay = { time: now, iter: this.iter };
    this.onEvent({ kind: 'train', iter: this.iter, loss, smoothedLoss: smoothed, lr: this.learningRate, imagesPerSecond: ips, etaSeconds: eta, seconds: (now - this.started) / 1000 });
  }

  /** Caffe's ApplyUpdate: rate, clipping, normalisation, regularisation, update, w ← w − update. */
  applyUpdate(): void {
    const c = this.config;
    const rate = this.learningRate;
    const g = this.net.grads;
    const w = this.net.params;
    const entries = this.net.learnableParams();
    if (c.clip_gradients >= 0) {
      let sq = 0;
      for (const e of entries) for (let i = e.offset, end = e.offset + e.count; i < end; i++) sq += g[i]! * g[i]!;
      const norm = Math.sqrt(sq);
      if (norm > c.clip_gradients) {
        const s = c.clip_gradients / norm;
        for (const e of entries) for (let i = e.offset, end = e.offset + e.count; i < end; i++) g[i] = g[i]! * s;
      }
    }
    const h = this.histories[0]!;
    const h2 = this.histories[1] ?? null;
    for (const e of entries) {
      const from = e.offset;
      const to = e.offset + e.count;
      if (c.iter_size > 1) for (let i = from; i < to; i++) g[i] = g[i]! / c.iter_size;
      const decay = c.weight_decay * e.decayMult;
      if (c.type === 'SGD' && c.regularization_type === 'L2') {
        // the common case in one pass instead of four (decay, momentum, update, w −= update): the same
        // arithmetic, and g still ends up holding the update as in the general path
        sgdL2Step(w, g, h, from, to, decay, rate * e.lrMult, c.momentum);
        continue;
      }
      if (decay !== 0) {
        if (c.regularization_type === 'L2') for (let i = from; i < to; i++) g[i] = g[i]! + decay * w[i]!;
        else for (let i = from; i < to; i++) g[i] = g[i]! + decay * Math.sign(w[i]!);
      }
      computeUpdate(c.type, c, g, h, h2, from, to, rate * e.lrMult, this.iter);
      for (let i = from; i < to; i++) w[i] = w[i]! - g[i]!;
    }
  }

  /** Run every test net for its test_iter batches. */
  testAll(): TestOutput[][] {
    return this.testNets.map((_, i) => this.test(i));
  }

  test(index: number): TestOutput[] {
    const started = performance.now();
    const net = this.testNets[index]!;
    const iters = this.config.test_iter[index]!;
    const sums = net.outputs.map((b) => new Float64Array(b.count));
    for (let it = 0; it < iters; it++) {
      net.forward();
      net.outputs.forEach((b, k) => {
        const s = sums[k]!;
        for (let i = 0; i < b.count; i++) s[i] += b.data[i]!;
      });
    }
    const outputs = net.outputs.map((b, k) => {
      const li = net.tops.findIndex((tops) => tops.includes(b));
      const ti = net.tops[li]!.indexOf(b);
      return { name: b.name, values: Array.from(sums[k]!, (s) => s / iters), lossWeight: net.layers[li]!.lossWeights[ti] ?? 0 };
    });
    const seconds = (performance.now() - started) / 1000;
    this.testSeconds += seconds;
    // the time of a test pass is not training time: keep it out of the next images/s figure
    this.lastDisplay.time += seconds * 1000;
    this.onEvent({ kind: 'test', iter: this.iter, net: index, outputs, seconds });
    return outputs;
  }

  /** the snapshot file names of the current iteration (Caffe's names, this implementation's formats) */
  snapshotFiles(): { weights: string; state: string } {
    const base = `${this.config.snapshot_prefix}_iter_${this.iter}`;
    return { weights: `${base}.cnnmodel`, state: `${base}.cnnstate` };
  }

  /** Write the weights and the solver state (each atomically: never a partial file under its name). */
  snapshot(): { weights: string; state: string } {
    const files = this.snapshotFiles();
    try {
      mkdirSync(dirname(files.weights), { recursive: true });
    } catch (error) {
      throw new SnapshotError(files.weights, `cannot create the snapshot directory: ${(error as Error).message}`);
    }
    writeWeights(files.weights, this.net);
    writeSolverState(files.state, {
      kind: 'solverstate',
      type: this.config.type,
      iter: this.iter,
      paramCount: this.net.paramCount,
      histories: this.histories.length,
      weights: basename(files.weights),
      extra: { samplers: this.samplers().map((s) => s.save()), rng: this.net.rng.saveState() },
    }, this.histories);
    this.onEvent({ kind: 'snapshot', iter: this.iter, ...files });
    return files;
  }

  /** Continue from a solver state: its iteration, histories, data positions and the weights beside it. */
  restore(stateFile: string): void {
    const { header, histories } = readSolverState(stateFile);
    if (header.type !== this.config.type) throw new SnapshotError(stateFile, `was written by a ${header.type} solver; this one is ${this.config.type}`);
    if (header.paramCount !== this.net.paramCount || histories.length !== this.histories.length) {
      throw new SnapshotError(stateFile, `holds ${header.histories} × ${header.paramCount} history values; this net needs ${this.histories.length} × ${this.net.paramCount}`);
    }
    loadWeights(join(dirname(stateFile), header.weights), this.net);
    histories.forEach((h, i) => this.histories[i]!.set(h));
    this.iter = header.iter;
    this.resumedFrom = header.iter;
    const extra = header.extra as { samplers?: SamplerCursor[]; rng?: number[] };
    const samplers = this.samplers();
    extra.samplers?.forEach((c, i) => samplers[i]?.restore(c));
    if (extra.rng) this.net.rng.restoreState(extra.rng);
    this.lastDisplay = { time: performance.now(), iter: this.iter };
  }

  /** Copy weights from a file by layer name (Caffe's --weights). */
  loadWeights(file: string): string[] {
    return loadWeights(file, this.net);
  }

  private samplers() {
    return this.net.layers.filter((l): l is DataLayer => l instanceof DataLayer).map((l) => l.sampler);
  }
}

/** g ← g + decay·w; v ← μ·h + r·g; h ← v; g ← v; w ← w − v, on [from, to). */
function sgdL2Step(w: Float32Array, g: Float32Array, h: Float32Array, from: number, to: number, decay: number, r: number, mu: number): void {
  for (let i = from; i < to; i++) {
    const gi = Math.fround(g[i]! + decay * w[i]!);
    const v = Math.fround(mu * h[i]! + r * gi);
    h[i] = v;
    g[i] = v;
    w[i] = w[i]! - v;
  }
}
