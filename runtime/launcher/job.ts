/**
 * Job control: start every rank, forward its output, watch exits, stop the job when a rank fails (or
 * go on without it under --tolerate-failures), stop everything on SIGINT / SIGTERM / SIGHUP, and
 * compute the exit status.
 *
 * Stopping is two-step everywhere: terminate() (SIGTERM locally; EOF to the remote shim, which
 * SIGTERMs the program), then kill() after the grace period for ranks still running. A second Ctrl-C
 * skips the grace period.
 */
import { constants as osConstants } from 'node:os';
import type { OutputSink } from './output.js';
import { describeExit, exitFailed, type RankExit, type RankProcess } from './rank-process.js';
import { formatSince, formatSummary, type JobReport, type RankOutcome } from './summary.js';
import { takeStatsSummary } from './stats-collector.js';

export interface JobSpec {
  /** starts the ranks; called once, after signal handlers are in place */
  start: () => RankProcess[];
  size: number;
  transport: string;
  hosts: string;
  tolerateFailures: boolean;
  killGraceMs: number;
  sink: OutputSink;
  /** 'full': the summary after every job; 'failures': only when something failed (srun/mpirun tasks) */
  summary: 'full' | 'failures';
  log?: (text: string) => void;
  /** told once, when the ranks have started (the dashboard watches their exits) */
  observer?: JobObserver;
}

export interface JobObserver {
  started(processes: readonly RankProcess[]): void;
}

/** How long output may still arrive after a rank has exited. */
const OUTPUT_DRAIN_MS = 5000;

/** "rank 3", or "ranks 0-7" for the one process of a threads job */
function who(p: RankProcess): string {
  return p.label.includes('-') ? `ranks ${p.label}` : `rank ${p.label}`;
}

function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 0);
}

function exitStatus(e: RankExit): number {
  if (e.error !== undefined) return 1;
  if (e.signal !== null) return signalStatus(e.signal);
  return e.code ?? 1;
}

export async function runJob(spec: JobSpec): Promise<JobReport> {
  const log = spec.log ?? ((t: string) => { process.stderr.write(t); });
  const started = Date.now();
  let stopping = false;
  let interruptedBy: NodeJS.Signals | undefined;
  let failure: string | undefined;
  let failureStatus = 0;
  let killTimer: NodeJS.Timeout | undefined;
  const running = new Set<RankProcess>();
  const stoppedByUs = new Set<RankProcess>();

  const stopAll = (immediately: boolean): void => {
    stopping = true;
    for (const p of running) {
      stoppedByUs.add(p);
      if (immediately) p.kill();
      else p.terminate();
    }
    if (!immediately && killTimer === undefined && spec.killGraceMs >= 0) {
      killTimer = setTimeout(() => { for (const p of running) p.kill(); }, spec.killGraceMs);
    }
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (interruptedBy !== undefined) {
      stopAll(true); // a second Ctrl-C: no more grace
      return;
    }
    interruptedBy = signal;
    log(`pgas-run: received ${signal}, stopping ${running.size} rank(s)\n`);
    stopAll(false);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);

  const processes = spec.start();
  spec.observer?.started(processes);
  const outcomes: RankOutcome[] = [];
  const dead: RankOutcome[] = [];
  try {
    await Promise.all(processes.map(async (p) => {
      running.add(p);
      const output = spec.sink.attach(p.label, p.stdout, p.stderr);
      const exit = await p.exit;
      running.delete(p);
      p.reapLeftovers(); // a job leaves nothing behind, not even what a rank started and forgot
      const atMs = Date.now() - started;
      const outcome: RankOutcome = { label: p.label, rank: p.rank, host: p.host, exit, stoppedByLauncher: stoppedByUs.has(p), atMs };
      outcomes.push(outcome);
      if (exitFailed(exit) && !outcome.stoppedByLauncher) {
        dead.push(outcome);
        if (!spec.tolerateFailures && failure === undefined && !stopping) {
          failure = `${who(p)} ${describeExit(exit)} on ${p.host}; stopped the other ranks`;
          failureStatus = exitStatus(exit);
          stopAll(false);
        } else if (spec.tolerateFailures && !stopping) {
          log(`pgas-run: ${who(p)} ${describeExit(exit)} on ${p.host}; the job goes on without it (--tolerate-failures); ${formatSince(atMs)}\n`);
        }
      }
      // Normally the pipes drain within milliseconds of the exit; a process the rank left behind can
      // hold them open forever, and must not keep the launcher from finishing.
      let drainTimer: NodeJS.Timeout | undefined;
      await Promise.race([output, new Promise<void>((r) => { drainTimer = setTimeout(r, OUTPUT_DRAIN_MS); })]);
      clearTimeout(drainTimer);
    }));
  } finally {
    for (const s of signals) process.off(s, onSignal);
    if (killTimer) clearTimeout(killTimer);
  }

  outcomes.sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));
  dead.sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));
  let exitCode: number;
  if (interruptedBy !== undefined) {
    exitCode = signalStatus(interruptedBy);
    failure ??= `interrupted by ${interruptedBy}`;
  } else if (failure !== undefined) {
    exitCode = failureStatus === 0 ? 1 : failureStatus;
  } else if (dead.length === 0) {
    exitCode = 0;
  } else if (outcomes.some((o) => !exitFailed(o.exit))) {
    exitCode = 0; // --tolerate-failures and at least one rank completed
  } else {
    exitCode = exitStatus(dead[0]!.exit) || 1;
    failure = 'every rank failed';
  }
  const report: JobReport = {
    size: spec.size,
    transport: spec.transport,
    hosts: spec.hosts,
    wallMs: Date.now() - started,
    outcomes,
    dead,
    failure,
    exitCode,
  };
  if (spec.summary === 'full' || exitCode !== 0) log(formatSummary(report) + takeStatsSummary());
  return report;
}
