import { UsageError } from './errors.js';

export interface CliOptions {
  command: 'train' | 'test' | 'info';
  solver?: string;
  model?: string;
  weights?: string;
  snapshot?: string;
  kernels: 'auto' | 'typescript' | 'native';
  plot?: string;
  seed?: number;
  maxIter?: number;
  iterations?: number;
  /** the numeric core's solver when run under pgas-run (asgd, sync, simuparallel, ...) */
  parallel: string;
  /** ASGD: send a state every this many steps */
  exchangeEvery?: number;
  json?: string;
  /** under pgas-run: stop after this many seconds of training (the numeric core's stop.seconds) */
  seconds?: number;
  quiet: boolean;
}

export const USAGE = `usage:
  cnn train --solver FILE [--weights FILE] [--snapshot FILE] [options]
      train as Caffe does; --weights starts from trained weights (copied by layer name),
      --snapshot resumes from a solver state (FILE.cnnstate)
  cnn test (--solver FILE | --model NET.prototxt) --weights FILE [--iterations N]
      evaluate a test net (default: test_iter of the solver, or 50 batches)
  cnn info      which kernels are available and active
options:
  --kernels auto|typescript|native   GEMM path (default auto: native when built)
  --plot FILE.svg                    write the loss/accuracy curves
  --json FILE                        write the events as JSON lines
  --seed N                           seeds fillers, dropout, shuffling (default random_seed or 1)
  --max-iter N                       override max_iter
  --parallel NAME                    under pgas-run: the numeric core's solver (default asgd;
                                     also sync, simuparallel, hogwild, paramserver)
  --exchange-every N                 asgd: send the state every N steps (default 1)
  --seconds S                        under pgas-run: stop after S seconds of training
  --quiet                            only the summary`;

export function parseCliArgs(argv: readonly string[]): CliOptions {
  const [command, ...rest] = argv;
  if (command !== 'train' && command !== 'test' && command !== 'info') {
    throw new UsageError(command === undefined || command === '--help' || command === '-h' ? USAGE : `unknown command '${command}'\n${USAGE}`);
  }
  const o: CliOptions = { command, kernels: 'auto', parallel: 'asgd', quiet: false };
  const seen = new Set<string>();
  const int = (flag: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} needs an integer ≥ ${min}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (seen.has(flag)) throw new UsageError(`${flag} is given twice`);
    seen.add(flag);
    if (flag === '--quiet') {
      o.quiet = true;
      continue;
    }
    const value = inline ?? rest[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    switch (flag) {
      case '--solver': o.solver = value; break;
      case '--model': o.model = value; break;
      case '--weights': o.weights = value; break;
      case '--snapshot': o.snapshot = value; break;
      case '--plot': o.plot = value; break;
      case '--json': o.json = value; break;
      case '--seed': o.seed = int(flag, value, 0); break;
      case '--max-iter': o.maxIter = int(flag, value, 0); break;
      case '--iterations': o.iterations = int(flag, value, 1); break;
      case '--exchange-every': o.exchangeEvery = int(flag, value, 1); break;
      case '--parallel': o.parallel = value; break;
      case '--seconds': {
        const v = Number(value);
        if (!(v > 0)) throw new UsageError(`--seconds needs a positive number, got '${value}'`);
        o.seconds = v;
        break;
      }
      case '--kernels':
        if (value !== 'auto' && value !== 'typescript' && value !== 'native') throw new UsageError(`--kernels must be auto, typescript or native, got '${value}'`);
        o.kernels = value;
        break;
      default:
        throw new UsageError(`unknown option '${flag}'\n${USAGE}`);
    }
  }
  if (o.command === 'train' && !o.solver) throw new UsageError('cnn train needs --solver FILE');
  if (o.command === 'train' && o.weights && o.snapshot) throw new UsageError('give --weights or --snapshot, not both (a snapshot carries its weights)');
  if (o.command === 'test') {
    if (!o.solver === !o.model) throw new UsageError('cnn test needs --solver FILE or --model NET.prototxt (one of them)');
    if (!o.weights) throw new UsageError('cnn test needs --weights FILE');
  }
  return o;
}
