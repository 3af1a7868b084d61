import type { Group, PgasContext } from '../../../pgas/index.js';
import type { ResolvedSolverConfig } from '../config.js';
import type { DataSource, Model, Problem } from '../model.js';
import { createOptimizer } from '../optim/factory.js';
import type { Optimizer } from '../optim/types.js';
import { Rng, Stream } from '../rng.js';
import { checkpointPath, writeCheckpoint, type Checkpoint } from '../run/checkpoint.js';
import { StopControl, type StopReason } from '../run/control.js';
import { emptyCounters, gatherReports, MetricsWriter, summarize, writeSummary, type RankCounters } from '../run/metrics.js';
import { Schedule } from '../schedule.js';
import type { RunHooks, RunResult } from './types.js';

/**
 * One rank's training loop state, shared by the solvers: the model on its partition, the state and
 * gradient vectors, the optimizer and schedule, counters, metrics, stop conditions and checkpoints.
 */
export class Trainer<B> {
  readonly model: Model<B>;
  readonly data: DataSource<B>;
  readonly evalData: B;
  readonly grad: Float32Array;
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly counters: RankCounters = emptyCounters();
  readonly metrics: MetricsWriter;
  readonly stop: StopControl;
  readonly batchSize: number;
  readonly baseLr: number;
  /** steps done (the schedule's iteration) */
  step = 0;
  stopReason: StopReason | null = null;
  lastEvalLoss = NaN;
  lastEvalScore: number | undefined = undefined;
  resumedFrom: number | null = null;
  private lastCheckpoint = performance.now();
  hooks: RunHooks = {};

  constructor(
    readonly ctx: PgasContext,
    readonly config: ResolvedSolverConfig,
    problem: Problem<B>,
    /** the state: normally the rank's state segment */
    readonly params: Float32Array,
    resumed: boolean,
  ) {
    this.model = problem.model;
    this.data = problem.data;
    this.evalData = problem.evalData ?? problem.data.all();
    this.grad = new Float32Array(this.model.paramCount);
    this.optimizer = createOptimizer(config.optimizer, this.model.paramCount);
    this.schedule = new Schedule(config.schedule);
    this.metrics = new MetricsWriter(config.metrics.dir, ctx.rank, resumed);
    this.stop = new StopControl(config.stop, this.data.size);
    this.batchSize = config.batchSize === 'full' ? this.data.size : config.batchSize;
    this.baseLr = config.optimizer.lr;
  }

  /** every rank starts from the same state: the model's init with the job seed */
  initParams(): void {
    this.model.init(this.params, new Rng(this.config.seed, Stream.Init));
  }

  lr(): number {
    return this.schedule.rate(this.baseLr, this.step);
  }

  nextBatch(): B {
    const batch = this.config.batchSize === 'full' ? this.data.all() : this.data.next(this.batchSize);
    this.counters.samples += this.batchSize;
    return batch;
  }

  /** gradient of the next batch at `at` (default: the state) into `this.grad`; returns the batch loss */
  gradientStep(at: Float32Array = this.params): number {
    const loss = this.model.gradient(at, this.nextBatch(), this.grad);
    this.metrics.addLoss(loss);
    return loss;
  }

  evaluate(at: Float32Array = this.params): void {
    this.lastEvalLoss = this.model.loss(at, this.evalData);
    this.lastEvalScore = this.model.score ? this.model.score(at, this.evalData) : undefined;
  }

  /**
   * Book-keeping after a step: count it, write a metrics line when due, evaluate and check targets
   * when due, check the budgets. Returns true when the run should stop (reason in stopReason).
   */
  afterStep(extra?: () => Record<string, unknown>): boolean {
    this.step++;
    this.counters.steps = this.step;
    this.hooks.onStep?.(this.step, this.params, this.counters);
    let evaluated = false;
    if (this.stop.evalDue(this.step)) {
      this.evaluate();
      evaluated = true;
      this.stopReason = this.stop.target(this.lastEvalLoss, this.lastEvalScore);
    }
    if (this.metrics.enabled && this.step % this.config.metrics.every === 0) this.writeLine(evaluated, extra);
    if (this.stopReason === null) this.stopReason = this.stop.budget(this.step, this.counters.samples);
    return this.stopReason !== null;
  }

  writeLine(evaluated: boolean, extra?: () => Record<string, unknown>): void {
    this.metrics.write({
      step: this.step,
      time: this.stop.elapsed(),
      epoch: this.counters.samples / this.data.size,
      loss: this.metrics.takeLoss(),
      lr: this.lr(),
      ...(evaluated ? { evalLoss: this.lastEvalLoss, score: this.lastEvalScore ?? null } : {}),
      ...this.counters,
      ...(extra ? extra() : {}),
    });
  }

  // ---- checkpoints ------------------------------------------------------------------------------

  checkpointFile(): string | null {
    return this.config.checkpoint ? checkpointPath(this.config.checkpoint.dir, this.ctx.rank) : null;
  }

  /** due by step count (deterministic: every rank of a synchronous solver agrees) */
  checkpointDueBySteps(): boolean {
    const c = this.config.checkpoint;
    return c !== undefined && this.step % c.everySteps === 0;
  }

  /** due by wall time (this rank's own clock; synchronous solvers vote on it) */
  checkpointDueByTime(): boolean {
    const c = this.config.checkpoint;
    return c !== undefined && c.everySeconds !== Infinity && performance.now() - this.lastCheckpoint >= c.everySeconds * 1000;
  }

  saveCheckpoint(rngs: Record<string, Rng> = {}, extra: Record<string, unknown> = {}, state: Float32Array = this.params): void {
    const file = this.checkpointFile();
    if (file === null) return;
    const arrays: Record<string, Float32Array> = { params: state };
    for (const [name, buffer] of Object.entries(this.optimizer.buffers)) arrays[`opt.${name}`] = buffer;
    writeCheckpoint(file, {
      solver: this.config.solver,
      rank: this.ctx.rank,
      size: this.ctx.size,
      paramCount: this.model.paramCount,
      optimizer: this.optimizer.name,
      optimizerIteration: this.optimizer.iteration,
      step: this.step,
      samples: this.counters.samples,
      data: this.data.saveCursor(),
      rngs: Object.fromEntries(Object.entries(rngs).map(([k, r]) => [k, r.saveState()])),
      extra,
    }, arrays);
    this.lastCheckpoint = performance.now();
  }

  restore(cp: Checkpoint, rngs: Record<string, Rng> = {}): void {
    this.params.set(cp.arrays.params!);
    for (const [name, buffer] of Object.entries(this.optimizer.buffers)) buffer.set(cp.arrays[`opt.${name}`]!);
    this.optimizer.iteration = cp.meta.optimizerIteration;
    this.step = cp.meta.step;
    this.resumedFrom = cp.meta.step;
    this.counters.steps = cp.meta.step;
    this.counters.samples = cp.meta.samples;
    this.data.restoreCursor(cp.meta.data);
    for (const [name, rng] of Object.entries(rngs)) {
      const words = cp.meta.rngs[name];
      if (words) rng.restoreState(words);
    }
  }

  // ---- the end ------------------------------------------------------------------------------------

  /** evaluate the final state, merge every rank's report (collective), write the summary, close metrics */
  async finish(stateForResult: Float32Array = this.params, histogram?: number[], checkpointAtEnd = true, survivors?: Group): Promise<RunResult> {
    if (checkpointAtEnd && this.config.checkpoint?.atEnd) this.saveCheckpoint();
    this.evaluate(stateForResult);
    const seconds = this.stop.elapsed();
    if (this.metrics.enabled) this.writeLine(true, () => ({ final: true, solver: this.config.solver, stopReason: this.stopReason ?? 'none', seconds }));
    this.metrics.close();
    const reports = await gatherReports(this.ctx, {
      rank: this.ctx.rank,
      steps: this.step,
      samples: this.counters.samples,
      seconds,
      stopReason: this.stopReason ?? 'none',
      finalLoss: this.lastEvalLoss,
      finalScore: this.lastEvalScore ?? null,
      counters: this.counters,
    }, survivors);
    const summary = summarize(this.config.solver, reports, histogram);
    if (survivors && survivors.size < this.ctx.size) {
      summary.survivors = [...survivors.ranks];
      summary.lostRanks = Array.from({ length: this.ctx.size }, (_, r) => r).filter((r) => !survivors.ranks.includes(r));
    }
    // the lowest surviving rank writes it (rank 0 unless rank 0 was lost)
    const writer = survivors ? survivors.ranks[0] : 0;
    if (this.ctx.rank === writer && this.config.metrics.dir !== undefined) writeSummary(this.config.metrics.dir, summary);
    return {
      rank: this.ctx.rank,
      size: this.ctx.size,
      solver: this.config.solver,
      steps: this.step,
      samples: this.counters.samples,
      epochs: this.counters.samples / this.data.size,
      seconds,
      stopReason: this.stopReason ?? 'none',
      resumedFrom: this.resumedFrom,
      finalLoss: this.lastEvalLoss,
      finalScore: this.lastEvalScore ?? null,
      params: stateForResult.slice(),
      counters: { ...this.counters },
      summary,
    };
  }
}
