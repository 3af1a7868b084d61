/**
 * Options of the benchmark suites. One parser for all of them; each suite names the flags it accepts,
 * and anything else (an unknown flag, a flag the suite does not take, a bad value) is a UsageError,
 * which the CLI turns into a message and exit status 2 before anything runs.
 */
import { parseSize, type DataSize } from '../kmeans/size.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const SUITE_FLAGS = ['--quick', '--out', '--ranks', '--seeds', '--solvers', '--transport', '--size', '--fraction', '--time-budget', '--workload', '--json', '--help'] as const;
export type SuiteFlag = (typeof SUITE_FLAGS)[number];

export interface SuiteArgs {
  quick: boolean;
  help: boolean;
  /** results folder (default bench/results/<suite>/) */
  out: string | undefined;
  /** rank counts to run (default: the suite's, up to the cores) */
  ranks: number[] | undefined;
  seeds: number | undefined;
  solvers: string[] | undefined;
  transport: string | undefined;
  size: DataSize | undefined;
  /** the size text as given, for the report */
  sizeText: string | undefined;
  fraction: number | undefined;
  timeBudget: number | undefined;
  /** which workloads of a suite with several (scaling: kmeans, lenet) */
  workloads: string[] | undefined;
  json: string | undefined;
}

const SWITCHES: ReadonlySet<SuiteFlag> = new Set(['--quick', '--help']);

function positiveInt(flag: string, text: string, max: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < 1) throw new UsageError(`${flag}: '${text}' is not a positive whole number`);
  if (v > max) throw new UsageError(`${flag}: ${v} is more than ${max}`);
  return v;
}

/** A comma-separated list of names from `allowed`, each at most once. */
function choiceList(flag: string, what: string, value: string, allowed: readonly string[]): string[] {
  const list = value.split(',').map((s) => s.trim());
  for (const s of list) {
    if (!allowed.includes(s)) throw new UsageError(`${flag}: unknown ${what} '${s}' (${allowed.join(', ')})`);
  }
  if (new Set(list).size !== list.length) throw new UsageError(`${flag}: '${value}' names a ${what} twice`);
  return list;
}

/**
 * Parse `argv` for suite `suite`, which accepts `accepted` flags; `choices` restricts the values of
 * --solvers and --transport.
 */
export function parseSuiteArgs(
  suite: string,
  argv: readonly string[],
  accepted: readonly SuiteFlag[],
  choices: { solvers?: readonly string[]; transports?: readonly string[]; workloads?: readonly string[] } = {},
): SuiteArgs {
  const out: SuiteArgs = {
    quick: false, help: false, out: undefined, ranks: undefined, seeds: undefined, solvers: undefined, transport: undefined,
    size: undefined, sizeText: undefined, fraction: undefined, timeBudget: undefined, workloads: undefined, json: undefined,
  };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = (eq > 0 ? arg.slice(0, eq) : arg) as SuiteFlag;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (flag === '-h' as SuiteFlag) {
      out.help = true;
      continue;
    }
    if (!(SUITE_FLAGS as readonly string[]).includes(flag)) {
      throw new UsageError(`${suite}: unknown ${arg.startsWith('-') ? 'option' : 'argument'} '${arg}'`);
    }
    if (!accepted.includes(flag) && flag !== '--help') throw new UsageError(`${suite}: option ${flag} does not apply to this suite (it takes ${accepted.filter((f) => f !== '--help').join(', ')})`);
    if (seen.has(flag)) throw new UsageError(`${suite}: ${flag} given twice`);
    seen.add(flag);
    if (SWITCHES.has(flag)) {
      if (inline !== undefined) throw new UsageError(`${suite}: ${flag} takes no value`);
      if (flag === '--quick') out.quick = true;
      else out.help = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${suite}: ${flag} needs a value`);
    }
    if (value === '') throw new UsageError(`${suite}: ${flag} needs a value`);
    switch (flag) {
      case '--out':
        out.out = value;
        break;
      case '--json':
        out.json = value;
        break;
      case '--ranks': {
        const list = value.split(',').map((v) => positiveInt('--ranks', v, 1024));
        if (new Set(list).size !== list.length) throw new UsageError(`--ranks: '${value}' repeats a rank count`);
        out.ranks = [...list].sort((a, b) => a - b);
        break;
      }
      case '--seeds':
        out.seeds = positiveInt('--seeds', value, 100);
        break;
      case '--solvers':
        out.solvers = choiceList('--solvers', 'solver', value, choices.solvers ?? []);
        break;
      case '--workload':
        out.workloads = choiceList('--workload', 'workload', value, choices.workloads ?? []);
        break;
      case '--transport': {
        const allowed = choices.transports ?? ['threads', 'uws'];
        if (!allowed.includes(value)) throw new UsageError(`--transport: unknown transport '${value}' (${allowed.join(', ')})`);
        out.transport = value;
        break;
      }
      case '--size':
        try {
          out.size = parseSize(value, '--size');
          out.sizeText = value;
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
        break;
      case '--fraction': {
        const v = Number(value);
        if (!Number.isFinite(v) || v <= 0 || v > 1) throw new UsageError(`--fraction: '${value}' is not a number in (0, 1]`);
        out.fraction = v;
        break;
      }
      case '--time-budget': {
        const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(value);
        if (!m || Number(m[1]) <= 0) throw new UsageError(`--time-budget: '${value}' is not a positive duration (seconds, or 90s, 5m, 1h)`);
        out.timeBudget = Number(m[1]) * ({ s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2] ?? 's']!;
        break;
      }
      default:
        throw new UsageError(`${suite}: unknown option '${arg}'`);
    }
  }
  return out;
}
