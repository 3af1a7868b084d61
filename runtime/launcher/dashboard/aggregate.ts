/**
 * The launcher's picture of a running job for the dashboard: the ranks' metric records, their feed
 * connections and process exits go in; ticks (what the page shows now) and the history of the curves
 * come out. Pure: every call takes the time (launcher's monotonic ms), so tests can drive it exactly.
 */
import type { MetricsRecord } from '../../metrics-feed/record.js';
import type { RankExit } from '../rank-process.js';
import { classifyHealth, DEFAULT_THRESHOLDS, median, type HealthThresholds } from './health.js';
import { History } from './history.js';
import type { HelloMessage, JobMeta, JobView, RankHealth, RankView, TickMessage } from './messages.js';

/** samples/s is measured over the reports of about this long (rank clock) */
const RATE_WINDOW_MS = 2000;
/** and not over less than this (two reports 1 ms apart say nothing about a rate) */
const MIN_RATE_SPAN_MS = 150;

interface RankTrack {
  record: MetricsRecord | undefined;
  lastReportAt: number | undefined;
  /** (rank time, samples) of recent reports */
  window: { time: number; samples: number }[];
  rate: number | null;
  lostAt: number | undefined;
  exit: RankExit | undefined;
  stoppedByLauncher: boolean;
}

export class JobAggregator {
  readonly history: History;
  private readonly ranks: RankTrack[];

  constructor(
    readonly meta: JobMeta,
    /** the launcher's monotonic clock (ms) at the job's start */
    private readonly startedAt: number,
    historyCapacity = 2000,
    private readonly thresholds: HealthThresholds = DEFAULT_THRESHOLDS,
  ) {
    this.history = new History(meta.size, historyCapacity);
    this.ranks = Array.from({ length: meta.size }, () => ({
      record: undefined, lastReportAt: undefined, window: [], rate: null, lostAt: undefined, exit: undefined, stoppedByLauncher: false,
    }));
  }

  /** A validated record from rank `record.rank` arrived at `now`. */
  ingest(record: MetricsRecord, now: number): void {
    const track = this.ranks[record.rank]!;
    if (track.record !== undefined && record.time < track.record.time) track.window.length = 0; // a restarted feed
    track.record = record;
    track.lastReportAt = now;
    track.lostAt = undefined;
    if (record.samples !== undefined) {
      const w = track.window;
      w.push({ time: record.time, samples: record.samples });
      while (w.length > 2 && record.time - w[1]!.time >= RATE_WINDOW_MS) w.shift();
      const span = record.time - w[0]!.time;
      if (span >= MIN_RATE_SPAN_MS) track.rate = Math.max(0, ((record.samples - w[0]!.samples) * 1000) / span);
    }
  }

  /** The feed connection of `rank` closed (its process may have died, or be about to exit). */
  feedClosed(rank: number, now: number): void {
    const track = this.ranks[rank];
    if (track && track.exit === undefined) track.lostAt = now;
  }

  /** The launcher saw a rank process end; `rank` undefined: the one process of every rank (threads). */
  rankExited(rank: number | undefined, exit: RankExit): void {
    const targets = rank === undefined ? this.ranks : [this.ranks[rank]].filter((t) => t !== undefined);
    for (const t of targets) t.exit = exit;
  }

  /** The job's end report says pgas-run stopped this rank (`undefined`: every rank of a threads job). */
  rankStoppedByLauncher(rank: number | undefined): void {
    const targets = rank === undefined ? this.ranks : [this.ranks[rank]].filter((t) => t !== undefined);
    for (const t of targets) t.stoppedByLauncher = true;
  }

  private rankView(r: number, now: number, medianRate: number | null, seenDeadBy: number[]): RankView {
    const track = this.ranks[r]!;
    const rec = track.record;
    const verdict = classifyHealth({
      exit: track.exit,
      stoppedByLauncher: track.stoppedByLauncher,
      silentMs: track.lastReportAt === undefined ? undefined : now - track.lastReportAt,
      lostMs: track.lostAt === undefined ? undefined : now - track.lostAt,
      seenDeadBy: seenDeadBy[r]!,
      rate: track.rate,
      medianRate,
    }, this.thresholds);
    const running = verdict.health !== 'dead' && verdict.health !== 'done' && verdict.health !== 'stopped';
    return {
      rank: r,
      host: rec?.host ?? '',
      pid: rec?.pid ?? null,
      health: verdict.health,
      reason: verdict.reason,
      rate: running ? track.rate : null,
      samples: rec?.samples ?? null,
      steps: rec?.steps ?? null,
      loss: rec?.loss ?? null,
      error: rec?.error ?? null,
      sent: rec?.sent ?? null,
      received: rec?.received ?? null,
      accepted: rec?.accepted ?? null,
      progress: verdict.health === 'done' ? 1 : rec?.progress ?? null,
      transport: rec?.transport ?? null,
      solver: rec?.solver ?? null,
    };
  }

  /** What the page shows at `now`. */
  view(now: number): TickMessage {
    // Health vectors: a rank counts as seen dead when a rank that is itself still running says so.
    const seenDeadBy = new Array<number>(this.meta.size).fill(0);
    this.ranks.forEach((track) => {
      if (track.exit !== undefined || track.lostAt !== undefined) return;
      for (const d of track.record?.deadPeers ?? []) seenDeadBy[d]!++;
    });
    const runningRates = this.ranks
      .filter((t) => t.exit === undefined && t.lostAt === undefined && t.rate !== null)
      .map((t) => t.rate!);
    const medianRate = median(runningRates);
    const ranks = this.ranks.map((_, r) => this.rankView(r, now, medianRate, seenDeadBy));
    return { type: 'tick', t: (now - this.startedAt) / 1000, job: this.jobView(ranks, now), ranks };
  }

  private jobView(ranks: RankView[], now: number): JobView {
    const counts: Record<RankHealth, number> = { starting: 0, alive: 0, slow: 0, dead: 0, done: 0, stopped: 0 };
    let progress: number | null = null;
    let eta: number | null = null;
    let rate = 0;
    for (const v of ranks) {
      counts[v.health]++;
      rate += v.rate ?? 0;
      if (v.health === 'dead' || v.health === 'stopped') continue;
      const p = v.progress;
      if (p !== null) progress = progress === null ? p : Math.min(progress, p);
      const rec = this.ranks[v.rank]!.record;
      if (v.health !== 'done' && p !== null && p > 0 && p < 1 && rec !== undefined) {
        const rankEta = (rec.time / 1000) * ((1 - p) / p);
        eta = eta === null ? rankEta : Math.max(eta, rankEta);
      }
    }
    return { elapsed: (now - this.startedAt) / 1000, progress, eta, rate, counts };
  }

  /** view(now), and its curves' values appended to the history */
  tick(now: number): TickMessage {
    const tick = this.view(now);
    this.history.add(
      tick.t,
      tick.ranks.map((v) => v.rate),
      tick.ranks.map((v) => (v.health === 'dead' ? null : v.loss)),
      tick.ranks.map((v) => (v.health === 'dead' ? null : v.error)),
    );
    return tick;
  }

  hello(now: number): HelloMessage {
    return { type: 'hello', meta: this.meta, history: this.history.data, tick: this.view(now) };
  }
}
