/**
 * A rank's health on the dashboard, from everything the launcher knows about it: its process exit (seen
 * by the launcher the moment it happens, locally or through ssh), its feed connection (closed when the
 * process dies, wherever it runs), its reports (the feed's heartbeat: at least twice a second while the
 * rank's event loop turns), the PGAS health vectors other ranks report (their heartbeat and connection
 * view of it), and its rate next to the others'.
 */
import { describeExit, exitFailed, type RankExit } from '../rank-process.js';
import type { RankHealth } from './messages.js';

export interface HealthInput {
  /** the exit the launcher saw, if the rank's process has ended */
  exit: RankExit | undefined;
  /** pgas-run itself stopped it (the job's end says so) */
  stoppedByLauncher?: boolean;
  /** ms since the rank's last report; undefined if it never reported */
  silentMs: number | undefined;
  /** ms since its feed connection closed while its process had not (yet) been seen to exit */
  lostMs: number | undefined;
  /** how many running ranks report this rank dead in their health vector */
  seenDeadBy: number;
  rate: number | null;
  /** the median rate of the running ranks (null with fewer than two rates) */
  medianRate: number | null;
}

export interface HealthThresholds {
  /** no report for this long: slow (the feed resends at least every 500 ms while the rank is responsive) */
  silentSlowMs: number;
  /** feed connection gone this long without an exit being seen: dead (a local exit is seen within ms) */
  lostDeadMs: number;
  /** a rate below this fraction of the median: slow */
  slowRateFraction: number;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = { silentSlowMs: 1500, lostDeadMs: 1000, slowRateFraction: 0.5 };

export interface HealthVerdict {
  health: RankHealth;
  reason: string;
}

export function classifyHealth(input: HealthInput, th: HealthThresholds = DEFAULT_THRESHOLDS): HealthVerdict {
  if (input.exit !== undefined) {
    if (input.stoppedByLauncher && exitFailed(input.exit)) return { health: 'stopped', reason: `stopped by pgas-run (${describeExit(input.exit)})` };
    return exitFailed(input.exit) ? { health: 'dead', reason: describeExit(input.exit) } : { health: 'done', reason: 'exited with code 0' };
  }
  if (input.seenDeadBy > 0) {
    return { health: 'dead', reason: `seen dead by ${input.seenDeadBy} rank${input.seenDeadBy === 1 ? '' : 's'} (PGAS heartbeat)` };
  }
  if (input.lostMs !== undefined && input.lostMs >= th.lostDeadMs) {
    return { health: 'dead', reason: `lost contact ${(input.lostMs / 1000).toFixed(1)} s ago` };
  }
  if (input.silentMs === undefined) return { health: 'starting', reason: 'no report yet' };
  if (input.silentMs >= th.silentSlowMs) return { health: 'slow', reason: `no report for ${(input.silentMs / 1000).toFixed(1)} s` };
  if (input.rate !== null && input.medianRate !== null && input.medianRate > 0 && input.rate < th.slowRateFraction * input.medianRate) {
    return { health: 'slow', reason: `${Math.round((100 * input.rate) / input.medianRate)}% of the median rate` };
  }
  return { health: 'alive', reason: '' };
}

export function median(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
