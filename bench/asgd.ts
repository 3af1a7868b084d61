/**
 * The cost of ASGD's state exchange (`npm run bench -- asgd`): steps per second of `asgd` exchanging
 * its state every step against the same run with exchangeEvery = ∞ (no communication), on 2 ranks,
 * for states of 1,000 and 1,000,000 floats. Each run is a real job (a child process hosting the rank
 * threads, or one process per rank over uws); the rate is the mean over ranks of each rank's
 * steady-state steps per second. Figures are reported, never asserted.
 *
 * The model is the quadratic ½‖w − x‖² on `batch` samples per step, so a step costs about batch·dim
 * multiply-adds: the exchange overhead is relative to that work, and every record states it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { AsgdRankSpec } from './asgd-rank.js';
import { freePort } from '../runtime/launcher/free-port.js';

export interface AsgdBenchOptions {
  /** state sizes in floats (default 1,000 and 1,000,000) */
  sizes?: number[];
  /** samples per step (default 16) */
  batch?: number;
  /** ranks (default 2) */
  ranks?: number;
  /** wall-clock seconds per run (default 4; quick: 1.5) */
  seconds?: number;
  /** exchange periods to compare with the run without exchange (default [1]; ∞ is always run) */
  exchangeEvery?: number[];
  /** what a due send does while the previous put is in flight (default ['wait']; ['wait', 'skip'] runs both) */
  busyOutbox?: ('wait' | 'skip')[];
  transport?: 'threads' | 'uws';
  /** runs per configuration, interleaved with the other configurations of the same size (default 3; quick: 1); the median is reported */
  repeats?: number;
  /** short runs (a smoke test of the benchmark itself) */
  quick?: boolean;
  log?: (line: string) => void;
}

export interface AsgdBenchRecord {
  suite: 'asgd';
  name: string;
  transport: 'threads' | 'uws';
  ranks: number;
  /** floats in the state */
  stateFloats: number;
  batch: number;
  exchangeEvery: number | 'Infinity';
  busyOutbox: 'wait' | 'skip';
  /** median over the repeats of the mean over ranks of the steady-state steps per second */
  stepsPerSecond: number;
  /** every repeat's mean over ranks */
  repeats: number[];
  /** per rank, in the median repeat */
  perRank: number[];
  /** for exchanging runs: how much slower than the run without exchange of the same size (fraction) */
  slowdown?: number;
  sent: number;
  sendSkipped: number;
  received: number;
  accepted: number;
  superseded: number;
  /** share of the run's wall time spent taking in and sending states (measured inside the run, so it
   *  does not depend on how loaded the machine was between runs), median over repeats */
  exchangeShare: number;
  /** milliseconds per step spent taking in and sending states (median over repeats) */
  exchangeMsPerStep: number;
  seconds: number;
}

interface RankLine {
  /** steady state (after the warm-up) */
  stepsPerSecond: number;
  steps: number;
  seconds: number;
  exchangeSeconds: number;
  /** whole run */
  counters: Record<string, number>;
}

async function runJob(transport: 'threads' | 'uws', ranks: number, spec: AsgdRankSpec): Promise<RankLine[]> {
  const entry = fileURLToPath(new URL('./asgd-rank.js', import.meta.url));
  const port = await freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PGAS_TRANSPORT: transport,
    PGAS_SIZE: String(ranks),
    PGAS_RENDEZVOUS: `127.0.0.1:${port}`,
    PGAS_TOKEN: randomBytes(16).toString('hex'),
  };
  const procs = transport === 'threads' ? [undefined] : Array.from({ length: ranks }, (_, r) => r);
  let stdout = '';
  let stderr = '';
  const children = procs.map((rank) => {
    const childEnv = { ...env };
    if (rank === undefined) delete childEnv.PGAS_RANK;
    else childEnv.PGAS_RANK = String(rank);
    const child = spawn(process.execPath, [entry, JSON.stringify(spec)], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return child;
  });
  const timer = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), (spec.seconds + 120) * 1000);
  const codes = await Promise.all(children.map((c) => new Promise<number | null>((resolve) => c.on('exit', resolve))));
  clearTimeout(timer);
  const lines: RankLine[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^BENCH (\d+) (.*)$/.exec(line.trim());
    if (m) lines[Number(m[1])] = JSON.parse(m[2]!) as RankLine;
  }
  if (lines.filter(Boolean).length !== ranks || codes.some((c) => c !== 0)) {
    throw new Error(`asgd bench job failed (exit codes ${JSON.stringify(codes)}):\n${stderr}`);
  }
  return lines;
}

export async function runAsgdBench(options: AsgdBenchOptions = {}): Promise<AsgdBenchRecord[]> {
  const sizes = options.sizes ?? [1000, 1_000_000];
  const batch = options.batch ?? 16;
  const ranks = options.ranks ?? 2;
  const seconds = options.seconds ?? (options.quick ? 1.5 : 4);
  const periods = (options.exchangeEvery ?? [1, Infinity]).filter((p) => p !== Infinity);
  const policies = options.busyOutbox ?? ['wait'];
  const transport = options.transport ?? 'threads';
  const log = options.log ?? (() => {});
  const records: AsgdBenchRecord[] = [];
  const repeats = options.repeats ?? (options.quick ? 1 : 3);
  // the run without exchange first, so that the others can be set against it
  const configs: { every: number; busy: 'wait' | 'skip' }[] = [{ every: Infinity, busy: 'wait' }];
  for (const every of [...periods].sort((a, b) => a - b)) for (const busy of policies) configs.push({ every, busy });
  for (const stateFloats of sizes) {
    const runs = configs.map(() => [] as RankLine[][]);
    // interleaved repeats: a machine shared with other work slows all configurations alike
    for (let rep = 0; rep < repeats; rep++) {
      for (const [i, { every, busy }] of configs.entries()) {
        const exchangeEvery = every === Infinity ? 'Infinity' as const : every;
        log(`asgd bench: ${transport}, ${ranks} ranks, state ${stateFloats}, batch ${batch}, exchangeEvery ${exchangeEvery}${every === Infinity ? '' : `, busy outbox: ${busy}`}, ${seconds} s (repeat ${rep + 1}/${repeats})`);
        runs[i]!.push(await runJob(transport, ranks, {
          dim: stateFloats, rows: Math.max(4 * batch, 64), batch, seconds, warmup: 0.25, exchangeEvery, window: 'parzen', busyOutbox: busy, seed: 1,
        }));
      }
    }
    let baseline: number | undefined;
    for (const [i, { every, busy }] of configs.entries()) {
      const all = runs[i]!;
      const means = all.map((lines) => lines.reduce((s, l) => s + l.stepsPerSecond, 0) / lines.length);
      const order = means.map((_, j) => j).sort((a, b) => means[a]! - means[b]!);
      const median = order[Math.floor((order.length - 1) / 2)]!;
      const lines = all[median]!;
      const stepsPerSecond = means[median]!;
      const total = (key: string): number => lines.reduce((s, l) => s + (l.counters[key] ?? 0), 0);
      const share = (ls: RankLine[]): number => ls.reduce((s, l) => s + l.exchangeSeconds / l.seconds, 0) / ls.length;
      const perStep = (ls: RankLine[]): number => ls.reduce((s, l) => s + (1000 * l.exchangeSeconds) / Math.max(1, l.steps), 0) / ls.length;
      if (every === Infinity) baseline = stepsPerSecond;
      records.push({
        suite: 'asgd',
        name: `asgd ${stateFloats} floats, exchange ${every === Infinity ? 'never' : `every ${every}, busy outbox: ${busy}`}`,
        transport, ranks, stateFloats, batch, exchangeEvery: every === Infinity ? 'Infinity' : every,
        busyOutbox: busy,
        stepsPerSecond, repeats: means, perRank: lines.map((l) => l.stepsPerSecond),
        ...(every !== Infinity && baseline !== undefined ? { slowdown: 1 - stepsPerSecond / baseline } : {}),
        sent: total('sent'), sendSkipped: total('sendSkipped'), received: total('received'), accepted: total('accepted'), superseded: total('superseded'),
        exchangeShare: middle(all.map(share)),
        exchangeMsPerStep: middle(all.map(perStep)),
        seconds,
      });
    }
  }
  return records;
}

function middle(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
}

export function formatAsgdTable(records: AsgdBenchRecord[]): string {
  const header = ['state floats', 'batch', 'exchange', 'steps/s (median)', 'repeats', 'slower than ∞', 'time in exchange', 'ms/step in exchange', 'sent', 'skipped', 'received', 'accepted'];
  const rows = records.map((r) => [
    r.stateFloats.toLocaleString('en'),
    String(r.batch),
    r.exchangeEvery === 'Infinity' ? 'never (∞)' : `every ${r.exchangeEvery}${r.busyOutbox === 'skip' ? ', skip busy' : ''}`,
    r.stepsPerSecond.toFixed(1),
    r.repeats.map((v) => v.toFixed(1)).join(' / '),
    r.slowdown === undefined ? '' : `${(100 * r.slowdown).toFixed(1)} %`,
    r.exchangeEvery === 'Infinity' ? '' : `${(100 * r.exchangeShare).toFixed(1)} %`,
    r.exchangeEvery === 'Infinity' ? '' : r.exchangeMsPerStep.toFixed(3),
    String(r.sent),
    String(r.sendSkipped),
    String(r.received),
    String(r.accepted),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const first = records[0];
  const title = first
    ? `asgd exchange overhead (${first.transport}, ${first.ranks} ranks, quadratic model, ${first.seconds} s per run; steps/s is the mean over ranks, the median over repeats)`
    : 'asgd exchange overhead';
  return [title, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** print the table to stdout */
export function printAsgdTable(records: AsgdBenchRecord[]): void {
  process.stdout.write(`${formatAsgdTable(records)}\n`);
}
