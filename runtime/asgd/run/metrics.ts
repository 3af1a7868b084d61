import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Group, PgasContext } from '../../../pgas/index.js';
import { publishLoss } from '../../metrics-feed/index.js';
import { emptyExchangeCounters, type ExchangeCounters } from '../solvers/exchange.js';
import { STOP_REASONS, type StopReason } from './control.js';

/** Everything a rank counts during a run (cumulative). */
export interface RankCounters extends ExchangeCounters {
  steps: number;
  samples: number;
  /** gradients applied by a parameter server, and their staleness */
  stalenessCount: number;
  stalenessSum: number;
  stalenessMax: number;
  /** wall seconds spent taking in and sending states (asgd), to set against the run's time */
  exchangeSeconds: number;
}

export function emptyCounters(): RankCounters {
  return { ...emptyExchangeCounters(), steps: 0, samples: 0, stalenessCount: 0, stalenessSum: 0, stalenessMax: 0, exchangeSeconds: 0 };
}

/**
 * One JSON line per `every` steps into `<dir>/rank-<r>.jsonl`: step, wall time, samples, epoch, mean
 * training loss since the last line, learning rate, and the cumulative counters. Synchronous writes:
 * a line every hundred steps costs nothing next to a step, and a crashed run keeps what it wrote.
 */
export class MetricsWriter {
  private fd: number | null = null;
  private lossSum = 0;
  private lossCount = 0;

  constructor(dir: string | undefined, readonly rank: number, append: boolean) {
    if (dir === undefined) return;
    mkdirSync(dir, { recursive: true });
    this.fd = openSync(join(dir, `rank-${rank}.jsonl`), append ? 'a' : 'w');
  }

  get enabled(): boolean {
    return this.fd !== null;
  }

  /** add one step's mini-batch loss to the running mean of the interval */
  addLoss(loss: number): void {
    publishLoss(loss); // the dashboard's loss curve (a no-op without one)
    this.lossSum += loss;
    this.lossCount++;
  }

  /** the mean training loss since the last line (NaN if none) */
  takeLoss(): number {
    const mean = this.lossCount > 0 ? this.lossSum / this.lossCount : NaN;
    this.lossSum = 0;
    this.lossCount = 0;
    return mean;
  }

  write(record: Record<string, unknown>): void {
    if (this.fd === null) return;
    writeSync(this.fd, `${JSON.stringify({ rank: this.rank, ...record }, finite)}\n`);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** JSON has no NaN or Infinity: write them as null rather than produce an unreadable line. */
function finite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export interface RankReport {
  rank: number;
  steps: number;
  samples: number;
  seconds: number;
  stopReason: StopReason | 'none';
  finalLoss: number;
  finalScore: number | null;
  counters: RankCounters;
}

/** The merged view of a run, built from every rank's report. */
export interface RunSummary {
  solver: string;
  ranks: number;
  /** the slowest rank's wall time */
  seconds: number;
  steps: number[];
  totalSamples: number;
  samplesPerSecond: number;
  finalLoss: number[];
  meanFinalLoss: number;
  finalScore: (number | null)[];
  stopReasons: string[];
  totals: RankCounters;
  /** accepted / received over all ranks (asgd) */
  acceptRate: number | null;
  staleness: { count: number; mean: number; max: number; histogram?: number[] } | null;
  /** ranks lost during the run (asgd ends over the survivors); absent when none was */
  lostRanks?: number[];
  /** the ranks whose reports are above, when some were lost */
  survivors?: number[];
}

const FIELDS = ['steps', 'samples', 'seconds', 'stop', 'finalLoss', 'finalScore', 'hasScore', ...Object.keys(emptyCounters())] as const;

/**
 * Every rank's report reaches every rank through one allreduce (each rank fills its own row of a
 * zeroed matrix, so the sum is exact); rank 0 writes `<dir>/summary.json`. Collective.
 */
export async function gatherReports(ctx: PgasContext, report: RankReport, group?: Group): Promise<RankReport[]> {
  const width = FIELDS.length;
  const table = new Float64Array(ctx.size * width);
  const row = table.subarray(ctx.rank * width, (ctx.rank + 1) * width);
  const values: Record<string, number> = {
    ...report.counters,
    steps: report.steps,
    samples: report.samples,
    seconds: report.seconds,
    stop: report.stopReason === 'none' ? -1 : STOP_REASONS.indexOf(report.stopReason),
    finalLoss: report.finalLoss,
    finalScore: report.finalScore ?? 0,
    hasScore: report.finalScore === null ? 0 : 1,
  };
  FIELDS.forEach((f, i) => (row[i] = values[f]!));
  if (ctx.size > 1) await ctx.allreduce(table, table, 'sum', group);
  // over a group of survivors, the lost ranks' rows stayed zero: they are left out, not reported as zeros
  const ranks = group ? [...group.ranks] : Array.from({ length: ctx.size }, (_, r) => r);
  return ranks.map((r) => {
    const get = (f: (typeof FIELDS)[number]): number => table[r * width + FIELDS.indexOf(f)]!;
    const counters = emptyCounters();
    for (const key of Object.keys(counters) as (keyof RankCounters)[]) counters[key] = get(key);
    const stop = get('stop');
    return {
      rank: r,
      steps: get('steps'),
      samples: get('samples'),
      seconds: get('seconds'),
      stopReason: stop < 0 ? 'none' : STOP_REASONS[stop]!,
      finalLoss: get('finalLoss'),
      finalScore: get('hasScore') ? get('finalScore') : null,
      counters,
    };
  });
}

export function summarize(solver: string, reports: RankReport[], histogram?: number[]): RunSummary {
  const totals = emptyCounters();
  for (const r of reports) {
    for (const key of Object.keys(totals) as (keyof RankCounters)[]) {
      totals[key] = key === 'stalenessMax' ? Math.max(totals[key], r.counters[key]) : totals[key] + r.counters[key];
    }
  }
  const seconds = Math.max(...reports.map((r) => r.seconds));
  const totalSamples = reports.reduce((s, r) => s + r.samples, 0);
  const losses = reports.map((r) => r.finalLoss);
  return {
    solver,
    ranks: reports.length,
    seconds,
    steps: reports.map((r) => r.steps),
    totalSamples,
    samplesPerSecond: seconds > 0 ? totalSamples / seconds : 0,
    finalLoss: losses,
    meanFinalLoss: losses.reduce((a, b) => a + b, 0) / losses.length,
    finalScore: reports.map((r) => r.finalScore),
    stopReasons: reports.map((r) => r.stopReason),
    totals,
    acceptRate: totals.received > 0 ? totals.accepted / totals.received : null,
    staleness: totals.stalenessCount > 0
      ? { count: totals.stalenessCount, mean: totals.stalenessSum / totals.stalenessCount, max: totals.stalenessMax, ...(histogram ? { histogram } : {}) }
      : null,
  };
}

export function writeSummary(dir: string, summary: RunSummary): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, finite, 2)}\n`);
}

/** Every line of every `rank-<r>.jsonl` in `dir`, per rank (rank order). */
export function readMetricsFiles(dir: string): Record<string, unknown>[][] {
  const files = readdirSync(dir).filter((f) => /^rank-\d+\.jsonl$/.test(f));
  files.sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
  return files.map((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>));
}

/**
 * The run summary rebuilt from the metrics files alone (for a launcher that collected them from the
 * ranks' machines): each rank's final line carries its totals.
 */
export function summarizeMetricsDir(dir: string): RunSummary {
  const perRank = readMetricsFiles(dir);
  let solver = 'unknown';
  const reports: RankReport[] = perRank.map((lines, rank) => {
    const last = [...lines].reverse().find((l) => l.final === true) ?? lines.at(-1) ?? {};
    if (typeof last.solver === 'string') solver = last.solver;
    const counters = emptyCounters();
    for (const key of Object.keys(counters) as (keyof RankCounters)[]) counters[key] = Number(last[key] ?? 0);
    const stop = String(last.stopReason ?? 'none');
    return {
      rank,
      steps: Number(last.step ?? 0),
      samples: counters.samples,
      seconds: Number(last.seconds ?? last.time ?? 0),
      stopReason: (STOP_REASONS as readonly string[]).includes(stop) ? (stop as StopReason) : 'none',
      finalLoss: last.evalLoss === null || last.evalLoss === undefined ? NaN : Number(last.evalLoss),
      finalScore: last.score === null || last.score === undefined ? null : Number(last.score),
      counters,
    };
  });
  return summarize(solver, reports);
}
