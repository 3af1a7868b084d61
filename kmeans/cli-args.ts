/**
 * The `kmeans` command line: parsed and validated completely before anything runs or is written, so
 * that a bad flag costs nothing and leaves --out untouched. Pure (no file system access): file-content
 * errors are found when the readers open the files, still before any output is written.
 */
import type { DataSpec } from './data.js';
import { UsageError } from './errors.js';
import { INIT_METHODS, type InitMethod } from './init.js';
import { STEP_RULES, type StepRule } from './model.js';
import { parseSize, sizeToPoints } from './size.js';
import { parseImbalance } from './synthetic.js';

export const SOLVERS = ['asgd', 'sync', 'simuparallel', 'minibatch', 'lloyd', 'hogwild', 'paramserver'] as const;
export type KmeansSolver = (typeof SOLVERS)[number];

export interface StopRule {
  /** solver steps (lloyd: iterations) per rank */
  steps?: number;
  /** samples drawn per rank */
  samples?: number;
  /** passes over each rank's partition */
  epochs?: number;
  /** wall-clock seconds of training */
  seconds?: number;
  /** stop once the error (centre error against the truth; inertia per point for file data) is ≤ this */
  targetError?: number;
}

export interface KmeansConfig {
  data: DataSpec;
  k: number;
  solver: KmeansSolver;
  step: StepRule;
  /** the step size ε as given (undefined: the default for the rule and solver, see resolveLr) */
  lr: number | undefined;
  batch: number;
  init: InitMethod;
  /** points in the k-means++ sample (the same on every rank) */
  initSample: number;
  /** points in the held-out sample the summary's inertia is measured on (undefined: 100,000, or fewer at high dimension) */
  heldOut: number | undefined;
  seed: number;
  stop: StopRule;
  /** asgd: send the state every this many steps */
  exchangeEvery: number;
  /** asgd: the Parzen window (off: merge every received state) */
  window: boolean;
  /** hogwild: threads per rank sharing its state */
  threads: number;
  out: string | undefined;
  /** seconds between progress lines (0: none) */
  progressEvery: number;
  /** seconds between error measurements for the trace and plot */
  evalEvery: number;
  help: boolean;
}

interface FlagSpec {
  /** takes a value (else a switch) */
  value: boolean;
  help: string;
}

const FLAGS: Record<string, FlagSpec> = {
  '--size': { value: true, help: 'synthetic data size: points (10M, 2.5G) or bytes of float32 (1TB, 500GB); default 1M' },
  '--dim': { value: true, help: 'dimensions (synthetic data, and --raw files; default 10)' },
  '--k-true': { value: true, help: 'true clusters of the synthetic data (default: --k, or 10)' },
  '--spread': { value: true, help: 'standard deviation of each synthetic cluster (default 0.05)' },
  '--box': { value: true, help: 'synthetic centres are uniform in [-box, box]^dim (default 1)' },
  '--imbalance': { value: true, help: 'cluster sizes: a ratio largest/smallest (geometric), or one weight per cluster, comma-separated' },
  '--data-seed': { value: true, help: 'seed of the synthetic data set (default: --seed)' },
  '--raw': { value: true, help: 'raw little-endian float32 file of rows (needs --dim)' },
  '--csv': { value: true, help: 'CSV file of numeric columns' },
  '--header': { value: false, help: 'the CSV file has a header line (default: detected)' },
  '--no-header': { value: false, help: 'the CSV file has no header line' },
  '--delimiter': { value: true, help: 'CSV field delimiter (default ,)' },
  '--npy': { value: true, help: 'NumPy .npy file (float32 or float64, C order, shape (n, d))' },
  '--k': { value: true, help: 'clusters to find (default: --k-true for synthetic data)' },
  '--solver': { value: true, help: `${SOLVERS.join(' | ')} (default asgd)` },
  '--step': { value: true, help: `${STEP_RULES.join(' | ')}: constant ε, or Sculley's 1/N_c per centre (default per-centre)` },
  '--lr': { value: true, help: 'step size ε (default: per-centre 1, divided among hogwild threads or parameter-server workers; constant 0.1·k)' },
  '--batch': { value: true, help: 'mini-batch size per rank (default 1024)' },
  '--init': { value: true, help: `${INIT_METHODS.join(' | ')} on a seeded sample: k-means++ oversampled 3x and reduced (default), plain k-means++, or random points` },
  '--init-sample': { value: true, help: 'points in the initialisation sample (default max(10000, 20·k))' },
  '--held-out': { value: true, help: 'points in the held-out sample for the final inertia (default 100000, at most 64 MB of floats)' },
  '--seed': { value: true, help: 'seed of everything: data (unless --data-seed), initialisation, batches, exchanges (default 1)' },
  '--steps': { value: true, help: 'stop after this many steps per rank (lloyd: iterations)' },
  '--samples': { value: true, help: 'stop after this many samples per rank (10M etc.)' },
  '--epochs': { value: true, help: 'stop after this many passes over each partition (default 1; lloyd: until converged)' },
  '--time': { value: true, help: 'stop after this much training time (seconds, or 90s, 5m, 1h)' },
  '--target-error': { value: true, help: 'stop once the centre error against the truth (file data: inertia per point) is at most this' },
  '--exchange-every': { value: true, help: 'asgd: send the state every this many steps (default 1)' },
  '--no-window': { value: false, help: 'asgd: merge every received state (no Parzen window)' },
  '--threads': { value: true, help: 'hogwild: worker threads per rank sharing its state (default 2)' },
  '--out': { value: true, help: 'directory for centres.json, centres.f32, summary.json and error-vs-time.svg' },
  '--progress-every': { value: true, help: 'seconds between progress lines on rank 0 (default 2; 0: none)' },
  '--eval-every': { value: true, help: 'seconds between error measurements for the plot (default 0.25)' },
  '--help': { value: false, help: 'print this help' },
};

export function usage(): string {
  const lines = ['usage: kmeans [data] [model] [solver] [stop] [--out DIR]', '', 'Runs as a rank program: pgas-run -n 4 kmeans --size 1TB --k 100 ...', ''];
  for (const [flag, spec] of Object.entries(FLAGS)) {
    lines.push(`  ${(flag + (spec.value ? ' V' : '')).padEnd(20)} ${spec.help}`);
  }
  return lines.join('\n');
}

function number(flag: string, text: string, rule: { integer?: boolean; min?: number; exclusiveMin?: boolean; max?: number } = {}): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${flag}: '${text}' is not a number`);
  if (rule.integer && !Number.isInteger(v)) throw new UsageError(`${flag}: '${text}' is not a whole number`);
  if (rule.min !== undefined && (rule.exclusiveMin ? v <= rule.min : v < rule.min)) {
    throw new UsageError(`${flag}: must be ${rule.exclusiveMin ? 'greater than' : 'at least'} ${rule.min}, got ${text}`);
  }
  if (rule.max !== undefined && v > rule.max) throw new UsageError(`${flag}: must be at most ${rule.max}, got ${text}`);
  return v;
}

/** Seconds from `90`, `90s`, `1.5m`, `2h`. */
export function parseDuration(flag: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|)\s*$/i.exec(text);
  if (!m) throw new UsageError(`${flag}: '${text}' is not a duration (seconds, or 90s, 5m, 1h)`);
  const v = Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2]!.toLowerCase()]!;
  if (v <= 0) throw new UsageError(`${flag}: must be positive, got '${text}'`);
  return v;
}

/** Counts like 10M or 2500 (no byte units). */
function count(flag: string, text: string): number {
  const size = parseSize(text, flag);
  if (size.kind !== 'points') throw new UsageError(`${flag}: '${text}' is a byte size; give a count (10M, 2500)`);
  return size.points;
}

/**
 * The step size of a run on `ranks` ranks. Given: as given. Default for the constant rule: 0.1·k (a
 * centre gets about b/k of each batch, so this moves it about a tenth of the way). Default for the
 * per-centre rule: 1, which makes each centre the running mean of the points its rank assigned to
 * it (Sculley). Where several updaters apply such steps to one state, each counting only its own
 * points (hogwild threads, parameter-server workers), the 1 is shared among them, so that the
 * state still moves like one running mean. (sync needs no such share: averaging the ranks'
 * gradients, each scaled by 1/N_c of its own ≈ N_c/P points, gives the step of the union.)
 */
export function resolveLr(config: KmeansConfig, ranks: number): number {
  if (config.lr !== undefined) return config.lr;
  if (config.step === 'constant') return 0.1 * config.k;
  if (config.solver === 'hogwild') return 1 / config.threads;
  if (config.solver === 'paramserver') return 1 / Math.max(1, ranks - 1);
  return 1;
}

/** Parse and validate argv (without the program name). Throws UsageError naming the flag. */
export function parseArgs(argv: readonly string[]): KmeansConfig {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = FLAGS[flag];
    if (!spec) {
      const near = Object.keys(FLAGS).filter((f) => f.startsWith(flag.slice(0, 4)));
      throw new UsageError(`unknown ${arg.startsWith('-') ? 'flag' : 'argument'} '${arg}'${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}; see --help`);
    }
    if (values.has(flag) || switches.has(flag)) throw new UsageError(`${flag} given twice`);
    if (!spec.value) {
      if (eq > 0) throw new UsageError(`${flag} takes no value`);
      switches.add(flag);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    values.set(flag, value);
  }
  const get = (flag: string): string | undefined => values.get(flag);
  const help = switches.has('--help');

  // ---- data ----
  const files = (['--raw', '--csv', '--npy'] as const).filter((f) => values.has(f));
  if (files.length > 1) throw new UsageError(`give one data source, not ${files.join(' and ')}`);
  const syntheticOnly = ['--size', '--k-true', '--spread', '--box', '--imbalance', '--data-seed'].filter((f) => values.has(f));
  if (files.length === 1 && syntheticOnly.length > 0) throw new UsageError(`${syntheticOnly.join(', ')} describe synthetic data and cannot be used with ${files[0]}`);
  const csvOnly = ['--header', '--no-header', '--delimiter'].filter((f) => values.has(f) || switches.has(f));
  if (csvOnly.length > 0 && files[0] !== '--csv') throw new UsageError(`${csvOnly.join(', ')} apply to --csv only`);
  if (switches.has('--header') && switches.has('--no-header')) throw new UsageError('--header and --no-header contradict each other');
  const seed = get('--seed') !== undefined ? number('--seed', get('--seed')!, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER }) : 1;
  const dimText = get('--dim');
  const dim = dimText !== undefined ? number('--dim', dimText, { integer: true, min: 1 }) : undefined;
  const kText = get('--k');
  let k = kText !== undefined ? number('--k', kText, { integer: true, min: 1 }) : undefined;
  let data: DataSpec;
  if (files[0] === '--raw') {
    if (dim === undefined) throw new UsageError('--raw needs --dim (the number of float32 values in a row)');
    data = { kind: 'raw', file: get('--raw')!, dim };
  } else if (files[0] === '--csv') {
    if (dim !== undefined) throw new UsageError('--dim does not apply to --csv (the columns are counted)');
    data = { kind: 'csv', file: get('--csv')! };
    if (switches.has('--header')) data.header = true;
    if (switches.has('--no-header')) data.header = false;
    if (get('--delimiter') !== undefined) data.delimiter = get('--delimiter')!;
  } else if (files[0] === '--npy') {
    data = { kind: 'npy', file: get('--npy')! };
    if (dim !== undefined) data.dim = dim;
  } else {
    const d = dim ?? 10;
    const kTrue = get('--k-true') !== undefined ? number('--k-true', get('--k-true')!, { integer: true, min: 1 }) : (k ?? 10);
    const points = sizeToPoints(parseSize(get('--size') ?? '1M'), d);
    const spread = get('--spread') !== undefined ? number('--spread', get('--spread')!, { min: 0, exclusiveMin: true }) : 0.05;
    const box = get('--box') !== undefined ? number('--box', get('--box')!, { min: 0, exclusiveMin: true }) : 1;
    const dataSeed = get('--data-seed') !== undefined ? number('--data-seed', get('--data-seed')!, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER }) : seed;
    data = { kind: 'synthetic', seed: dataSeed, points, dim: d, kTrue, spread, box };
    const weights = get('--imbalance') !== undefined ? parseImbalance(get('--imbalance')!, kTrue) : undefined;
    if (weights) data.weights = weights;
    k ??= kTrue;
  }
  if (k === undefined) {
    if (!help) throw new UsageError('--k is required with file data (how many clusters to find)');
    k = 1;
  }

  // ---- solver and model ----
  const solverText = get('--solver') ?? 'asgd';
  if (!(SOLVERS as readonly string[]).includes(solverText)) throw new UsageError(`--solver must be one of ${SOLVERS.join(', ')}, got '${solverText}'`);
  const solver = solverText as KmeansSolver;
  const stepText = get('--step') ?? 'per-centre';
  if (!(STEP_RULES as readonly string[]).includes(stepText)) throw new UsageError(`--step must be one of ${STEP_RULES.join(', ')}, got '${stepText}'`);
  const step = stepText as StepRule;
  const initText = get('--init') ?? 'kmeans||';
  if (!(INIT_METHODS as readonly string[]).includes(initText)) throw new UsageError(`--init must be one of ${INIT_METHODS.join(', ')}, got '${initText}'`);
  const lr = get('--lr') !== undefined ? number('--lr', get('--lr')!, { min: 0, exclusiveMin: true }) : undefined;
  const batch = get('--batch') !== undefined ? count('--batch', get('--batch')!) : 1024;
  if (solver === 'lloyd' && (values.has('--batch') || values.has('--lr') || values.has('--step'))) {
    throw new UsageError('--solver lloyd uses full partitions and exact means: --batch, --lr and --step do not apply');
  }
  if (solver === 'minibatch' && (values.has('--step') || values.has('--lr'))) {
    throw new UsageError("--solver minibatch is Sculley's algorithm (per-centre 1/N_c steps): --step and --lr do not apply");
  }
  const asgdOnly = ['--exchange-every', '--no-window'].filter((f) => values.has(f) || switches.has(f));
  if (asgdOnly.length > 0 && solver !== 'asgd') throw new UsageError(`${asgdOnly.join(', ')} apply to --solver asgd only`);
  if (values.has('--threads') && solver !== 'hogwild') throw new UsageError('--threads applies to --solver hogwild only');
  const threads = get('--threads') !== undefined ? number('--threads', get('--threads')!, { integer: true, min: 1, max: 256 }) : 2;
  const exchangeEvery = get('--exchange-every') !== undefined ? number('--exchange-every', get('--exchange-every')!, { integer: true, min: 1 }) : 1;
  const initSample = get('--init-sample') !== undefined ? count('--init-sample', get('--init-sample')!) : Math.max(10000, 20 * k);
  const heldOut = get('--held-out') !== undefined ? count('--held-out', get('--held-out')!) : undefined;
  if (k > initSample) throw new UsageError(`--k ${k} is larger than the initialisation sample of ${initSample} points (--init-sample)`);

  // ---- stop rule ----
  const stop: StopRule = {};
  if (get('--steps') !== undefined) stop.steps = count('--steps', get('--steps')!);
  if (get('--samples') !== undefined) stop.samples = count('--samples', get('--samples')!);
  if (get('--epochs') !== undefined) stop.epochs = number('--epochs', get('--epochs')!, { min: 0, exclusiveMin: true });
  if (get('--time') !== undefined) stop.seconds = parseDuration('--time', get('--time')!);
  if (get('--target-error') !== undefined) stop.targetError = number('--target-error', get('--target-error')!, { min: 0, exclusiveMin: true });
  if (solver === 'lloyd' && (stop.samples !== undefined || stop.epochs !== undefined)) {
    throw new UsageError('--solver lloyd stops by --steps (iterations), --time or --target-error, or when it converges');
  }
  if (Object.keys(stop).length === 0 && solver !== 'lloyd') stop.epochs = 1;

  const progressEvery = get('--progress-every') !== undefined ? number('--progress-every', get('--progress-every')!, { min: 0 }) : 2;
  const evalEvery = get('--eval-every') !== undefined ? number('--eval-every', get('--eval-every')!, { min: 0, exclusiveMin: true }) : 0.25;
  const out = get('--out');
  if (out !== undefined && out.trim() === '') throw new UsageError('--out needs a directory');
  return {
    data, k, solver, step, lr, batch, init: initText as InitMethod, initSample, heldOut, seed, stop,
    exchangeEvery, window: !switches.has('--no-window'), threads, out, progressEvery, evalEvery, help,
  };
}
