import type { Rng } from './rng.js';

/**
 * What a solver needs from a model. Parameters live in one contiguous Float32Array handed in by the
 * runtime (the rank's state segment), so that a whole state moves with a single put; K-Means centres
 * or every blob of a CNN are views into it. `B` is the model's own batch type: the solvers never look
 * inside a batch, they only pass what the data source yields to the model.
 */
export interface Model<B> {
  /** number of Float32 parameters; the state segment holds exactly this many */
  readonly paramCount: number;
  /** write the initial parameters (every rank calls it with the same seed, so all start equal) */
  init(params: Float32Array, rng: Rng): void;
  /**
   * Mean mini-batch gradient at `params` into `gradOut` (every element written); returns the mean
   * loss of the batch at `params`. Must not allocate per call in a hot loop, and must not keep
   * references to `params` (it may be a view that another thread changes).
   */
  gradient(params: Float32Array, batch: B, gradOut: Float32Array): number;
  /** mean loss over `data` (lower is better) */
  loss(params: Float32Array, data: B): number;
  /** optional quality measure over `data`, higher is better (accuracy, negative error...) */
  score?(params: Float32Array, data: B): number;
}

/** Position of a data source in its stream, enough to continue exactly where it stopped. */
export interface DataCursor {
  /** samples handed out so far */
  samples: number;
  /** anything else the source needs (JSON-able) */
  [key: string]: unknown;
}

/**
 * The rank's own partition of the data, handed out in seeded, reproducible mini-batches. A batch
 * returned by `next` or `all` stays valid until the next call on the same source (it may reuse its
 * storage: no allocation per step).
 */
export interface DataSource<B> {
  /** samples in this partition */
  readonly size: number;
  /** the next `batchSize` samples (wrapping into the next epoch, reshuffled, when the partition runs out) */
  next(batchSize: number): B;
  /** the whole partition as one batch (full-batch steps, evaluation) */
  all(): B;
  /** samples handed out by `next` so far */
  readonly samples: number;
  saveCursor(): DataCursor;
  restoreCursor(cursor: DataCursor): void;
}

/** A model with the data of one part of a partitioned job. */
export interface Problem<B = unknown> {
  model: Model<B>;
  data: DataSource<B>;
  /** held-out data for evaluation and target scores; default: the whole local partition */
  evalData?: B;
}

export interface ProblemContext {
  /** which part of the data this caller gets (0..parts-1) */
  part: number;
  parts: number;
  /** the job seed */
  seed: number;
  /** app arguments, JSON-able (they cross thread boundaries) */
  args: unknown;
}

/** Builds a problem for one part; solvers that split a rank's data further (hogwild) call it per thread. */
export type ProblemFactory<B = unknown> = (context: ProblemContext) => Problem<B> | Promise<Problem<B>>;

/**
 * A problem factory that another thread can load: the module's URL or absolute path, the name of its
 * exported ProblemFactory, and JSON-able arguments. Hogwild needs this form (worker threads cannot be
 * handed a model object).
 */
export interface ProblemRef {
  module: string;
  export: string;
  args?: unknown;
}
