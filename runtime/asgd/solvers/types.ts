import type { Problem, ProblemFactory, ProblemRef } from '../model.js';
import type { StopReason } from '../run/control.js';
import type { RankCounters, RunSummary } from '../run/metrics.js';

/** A model and its data as an object, a factory called with this rank's part, or a module reference. */
export type ProblemSource<B = unknown> = Problem<B> | ProblemFactory<B> | ProblemRef;

export interface RunResult {
  rank: number;
  size: number;
  solver: string;
  steps: number;
  samples: number;
  epochs: number;
  seconds: number;
  stopReason: StopReason | 'none';
  /** the step this run continued from (a checkpoint), or null for a fresh start */
  resumedFrom: number | null;
  /** evaluation loss of this rank's final state */
  finalLoss: number;
  finalScore: number | null;
  /** a copy of this rank's final state */
  params: Float32Array;
  counters: RankCounters;
  /** the merged view of all ranks (the same on every rank) */
  summary: RunSummary;
}

/** Observers a caller may attach to a run (not configuration: they are code). */
export interface RunHooks {
  /** after every step (round for distnewton) with the rank's state and counters; must keep neither */
  onStep?: (step: number, params: Float32Array, counters: Readonly<RankCounters>) => void;
}
