/** What a benchmark suite is to the CLI: its name, the flags it takes, and a run that returns results. */
import type { SuiteOutput } from '../results.js';
import type { SuiteArgs, SuiteFlag } from '../suite-args.js';

export interface SuiteContext {
  args: SuiteArgs;
  /** progress lines (stderr) */
  log: (line: string) => void;
  /** cores of this machine */
  cores: number;
}

export interface Suite {
  name: string;
  /** one line for the usage text */
  summary: string;
  flags: readonly SuiteFlag[];
  solvers?: readonly string[];
  transports?: readonly string[];
  /** the values --workload takes, for a suite with several workloads */
  workloads?: readonly string[];
  run(ctx: SuiteContext): Promise<SuiteOutput>;
}

/** The default rank counts: 1, 2, 4, ... up to the cores (and the cores themselves). */
export function defaultRanks(cores: number): number[] {
  const out: number[] = [];
  for (let r = 1; r < cores; r *= 2) out.push(r);
  out.push(cores);
  return out;
}

export const OVERSUBSCRIBED_NOTE = (cores: number): string =>
  `This machine has ${cores} cores: a point with more ranks (or threads) than cores is oversubscribed — its ranks take turns on the cores, so its timings are not valid as scaling figures (iteration counts still are).`;
