import { DenseDataSource, partitionIndices, type DenseBatch, type DenseDataset } from '../data/dense.js';
import { InvalidOptionError, UnknownNameError } from '../errors.js';
import type { Model, Problem, ProblemContext, ProblemFactory } from '../model.js';
import { LeastSquaresModel, solveLeastSquares } from '../models/least-squares.js';
import { LogisticModel, solveLogistic } from '../models/logistic.js';
import { QuadraticModel, quadraticOptimum } from '../models/quadratic.js';
import { Rng, Stream } from '../rng.js';

export const SYNTHETIC_KINDS = ['leastsq', 'logistic', 'quadratic'] as const;
export type SyntheticKind = (typeof SYNTHETIC_KINDS)[number];

/**
 * A small problem with a known optimum, generated from a seed alone (every rank and thread builds the
 * same dataset and takes its own part). JSON-able, so it can be a ProblemRef's args.
 */
export interface SyntheticArgs {
  kind: SyntheticKind;
  rows?: number;
  dim?: number;
  /** dataset seed (default 1); the partition and batch order use the job seed */
  dataSeed?: number;
  /** leastsq: noise on the targets; quadratic: spread of the points around their centre */
  noise?: number;
  l2?: number;
  /** ratio of the largest to the smallest feature scale (leastsq) or curvature (quadratic), default 1 */
  conditioning?: number;
  /**
   * 'disjoint' (default): each part gets its own rows; 'replicated': every part gets all rows in its
   * own seeded order; 'identical': all rows in the same order on every part (identical partitions)
   */
  partition?: 'disjoint' | 'replicated' | 'identical';
  initScale?: number;
  /** explicit rows (overrides rows/dim): points for quadratic, features for leastsq/logistic */
  points?: number[][];
  targets?: number[];
}

const datasets = new Map<string, DenseDataset>();

export function syntheticDataset(args: SyntheticArgs): DenseDataset {
  const key = JSON.stringify(args);
  const cached = datasets.get(key);
  if (cached) return cached;
  const data = generate(args);
  datasets.set(key, data);
  return data;
}

function generate(args: SyntheticArgs): DenseDataset {
  if (!(SYNTHETIC_KINDS as readonly string[]).includes(args.kind)) throw new UnknownNameError('synthetic problem kind', String(args.kind), SYNTHETIC_KINDS);
  if (args.points) {
    const rows = args.points.length;
    const dim = args.points[0]?.length ?? 0;
    if (rows === 0 || dim === 0) throw new InvalidOptionError('points', 'needs at least one non-empty row');
    const x = new Float32Array(rows * dim);
    args.points.forEach((p, i) => x.set(p, i * dim));
    const y = Float32Array.from(args.targets ?? new Array<number>(rows).fill(0));
    return { x, y, rows, dim };
  }
  const rows = positiveInt('rows', args.rows ?? 256);
  const dim = positiveInt('dim', args.dim ?? 4);
  const rng = new Rng(args.dataSeed ?? 1, Stream.Problem);
  const x = new Float32Array(rows * dim);
  const y = new Float32Array(rows);
  const scales = featureScales(dim, args.conditioning ?? 1);
  const noise = args.noise ?? 0.1;
  if (args.kind === 'quadratic') {
    const centre = Array.from({ length: dim }, () => rng.uniform() * 2 - 1);
    for (let i = 0; i < rows; i++) for (let k = 0; k < dim; k++) x[i * dim + k] = centre[k]! + noise * rng.gaussian();
    return { x, y, rows, dim };
  }
  const truth = Array.from({ length: dim }, () => rng.gaussian());
  const bias = args.kind === 'logistic' ? 0.3 : 0;
  for (let i = 0; i < rows; i++) {
    let z = bias;
    for (let k = 0; k < dim; k++) {
      const v = scales[k]! * rng.gaussian();
      x[i * dim + k] = v;
      z += v * truth[k]!;
    }
    if (args.kind === 'leastsq') y[i] = z + noise * rng.gaussian();
    else y[i] = rng.uniform() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { x, y, rows, dim };
}

/** log-spaced scales from 1 down to 1/conditioning */
function featureScales(dim: number, conditioning: number): Float64Array {
  const s = new Float64Array(dim);
  for (let k = 0; k < dim; k++) s[k] = dim === 1 ? 1 : Math.pow(conditioning, -k / (dim - 1));
  return s;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new InvalidOptionError(name, `must be a positive integer, got ${String(v)}`);
  return v;
}

export function syntheticModel(args: SyntheticArgs, data: DenseDataset = syntheticDataset(args)): Model<DenseBatch> {
  const options = { dim: data.dim, l2: args.l2 ?? 0, initScale: args.initScale ?? 0 };
  if (args.kind === 'leastsq') return new LeastSquaresModel(options);
  if (args.kind === 'logistic') return new LogisticModel(options);
  const c = args.conditioning ?? 1;
  const curvature = Float32Array.from(featureScales(data.dim, c), (s) => s * s);
  return new QuadraticModel({ dim: data.dim, curvature, initScale: options.initScale });
}

/** The ProblemFactory for synthetic problems (usable as a ProblemRef: this module, export 'syntheticProblem'). */
export function syntheticProblem(context: ProblemContext): Problem<DenseBatch> {
  const args = context.args as SyntheticArgs;
  const data = syntheticDataset(args);
  const mode = args.partition ?? 'disjoint';
  const indices = mode === 'disjoint'
    ? partitionIndices(data.rows, context.part, context.parts, context.seed)
    : Int32Array.from({ length: data.rows }, (_, i) => i);
  const orderPart = mode === 'identical' ? 0 : context.part;
  return {
    model: syntheticModel(args, data),
    data: new DenseDataSource(data, indices, context.seed, orderPart),
  };
}
syntheticProblem satisfies ProblemFactory<DenseBatch>;

/** The exact optimum of the whole problem (all rows), in Float64. */
export function syntheticOptimum(args: SyntheticArgs): Float64Array {
  const data = syntheticDataset(args);
  if (args.kind === 'leastsq') return solveLeastSquares(data, args.l2 ?? 0);
  if (args.kind === 'logistic') return solveLogistic(data, args.l2 ?? 0);
  return quadraticOptimum(data);
}

/** URL of this module, for ProblemRefs. */
export const SYNTHETIC_MODULE = import.meta.url;
