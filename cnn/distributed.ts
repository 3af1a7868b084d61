/**
 * Distributed training through the numeric core (runtime/asgd): the net's one parameter array is the
 * model's state, so ASGD (or any other core solver) moves a whole LeNet with one put. Each rank trains
 * on its own contiguous part of the training file, shuffled per epoch.
 *
 * Caffe's per-blob rules are folded into the gradient that the core's optimizer sees:
 * g ← lr_mult · (g + weight_decay · decay_mult · w) (L2; sign(w) for L1). For SGD, momentum and
 * Nesterov this is exactly Caffe's update; for the adaptive optimizers lr_mult mostly cancels (they
 * normalise the gradient), which the report of a run states.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DataCursor, DataSource, Model, Problem, ProblemContext, SolverConfig as CoreConfig } from '../runtime/asgd/index.js';
import type { Rng } from '../runtime/asgd/rng.js';
import type { CliIo } from './cli.js';
import type { CliOptions } from './cli-args.js';
import { partitionRange } from './data/dataset.js';
import { EpochSampler } from './data/sampler.js';
import { SolverError, UsageError } from './errors.js';
import { DataLayer } from './layers/data.js';
import { kernelsReport, selectKernels } from './math/blas.js';
import { Net } from './net.js';
import { formatDuration } from './progress.js';
import { writeWeights } from './solver/snapshot.js';
import { readSolverFile, type SolverConfig } from './solver/solver-config.js';

/** Sample indices into the training file or the test file. */
export interface CnnBatch {
  set: 'train' | 'test';
  indices: Int32Array;
  count: number;
}

export interface CnnProblemArgs {
  /** absolute path of the solver prototxt */
  solver: string;
  kernels?: 'auto' | 'typescript' | 'native';
}

function dataLayer(net: Net): DataLayer {
  const d = net.layers.find((l): l is DataLayer => l instanceof DataLayer);
  if (!d) throw new SolverError(`net '${net.name}' (${net.phase}) has no Data layer: distributed training reads its data through one`);
  return d;
}

export class CnnModel implements Model<CnnBatch> {
  readonly paramCount: number;
  readonly train: Net;
  readonly test: Net | null;
  lastLoss = NaN;
  private readonly scratch: Float32Array;

  constructor(readonly config: SolverConfig, part: number, parts: number, seed: number) {
    const t = config.trainNet;
    this.train = new Net(t.param, { phase: 'TRAIN', baseDir: t.baseDir, stages: t.stages, level: t.level, part, parts, seed });
    const s = config.testNets[0];
    this.test = s ? new Net(s.param, { phase: 'TEST', baseDir: s.baseDir, stages: s.stages, level: s.level, seed, shareWith: this.train }) : null;
    this.paramCount = this.train.paramCount;
    this.scratch = new Float32Array(this.paramCount);
    dataLayer(this.train);
  }

  init(params: Float32Array, rng: Rng): void {
    this.train.bind(params, this.scratch);
    this.train.initParams(rng);
  }

  gradient(params: Float32Array, batch: CnnBatch, gradOut: Float32Array): number {
    const net = this.train;
    net.bind(params, gradOut);
    gradOut.fill(0);
    dataLayer(net).feed(batch.indices, batch.count);
    const loss = net.forwardBackward();
    const c = this.config;
    for (const e of net.paramEntries) {
      const from = e.offset;
      const to = e.offset + e.count;
      if (!e.learnable) {
        gradOut.fill(0, from, to);
        continue;
      }
      const decay = c.weight_decay * e.decayMult;
      const m = e.lrMult;
      if (c.regularization_type === 'L2') for (let i = from; i < to; i++) gradOut[i] = m * (gradOut[i]! + decay * params[i]!);
      else for (let i = from; i < to; i++) gradOut[i] = m * (gradOut[i]! + decay * Math.sign(params[i]!));
    }
    this.lastLoss = loss;
    return loss;
  }

  /** mean loss and accuracy of `params` over a set, in batches of the net's own batch size */
  evaluate(params: Float32Array, data: CnnBatch): { loss: number; accuracy: number } {
    const net = data.set === 'test' && this.test ? this.test : this.train;
    net.bind(params, this.scratch);
    const layer = dataLayer(net);
    const chunk = layer.batch;
    const lossBlob = net.outputs.find((b) => b.name === 'loss') ?? net.outputs[net.outputs.length - 1]!;
    const accBlob = net.outputs.find((b) => b.name.includes('accuracy'));
    let loss = 0;
    let acc = 0;
    for (let i = 0; i < data.count; i += chunk) {
      const n = Math.min(chunk, data.count - i);
      layer.feed(data.indices.subarray(i, i + n), n);
      net.forward();
      loss += lossBlob.data[0]! * n;
      acc += (accBlob?.data[0] ?? NaN) * n;
    }
    return { loss: loss / data.count, accuracy: acc / data.count };
  }

  loss(params: Float32Array, data: CnnBatch): number {
    return this.evaluate(params, data).loss;
  }

  score(params: Float32Array, data: CnnBatch): number {
    return this.evaluate(params, data).accuracy;
  }

  /** the whole test file as one evaluation set (or the training partition when there is no test net) */
  testSet(): CnnBatch {
    const net = this.test ?? this.train;
    const count = dataLayer(net).dataset.count;
    return { set: this.test ? 'test' : 'train', indices: Int32Array.from({ length: count }, (_, i) => i), count };
  }
}

/** This rank's part of the training file, in mini-batches, reshuffled every epoch. */
export class CnnDataSource implements DataSource<CnnBatch> {
  readonly size: number;
  samples = 0;
  private readonly sampler: EpochSampler;
  private readonly batch: CnnBatch = { set: 'train', indices: new Int32Array(0), count: 0 };
  private readonly whole: CnnBatch;

  constructor(count: number, part: number, parts: number, seed: number) {
    const [start, end] = partitionRange(count, part, parts);
    this.size = end - start;
    this.sampler = new EpochSampler(start, end, true, seed, part);
    this.whole = { set: 'train', indices: Int32Array.from({ length: this.size }, (_, i) => start + i), count: this.size };
  }

  next(batchSize: number): CnnBatch {
    if (this.batch.indices.length < batchSize) this.batch.indices = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) this.batch.indices[i] = this.sampler.next();
    this.batch.count = batchSize;
    this.samples += batchSize;
    return this.batch;
  }

  all(): CnnBatch {
    return this.whole;
  }

  saveCursor(): DataCursor {
    return { samples: this.samples, ...this.sampler.save() };
  }

  restoreCursor(cursor: DataCursor): void {
    this.samples = cursor.samples;
    this.sampler.restore({ epoch: Number(cursor.epoch), position: Number(cursor.position) });
  }
}

/** The problem factory the numeric core calls on every rank (and every hogwild thread). */
export function cnnProblem(context: ProblemContext): Problem<CnnBatch> {
  const args = context.args as CnnProblemArgs;
  selectKernels(args.kernels ?? 'auto');
  const config = readSolverFile(args.solver);
  const model = new CnnModel(config, context.part, context.parts, context.seed);
  const data = new CnnDataSource(dataLayer(model.train).dataset.count, context.part, context.parts, context.seed);
  return { model, data, evalData: model.testSet() };
}

const POLICY_KEYS: Record<string, string[]> = {
  fixed: [], step: ['gamma', 'stepsize'], exp: ['gamma'], inv: ['gamma', 'power'],
  multistep: ['gamma', 'stepvalues'], poly: ['power', 'maxIter'], sigmoid: ['gamma', 'stepsize'],
};

/** The numeric core's configuration for a Caffe solver definition. */
export function coreConfig(c: SolverConfig, o: Pick<CliOptions, 'parallel' | 'exchangeEvery' | 'seed' | 'seconds'>, batchSize: number): CoreConfig {
  let optimizer: CoreConfig['optimizer'];
  switch (c.type) {
    case 'SGD': optimizer = c.momentum > 0 ? { name: 'momentum', lr: c.base_lr, momentum: c.momentum } : { name: 'sgd', lr: c.base_lr }; break;
    case 'Nesterov': optimizer = { name: 'nesterov', lr: c.base_lr, momentum: c.momentum }; break;
    case 'AdaGrad': optimizer = { name: 'adagrad', lr: c.base_lr, delta: c.delta }; break;
    case 'RMSProp': optimizer = { name: 'rmsprop', lr: c.base_lr, rmsDecay: c.rms_decay, delta: c.delta }; break;
    case 'Adam': optimizer = { name: 'adam', lr: c.base_lr, momentum: c.momentum, momentum2: c.momentum2, delta: c.delta }; break;
    case 'AdaDelta': throw new UsageError('the numeric core has no AdaDelta optimizer: train AdaDelta without pgas-run, or choose another type');
  }
  const all: Record<string, unknown> = { gamma: c.gamma, power: c.power, stepsize: c.stepsize, stepvalues: c.stepvalue, maxIter: c.max_iter };
  const schedule: Record<string, unknown> = { policy: c.lr_policy };
  for (const k of POLICY_KEYS[c.lr_policy]!) schedule[k] = all[k];
  const config: CoreConfig = {
    solver: o.parallel as CoreConfig['solver'],
    optimizer,
    schedule: schedule as unknown as CoreConfig['schedule'],
    batchSize,
    seed: o.seed ?? (c.random_seed >= 0 ? c.random_seed : 1),
    stop: o.seconds !== undefined ? { steps: c.max_iter, seconds: o.seconds } : { steps: c.max_iter },
  };
  if (o.parallel === 'asgd' && o.exchangeEvery !== undefined) config.asgd = { exchangeEvery: o.exchangeEvery };
  return config;
}

/** `cnn train` under pgas-run: every rank calls this. */
export async function trainDistributed(o: CliOptions, io: CliIo): Promise<number> {
  if (o.weights || o.snapshot) throw new UsageError('--weights and --snapshot are not supported under pgas-run yet (the core has its own checkpoints)');
  const { init } = await import('../pgas/index.js');
  const { createSolver } = await import('../runtime/asgd/index.js');
  const solverFile = resolve(o.solver!);
  const config = readSolverFile(solverFile);
  if (o.maxIter !== undefined) config.max_iter = o.maxIter;
  const probe = new CnnModel(config, 0, 1, 1);
  const batch = dataLayer(probe.train).batch;
  const core = createSolver(coreConfig(config, o, batch));
  const ctx = await init();
  const say = (line: string): void => {
    if (ctx.rank === 0 && !o.quiet) io.out(line);
  };
  selectKernels(o.kernels);
  say(`cnn train: ${ctx.size} ranks, numeric-core solver ${o.parallel}, optimizer ${core.config.optimizer.name}, ${config.max_iter} steps of ${batch} per rank; ${kernelsReport()}`);
  // the rank's own model for progress lines; the core builds its problem from the reference below
  let last = { time: performance.now(), step: 0 };
  const started = performance.now();
  const monitor = ctx.rank === 0 ? new CnnModel(config, 0, ctx.size, core.config.seed) : null;
  const testSet = monitor?.testSet();
  try {
    const result = await core.run(ctx, { module: import.meta.url, export: 'cnnProblem', args: { solver: solverFile, kernels: o.kernels } satisfies CnnProblemArgs }, {
      onStep: (step, params) => {
        if (!monitor) return;
        if (config.display > 0 && step % config.display === 0) {
          const now = performance.now();
          const ips = ((step - last.step) * batch) / ((now - last.time) / 1000);
          const eta = (config.max_iter - step) * ((now - last.time) / 1000 / Math.max(1, step - last.step));
          last = { time: now, step };
          say(`rank 0 step ${step}, ${ips.toFixed(0)} images/s on this rank, ETA ${formatDuration(eta)}`);
        }
        if (config.test_interval > 0 && step % config.test_interval === 0 && testSet) {
          const r = monitor.evaluate(params, testSet);
          say(`rank 0 step ${step}, test accuracy = ${r.accuracy.toFixed(4)}, test loss = ${r.loss.toFixed(4)}`);
        }
      },
    });
    const seconds = (performance.now() - started) / 1000;
    // always printed (also with --quiet): benchmarks read this line
    if (ctx.rank === 0) {
      io.out(`done: ${result.steps} steps in ${formatDuration(seconds)} (${result.seconds.toFixed(2)} s of training, ${((result.samples * ctx.size) / result.seconds).toFixed(0)} images/s on ${ctx.size} ranks); rank 0 final test loss ${result.finalLoss.toFixed(4)}, accuracy ${result.finalScore?.toFixed(4) ?? 'n/a'}`);
    }
    if (ctx.rank === 0 && config.snapshot_after_train) {
      const file = `${config.snapshot_prefix}_rank0_iter_${result.steps}.cnnmodel`;
      probe.train.params.set(result.params);
      mkdirSync(dirname(file), { recursive: true });
      writeWeights(file, probe.train);
      say(`weights of rank 0: ${file} (cnn test --solver ${o.solver} --weights ${file})`);
    }
  } finally {
    await ctx.close();
  }
  return 0;
}
