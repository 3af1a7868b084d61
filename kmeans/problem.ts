/**
 * K-Means as a problem the numeric core can build by itself from JSON-able arguments: a
 * ProblemFactory, usable as a ProblemRef { module: KMEANS_PROBLEM_MODULE, export: 'kmeansProblem',
 * args }. Solvers that build the model in other threads (hogwild) need this form; benchmarks use it
 * to run K-Means under every solver of the core.
 */
import type { Problem, ProblemFactory } from '../runtime/asgd/index.js';
import { KmeansDataSource, type KmeansBatch } from './batches.js';
import { openSource, syntheticHeldOut, syntheticInitSample, syntheticOf, type DataSpec } from './data.js';
import { UsageError } from './errors.js';
import type { InitMethod } from './init.js';
import { KmeansModel, type StepRule } from './model.js';

export interface KmeansProblemArgs {
  data: DataSpec;
  k: number;
  step?: StepRule;
  init?: InitMethod;
  /** initial centres (k·dim numbers), the same for every part; otherwise init runs on the sample */
  initial?: number[];
  /** the initialisation sample (rows × dim numbers); synthetic data: drawn from the seed when absent */
  sample?: number[];
  /** points in a drawn sample (default 10,000) */
  sampleSize?: number;
  /** evaluation points (rows × dim numbers); synthetic data: the held-out stream when absent */
  evalPoints?: number[];
  /** points drawn from the held-out stream for evaluation (default 4,000) */
  evalSize?: number;
}

export const KMEANS_PROBLEM_MODULE = import.meta.url;

export const kmeansProblem: ProblemFactory<KmeansBatch> = ({ part, parts, seed, args }): Problem<KmeansBatch> => {
  const a = args as KmeansProblemArgs;
  if (typeof a !== 'object' || a === null || typeof a.data !== 'object' || !Number.isInteger(a.k)) {
    throw new UsageError('kmeansProblem needs args { data, k, ... } (see KmeansProblemArgs)');
  }
  const source = openSource(a.data, part, parts, 1);
  const d = source.dim;
  const synthetic = a.data.kind === 'synthetic' ? a.data : undefined;
  let sample: Float32Array;
  if (a.sample !== undefined) sample = Float32Array.from(a.sample);
  else if (a.initial !== undefined) sample = Float32Array.from(a.initial);
  else if (synthetic) sample = syntheticInitSample(synthetic, Math.min(a.sampleSize ?? 10000, syntheticOf(synthetic).points), seed);
  else throw new UsageError('file data: give kmeansProblem the initial centres or the initialisation sample (parts cannot gather one)');
  let evalPoints: Float32Array;
  if (a.evalPoints !== undefined) evalPoints = Float32Array.from(a.evalPoints);
  else if (synthetic) evalPoints = syntheticHeldOut(synthetic, a.evalSize ?? 4000);
  else throw new UsageError('file data: give kmeansProblem its evaluation points');
  const model = new KmeansModel({
    k: a.k, dim: d, step: a.step ?? 'per-centre', init: a.init ?? 'kmeans||', sample,
    ...(a.initial !== undefined ? { initial: Float32Array.from(a.initial) } : {}),
    ...(synthetic ? { truth: syntheticOf(synthetic).centres } : {}),
  });
  return {
    model,
    data: new KmeansDataSource(source, { seed, part }),
    evalData: { x: evalPoints, n: evalPoints.length / d, source: null, from: 0, to: 0 },
  };
};
