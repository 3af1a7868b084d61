/**
 * Runs the `kmeans` command as a real job and returns its summary.json: over `threads` one process
 * hosts every rank as a thread (PGAS_SIZE without PGAS_RANK); over `uws` one process per rank, started
 * by the environment contract (bench/job.ts). Used by the scaling, convergence, ablation, sources and
 * terabyte suites.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runRankJob, spawnNode } from './job.js';

export interface KmeansTrace {
  seconds: number[];
  /** samples this rank had drawn */
  samples: number[];
  error: number[];
}

export interface KmeansSummary {
  solver: string;
  ranks: number;
  totalSamples: number;
  wallSeconds: number;
  samplesPerSecond: number;
  stopReason: string;
  centreError: { mean: number; recovered: number } | null;
  inertiaPerPoint: number;
  perRank: { rank: number; samples: number; steps: number; seconds: number; error: number; trace: KmeansTrace }[];
}

export interface KmeansJob {
  ranks: number;
  transport: 'threads' | 'uws';
  /** kmeans flags (without --out and --progress-every) */
  args: string[];
  /** progress lines of rank 0 every this many seconds, passed to `onProgress` (default: none) */
  progressEvery?: number;
  onProgress?: (line: string) => void;
  timeoutMs?: number;
}

const CLI = fileURLToPath(new URL('../kmeans/cli.js', import.meta.url));

export class KmeansJobError extends Error {
  override name = 'KmeansJobError';
}

function readSummary(out: string, what: string, stderr: string): KmeansSummary {
  try {
    return JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as KmeansSummary;
  } catch {
    throw new KmeansJobError(`kmeans ${what} left no summary:\n${stderr.slice(-2000)}`);
  }
}

export async function runKmeansJob(job: KmeansJob): Promise<KmeansSummary> {
  const out = mkdtempSync(join(tmpdir(), 'bench-kmeans-'));
  const args = [...job.args, '--progress-every', String(job.progressEvery ?? 0), '--out', out];
  const what = `${job.args.join(' ')} on ${job.ranks} ${job.transport} rank(s)`;
  try {
    if (job.transport === 'uws') {
      const result = await runRankJob({ transport: 'uws', size: job.ranks, entry: CLI, args, timeoutMs: job.timeoutMs ?? 600_000 });
      if (result.codes.some((c) => c !== 0)) throw new KmeansJobError(`kmeans ${what} failed (exit codes ${JSON.stringify(result.codes)}):\n${result.stderr.slice(-2000)}`);
      return readSummary(out, what, result.stderr);
    }
    const env: NodeJS.ProcessEnv = { ...process.env, PGAS_TRANSPORT: 'threads', PGAS_SIZE: String(job.ranks) };
    delete env.PGAS_RANK;
    // spawnNode tracks the child: it is killed if the benchmark is interrupted
    const child = spawnNode(CLI, args, env);
    child.stdout!.resume();
    let stderr = '';
    let partial = '';
    child.stderr!.on('data', (b: Buffer) => {
      const text = b.toString();
      stderr = (stderr + text).slice(-20000);
      if (!job.onProgress) return;
      partial += text;
      const lines = partial.split(/\r|\n/);
      partial = lines.pop()!;
      for (const line of lines) if (line.trim() !== '') job.onProgress(line.trim());
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), job.timeoutMs ?? 600_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    if (code !== 0) throw new KmeansJobError(`kmeans ${what} exited ${code}:\n${stderr.slice(-2000)}`);
    return readSummary(out, what, stderr);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** First wall time at which every rank's error is ≤ target (the slowest rank decides), NaN if never. */
export function timeToError(summary: { perRank: { trace: Pick<KmeansTrace, 'seconds' | 'error'> }[] }, target: number): number {
  let worst = 0;
  for (const rank of summary.perRank) {
    const i = rank.trace.error.findIndex((e) => e <= target);
    if (i < 0) return NaN;
    worst = Math.max(worst, rank.trace.seconds[i]!);
  }
  return worst;
}

/** Samples drawn by all ranks when every rank's error first was ≤ target (NaN if never). */
export function samplesToError(summary: KmeansSummary, target: number): number {
  let total = 0;
  for (const rank of summary.perRank) {
    const i = rank.trace.error.findIndex((e) => e <= target);
    if (i < 0) return NaN;
    total += rank.trace.samples[i]!;
  }
  return total;
}
