/**
 * K-Means benchmarks (`npm run bench -- kmeans`): the throughput of the assignment + update step per
 * core (d = 10, k = 10 and 100, points in memory and generated on the fly), Lloyd passes, the
 * generator alone, and optionally (`quality`) the error reached against wall time by ASGD on several
 * ranks and by single-process mini-batch K-Means on d = 10, k = 100, 10 M points, with a terabyte plan
 * extrapolated from the measured figures. Figures are reported, never asserted.
 *
 * Only the TypeScript path exists (there is no native K-Means kernel in the addon yet); every record
 * says which path produced it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assignAccumulate, centreNorms } from '../kmeans/kernels.js';
import { lloydUpdate } from '../kmeans/reference.js';
import { SyntheticData } from '../kmeans/synthetic.js';
import { timeToError } from './kmeans-job.js';

export interface KmeansBenchOptions {
  /** seconds per throughput measurement (default 2; quick: 0.5) */
  seconds?: number;
  /** short measurements, 2 M points for quality (a smoke run) */
  quick?: boolean;
  /** also run the quality-against-time comparison and the terabyte plan (spawns jobs; tens of seconds) */
  quality?: boolean;
  /** ranks for the ASGD quality run (default 2) */
  ranks?: number;
  /** progress lines */
  log?: (line: string) => void;
}

export interface KmeansBenchRecord {
  suite: 'kmeans';
  name: string;
  /** which implementation produced the figure */
  path: 'typescript' | 'native';
  d: number;
  k: number;
  /** where points come from: an array in memory, or the counter-based generator during the run */
  data: 'in-memory' | 'generated' | 'none';
  value: number;
  unit: string;
  /** a scikit-learn figure from the issue to set this one against, when there is one */
  reference?: { value: number; unit: string; what: string };
  note?: string;
}

const SKLEARN_LLOYD = { value: 3.7e6, unit: 'points·iterations/s', what: 'scikit-learn 1.2 KMeans (Lloyd), 1 thread, d=10, k=100' };
const SKLEARN_MINIBATCH = { value: 2.9e6, unit: 'points/s', what: 'scikit-learn 1.2 MiniBatchKMeans, 1 thread, d=10, k=100' };
const SKLEARN_QUALITY = { error: 0.014, seconds: 3.4, what: 'scikit-learn MiniBatchKMeans (batch 4096), one pass over 10 M points, 1 core' };
const BATCH = 4096;

/** Run `body` repeatedly for about `seconds` after a short warm-up; returns items per second. */
function throughput(seconds: number, itemsPerCall: number, body: () => void): number {
  const warm = performance.now();
  while (performance.now() - warm < Math.min(300, seconds * 250)) body();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < seconds * 1000) {
    body();
    calls++;
    now = performance.now();
  }
  return (calls * itemsPerCall) / ((now - start) / 1000);
}

/** One mini-batch step as the solvers run it: ‖c‖², assign + accumulate, the per-centre update. */
function stepper(d: number, k: number, centres: Float32Array) {
  const norms = new Float64Array(k);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const running = new Float64Array(k);
  return (x: Float32Array, offset: number, n: number): void => {
    centreNorms(centres, k, d, norms);
    sums.fill(0);
    counts.fill(0);
    assignAccumulate(x, offset, n, d, centres, k, norms, sums, counts);
    for (let c = 0; c < k; c++) {
      const added = counts[c]!;
      if (added === 0) continue;
      const total = (running[c] = running[c]! + added);
      const base = c * d;
      for (let j = 0; j < d; j++) centres[base + j] = centres[base + j]! - (added * centres[base + j]! - sums[base + j]!) / total;
    }
  };
}

function kernelRecords(seconds: number, log: (line: string) => void): KmeansBenchRecord[] {
  const records: KmeansBenchRecord[] = [];
  const d = 10;
  const memoryPoints = 1 << 20;
  for (const k of [10, 100]) {
    const data = new SyntheticData({ seed: 1, points: 1e12, dim: d, kTrue: k });
    const x = new Float32Array(memoryPoints * d);
    data.fill(0, memoryPoints, x);
    // Centres start at the truth plus a little: the state a run spends its time in.
    const centres = Float32Array.from(data.centres, (v, i) => v + (i % 3 === 0 ? 0.01 : -0.01));
    const step = stepper(d, k, centres);
    let at = 0;
    const inMemory = throughput(seconds, BATCH, () => {
      if (at + BATCH > memoryPoints) at = 0;
      step(x, at * d, BATCH);
      at += BATCH;
    });
    log(`kmeans: assign+update d=${d} k=${k} in memory: ${(inMemory / 1e6).toFixed(2)} M points/s`);
    records.push({
      suite: 'kmeans', name: 'assign+update (mini-batch step)', path: 'typescript', d, k, data: 'in-memory', value: inMemory, unit: 'points/s per core',
      ...(k === 100 ? { reference: SKLEARN_MINIBATCH } : {}), note: `batch ${BATCH}, per-centre (Sculley) update`,
    });
    const batch = new Float32Array(BATCH * d);
    let index = 0;
    const generated = throughput(seconds, BATCH, () => {
      data.fill(index, index + BATCH, batch);
      index += BATCH;
      step(batch, 0, BATCH);
    });
    log(`kmeans: assign+update d=${d} k=${k} generated on the fly: ${(generated / 1e6).toFixed(2)} M points/s`);
    records.push({
      suite: 'kmeans', name: 'assign+update (mini-batch step)', path: 'typescript', d, k, data: 'generated', value: generated, unit: 'points/s per core',
      ...(k === 100 ? { reference: SKLEARN_MINIBATCH } : {}), note: `batch ${BATCH}; Philox4x32-10 + Box-Muller generation included`,
    });
    // Lloyd: full passes over the in-memory points, one update per pass.
    const lloydPoints = 1 << 18;
    const norms = new Float64Array(k);
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    const lc = centres.slice();
    const lloyd = throughput(seconds, lloydPoints, () => {
      centreNorms(lc, k, d, norms);
      sums.fill(0);
      counts.fill(0);
      assignAccumulate(x, 0, lloydPoints, d, lc, k, norms, sums, counts);
      lloydUpdate(lc, k, d, sums, counts);
    });
    log(`kmeans: Lloyd d=${d} k=${k}: ${(lloyd / 1e6).toFixed(2)} M points·iterations/s`);
    records.push({
      suite: 'kmeans', name: 'Lloyd iteration', path: 'typescript', d, k, data: 'in-memory', value: lloyd, unit: 'points·iterations/s per core',
      ...(k === 100 ? { reference: SKLEARN_LLOYD } : {}), note: `${lloydPoints} points per pass`,
    });
  }
  const data = new SyntheticData({ seed: 1, points: 1e12, dim: d, kTrue: 100 });
  const batch = new Float32Array(BATCH * d);
  let index = 0;
  const gen = throughput(seconds, BATCH, () => {
    data.fill(index, index + BATCH, batch);
    index += BATCH;
  });
  log(`kmeans: generator d=${d}: ${(gen / 1e6).toFixed(2)} M points/s`);
  records.push({ suite: 'kmeans', name: 'synthetic generator', path: 'typescript', d, k: 100, data: 'none', value: gen, unit: 'points/s per core', note: 'Philox4x32-10, Box-Muller' });
  return records;
}

interface RunSummary {
  totalSamples: number;
  wallSeconds: number;
  samplesPerSecond: number;
  centreError: { mean: number } | null;
  perRank: { trace: { seconds: number[]; error: number[] } }[];
}

/** Run the kmeans CLI as a job of `ranks` rank threads in a child process; returns its summary. */
function runCli(ranks: number, args: string[]): Promise<RunSummary> {
  const cli = fileURLToPath(new URL('../kmeans/cli.js', import.meta.url));
  const out = mkdtempSync(join(tmpdir(), 'kmeans-bench-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PGAS_TRANSPORT: 'threads', PGAS_SIZE: String(ranks) };
  delete env.PGAS_RANK;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args, '--progress-every', '0', '--out', out], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`kmeans ${args.join(' ')} exited ${code}: ${stderr}`);
        resolve(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunSummary);
      } catch (error) {
        reject(error);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  });
}

async function qualityRecords(options: KmeansBenchOptions, perCore: number, log: (line: string) => void): Promise<KmeansBenchRecord[]> {
  const ranks = options.ranks ?? 2;
  const size = options.quick ? '2M' : '10M';
  const common = ['--size', size, '--dim', '10', '--k-true', '100', '--k', '100', '--batch', String(BATCH), '--seed', '1', '--eval-every', '0.05'];
  const records: KmeansBenchRecord[] = [];
  const mini = await runCli(1, [...common, '--solver', 'minibatch', '--epochs', '1']);
  const asgd = await runCli(ranks, [...common, '--solver', 'asgd', '--epochs', '1']);
  const asgd1 = await runCli(1, [...common, '--solver', 'asgd', '--epochs', '1']);
  const target = SKLEARN_QUALITY.error;
  for (const [name, s, n] of [['minibatch, 1 rank', mini, 1], [`asgd, ${ranks} ranks`, asgd, ranks], ['asgd, 1 rank', asgd1, 1]] as const) {
    const reach = timeToError(s, target);
    log(`kmeans: ${name}: one pass over ${size} points in ${s.wallSeconds.toFixed(2)} s, final centre error ${s.centreError?.mean.toPrecision(3)}, error ≤ ${target} after ${reach.toFixed(2)} s`);
    records.push({
      suite: 'kmeans', name: `time to centre error ≤ ${target} (${name})`, path: 'typescript', d: 10, k: 100, data: 'generated', value: reach, unit: 's',
      reference: { value: SKLEARN_QUALITY.seconds, unit: 's', what: `${SKLEARN_QUALITY.what} reaches ${target}` },
      note: `${size} points, batch ${BATCH}, k-means++ init; one pass took ${s.wallSeconds.toFixed(2)} s; final error ${s.centreError?.mean.toPrecision(3)}; ${n} rank${n > 1 ? 's' : ''}`,
    });
    records.push({ suite: 'kmeans', name: `one pass, final centre error (${name})`, path: 'typescript', d: 10, k: 100, data: 'generated', value: s.centreError?.mean ?? NaN, unit: 'distance', note: `${size} points in ${s.wallSeconds.toFixed(2)} s` });
  }
  // Terabyte plan: 1 TB of float32 at d = 10 is 2.5e10 points. Strong-scaling efficiency measured
  // here from 1 to `ranks` ranks of asgd (same data, one pass); applied unchanged to 64 × 16 cores,
  // which is an assumption: inter-node exchange is not measured on this machine.
  const points = 1e12 / 40;
  const rate1 = asgd1.samplesPerSecond;
  const rateN = asgd.samplesPerSecond;
  const efficiency = rateN / (ranks * rate1);
  const cores = cpus().length;
  const here = points / (rate1 * Math.min(cores, ranks) * efficiency);
  const cluster = points / (rate1 * 64 * 16 * efficiency);
  log(`kmeans: terabyte plan: asgd ${(rate1 / 1e6).toFixed(2)} M points/s on 1 rank, ${(rateN / 1e6).toFixed(2)} M on ${ranks} (efficiency ${(100 * efficiency).toFixed(0)}%); ` +
    `one pass over 1 TB (2.5e10 points): ${(here / 3600).toFixed(1)} h here, ${(cluster / 60).toFixed(1)} min on 64 nodes × 16 cores`);
  records.push({ suite: 'kmeans', name: 'asgd throughput, 1 rank', path: 'typescript', d: 10, k: 100, data: 'generated', value: rate1, unit: 'points/s' });
  records.push({ suite: 'kmeans', name: `asgd throughput, ${ranks} ranks`, path: 'typescript', d: 10, k: 100, data: 'generated', value: rateN, unit: 'points/s', note: `strong-scaling efficiency ${(100 * efficiency).toFixed(0)}% (${cores} cores on this machine, shared)` });
  records.push({ suite: 'kmeans', name: '1 TB one pass, this machine', path: 'typescript', d: 10, k: 100, data: 'generated', value: here, unit: 's', note: `2.5e10 points at the measured ${ranks}-rank rate` });
  records.push({
    suite: 'kmeans', name: '1 TB one pass, 64 nodes × 16 cores (extrapolated)', path: 'typescript', d: 10, k: 100, data: 'generated', value: cluster, unit: 's',
    note: `1 rank's ${(rate1 / 1e6).toFixed(2)} M points/s × 1024 × the ${(100 * efficiency).toFixed(0)}% efficiency measured from 1 to ${ranks} ranks here (assumed to hold; kernel-only rate ${(perCore / 1e6).toFixed(2)} M points/s per core)`,
  });
  return records;
}

export async function runKmeansBench(options: KmeansBenchOptions = {}): Promise<KmeansBenchRecord[]> {
  const log = options.log ?? (() => {});
  const seconds = options.seconds ?? (options.quick ? 0.5 : 2);
  const records = kernelRecords(seconds, log);
  if (options.quality) {
    const perCore = records.find((r) => r.k === 100 && r.data === 'generated' && r.name.startsWith('assign'))!.value;
    records.push(...(await qualityRecords(options, perCore, log)));
  }
  return records;
}

function human(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'not reached';
  if (unit === 's') return value >= 3600 ? `${(value / 3600).toFixed(1)} h` : value >= 120 ? `${(value / 60).toFixed(1)} min` : `${value.toFixed(2)} s`;
  if (unit === 'distance') return value.toPrecision(3);
  return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)} K` : value.toPrecision(3);
}

/** A plain-text table of the records, with the scikit-learn reference beside each figure that has one. */
export function formatKmeansTable(records: readonly KmeansBenchRecord[]): string {
  const rows = records.map((r) => [
    r.name, r.path, String(r.d), String(r.k), r.data, `${human(r.value, r.unit)} ${r.unit === 's' || r.unit === 'distance' ? '' : r.unit}`.trim(),
    r.reference ? `${human(r.reference.value, r.reference.unit)} ${r.reference.unit === 's' ? '' : r.reference.unit} (${(r.unit === 's' ? r.reference.value / r.value : r.value / r.reference.value).toFixed(2)}x)`.replace('  ', ' ') : '',
  ]);
  const header = ['benchmark', 'path', 'd', 'k', 'data', 'figure', 'scikit-learn reference (ratio, >1 = faster)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
