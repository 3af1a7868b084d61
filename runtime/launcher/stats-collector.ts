/**
 * pgas-run --stats: every rank prints one `PGAS_STATS {json}` line when it closes its context (it does
 * so when PGAS_STATS=1, which --stats sets). The output forwarder hands such lines here instead of
 * printing them, and the job's summary ends with the formatted counters of every rank.
 */
import { formatStats, STATS_LINE_PREFIX, type RankStats } from '../../pgas/index.js';

const collected: RankStats[] = [];

/** If `line` is a stats record, keep it and return true (the forwarder then does not print it). */
export function collectStatsLine(line: Buffer): boolean {
  if (line.length < STATS_LINE_PREFIX.length || line.toString('latin1', 0, STATS_LINE_PREFIX.length) !== STATS_LINE_PREFIX) return false;
  try {
    collected.push(JSON.parse(line.toString('utf8').slice(STATS_LINE_PREFIX.length)) as RankStats);
    return true;
  } catch {
    return false; // not a record after all: print it as it is
  }
}

/** The statistics section of the summary ('' when no rank reported), and forget what was collected. */
export function takeStatsSummary(): string {
  if (collected.length === 0) return '';
  const records = collected.splice(0).sort((a, b) => a.rank - b.rank);
  return `${records.flatMap((r) => formatStats(r)).map((l) => `pgas-run: stats ${l}`).join('\n')}\n`;
}
