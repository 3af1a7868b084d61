/**
 * The end-of-job report on stderr. Ranks with the same outcome are grouped ("exit 0: ranks 0-6,8"), so
 * the summary stays a few lines for a thousand ranks.
 */
import { compressRanks } from './placement.js';
import { describeExit, type RankExit } from './rank-process.js';

export interface RankOutcome {
  label: string;
  rank: number | undefined;
  host: string;
  exit: RankExit;
  /** true when pgas-run stopped it (job failure or interrupt), false when it ended on its own */
  stoppedByLauncher: boolean;
  /** when the launcher saw it exit, in ms since the job started */
  atMs?: number;
}

export interface JobReport {
  size: number;
  transport: string;
  hosts: string;
  wallMs: number;
  outcomes: RankOutcome[];
  /** ranks that failed on their own (with --tolerate-failures the job went on without them) */
  dead: RankOutcome[];
  /** the reason the job failed, or undefined */
  failure: string | undefined;
  exitCode: number;
}

function outcomeText(o: RankOutcome): string {
  if (o.exit.error !== undefined) return `error (${o.exit.error})`;
  const base = o.exit.signal !== null ? o.exit.signal : `exit ${o.exit.code}`;
  return o.stoppedByLauncher && (o.exit.signal !== null || o.exit.code !== 0) ? `${base} (stopped by pgas-run)` : base;
}

function labelList(outcomes: readonly RankOutcome[]): string {
  const ranks = outcomes.map((o) => o.rank).filter((r): r is number => r !== undefined);
  if (ranks.length === outcomes.length) return `${ranks.length === 1 ? 'rank' : 'ranks'} ${compressRanks(ranks)}`;
  return outcomes.map((o) => `${o.label.includes('-') ? 'ranks' : 'rank'} ${o.label}`).join(', ');
}

/** "3.21 s after start": when the launcher saw a rank end */
export function formatSince(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s after start`;
}

export function formatSummary(r: JobReport): string {
  const lines: string[] = [];
  const secs = (r.wallMs / 1000).toFixed(2);
  lines.push(`pgas-run: ${r.size} rank${r.size === 1 ? '' : 's'}, transport ${r.transport}, on ${r.hosts}, wall time ${secs} s`);
  const groups = new Map<string, RankOutcome[]>();
  for (const o of r.outcomes) {
    const key = outcomeText(o);
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  lines.push(`pgas-run: ${[...groups].map(([k, os]) => `${k}: ${labelList(os)}`).join('; ')}`);
  if (r.dead.length) {
    lines.push(`pgas-run: dead ranks: ${r.dead.map((o) => `${o.label} (${describeExit(o.exit)} on ${o.host})${o.atMs === undefined ? '' : ` ${formatSince(o.atMs)}`}`).join(', ')}`);
  }
  if (r.failure) lines.push(`pgas-run: job failed: ${r.failure}`);
  lines.push(`pgas-run: exit status ${r.exitCode}`);
  return `${lines.join('\n')}\n`;
}
