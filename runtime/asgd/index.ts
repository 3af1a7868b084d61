/**
 * The ASGD numeric core: models, data sources, optimizers, schedules and the solvers that run them on
 * the PGAS runtime (ALGORITHMS.md). An application supplies a model and its data:
 *
 *   import { init } from '../../pgas/index.js';
 *   import { createSolver } from '../../runtime/asgd/index.js';
 *
 *   const solver = createSolver({                     // validates everything, throws typed errors
 *     solver: 'asgd', optimizer: { name: 'sgd', lr: 0.1 }, batchSize: 500,
 *     stop: { seconds: 60 }, asgd: { window: 'parzen', exchangeEvery: 1 },
 *     metrics: { dir: 'out/metrics' }, checkpoint: { dir: 'out/ckpt', everySeconds: 30, resume: true },
 *   });
 *   const ctx = await init();
 *   const result = await solver.run(ctx, { module: import.meta.url, export: 'makeProblem', args });
 *   // or: solver.run(ctx, { model, data })  /  solver.run(ctx, ({ part, parts, seed }) => ({ model, data }))
 *
 * A model (Model<B>) has `paramCount`, `init(params, rng)`, `gradient(params, batch, gradOut) -> loss`,
 * `loss(params, data)` and optionally `score(params, data)`; its parameters are one Float32Array (the
 * rank's state segment). A DataSource<B> yields the rank's partition in seeded mini-batches.
 */

// models, data, problems
export type { Model, DataSource, DataCursor, Problem, ProblemContext, ProblemFactory, ProblemRef } from './model.js';
export { Rng, Stream, mix32 } from './rng.js';
export { DenseDataSource, partitionIndices, type DenseBatch, type DenseDataset } from './data/dense.js';
export { readEpochCursor, type EpochPosition } from './data/cursor.js';
export { LeastSquaresModel, solveLeastSquares, choleskySolve, type LeastSquaresOptions } from './models/least-squares.js';
export { LogisticModel, solveLogistic, sigmoid, softplus, type LogisticOptions } from './models/logistic.js';
export { QuadraticModel, quadraticOptimum, type QuadraticOptions } from './models/quadratic.js';
export {
  syntheticProblem, syntheticDataset, syntheticModel, syntheticOptimum, SYNTHETIC_MODULE, SYNTHETIC_KINDS,
  type SyntheticArgs, type SyntheticKind,
} from './problems/synthetic.js';

// solvers and their configuration
export {
  SOLVER_NAMES, validateSolverConfig,
  type SolverName, type SolverConfig, type ResolvedSolverConfig, type StopConfig, type AsgdOptions, type HogwildOptions,
  type ParamServerOptions, type DistNewtonOptions, type MetricsConfig, type CheckpointConfig,
} from './config.js';
export { createSolver, runSolver, type Solver } from './solve.js';
export type { ProblemSource, RunResult, RunHooks } from './solvers/types.js';
export type { StopReason } from './run/control.js';

// optimizers and schedules
export { OPTIMIZER_NAMES, type OptimizerName, type OptimizerConfig, type Optimizer } from './optim/types.js';
export { createOptimizer, validateOptimizerConfig, optimizer, isBoosted, type ResolvedOptimizerConfig } from './optim/factory.js';
export { Schedule, validateScheduleConfig, SCHEDULE_POLICIES, type SchedulePolicy, type ScheduleConfig } from './schedule.js';

// metrics and checkpoints
export { readMetricsFiles, summarizeMetricsDir, summarize, type RunSummary, type RankReport, type RankCounters } from './run/metrics.js';
export { readCheckpoint, writeCheckpoint, checkpointPath, type Checkpoint, type CheckpointMeta } from './run/checkpoint.js';

// building blocks, for applications that run their own loop
export { AsgdExchange, type ExchangeCounters, type ExchangeOptions } from './solvers/exchange.js';
export { windowDot, windowAccepts, windowAcceptsLiteral, squaredNorm, mixSgd, pull } from './solvers/window.js';
export { distNewtonStep, applyInverseHessian, type NewtonStep } from './solvers/distnewton-math.js';
export { symmetricEigen } from './linalg/jacobi.js';

export * from './errors.js';
export { aliveRanks, withSurvivors } from './solvers/survivors.js';
export { agreeOnOutcome } from './solvers/agree.js';
