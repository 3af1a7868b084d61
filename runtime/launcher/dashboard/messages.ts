/**
 * What the launcher sends to the dashboard page over its WebSocket (JSON), and what the static report
 * embeds. The page imports these as types only, so they cost nothing in the browser script.
 */

/** 'stopped': ended by pgas-run itself (Ctrl-C, or another rank's failure), not a failure of its own */
export type RankHealth = 'starting' | 'alive' | 'slow' | 'dead' | 'done' | 'stopped';

/** One rank as the page shows it. Numbers are null when not known yet. */
export interface RankView {
  rank: number;
  host: string;
  pid: number | null;
  health: RankHealth;
  /** why the rank has its health (exit status, "no report for 2.1 s", "42% of the median rate") */
  reason: string;
  /** samples per second over the last ~2 s of reports */
  rate: number | null;
  samples: number | null;
  steps: number | null;
  loss: number | null;
  error: number | null;
  sent: number | null;
  received: number | null;
  accepted: number | null;
  progress: number | null;
  transport: string | null;
  solver: string | null;
}

export interface JobView {
  /** seconds since the job started */
  elapsed: number;
  /** the least progress of the ranks still running (finished ranks count as 1), 0..1, or null */
  progress: number | null;
  /** seconds until the slowest running rank is expected to finish, or null */
  eta: number | null;
  /** all ranks' samples per second */
  rate: number;
  counts: Record<RankHealth, number>;
}

export interface JobMeta {
  program: string;
  size: number;
  transport: string;
  hosts: string;
  /** wall-clock start (ms since the epoch) */
  startedAt: number;
}

/** A point in time: job summary and every rank (or, from a test or benchmark, some of them). */
export interface TickMessage {
  type: 'tick';
  /** seconds since the job started */
  t: number;
  job: JobView;
  ranks: RankView[];
}

/**
 * Curves so far, column-wise: t[i] is the time of point i; rate[r][i] the rank's samples/s at that
 * time (null: no value). Bounded: when full, every other point is dropped.
 */
export interface HistoryData {
  t: number[];
  rate: (number | null)[][];
  loss: (number | null)[][];
  error: (number | null)[][];
}

export interface HelloMessage {
  type: 'hello';
  meta: JobMeta;
  history: HistoryData;
  tick: TickMessage;
}

export interface EndMessage {
  type: 'end';
  exitCode: number;
  /** the launcher's end-of-job summary lines */
  summary: string;
  /** where the static report was written, or null */
  reportPath: string | null;
}

export type DashboardMessage = HelloMessage | TickMessage | EndMessage;

/** What the static report embeds instead of a live connection. */
export interface StaticReportData {
  hello: HelloMessage;
  end: EndMessage;
}
