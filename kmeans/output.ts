/**
 * What a finished run leaves behind: a summary for people (printed), and with --out the centres as
 * JSON and raw float32, a JSON summary with every rank's figures and error trace, and an SVG plot of
 * the error against time for each rank. Rank 0 writes them, only after the run has succeeded.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveLr } from './cli-args.js';
import type { KmeansResult } from './run.js';
import { formatBytes, formatCount } from './size.js';
import { linePlot } from './svg.js';

export const OUTPUT_FILES = ['centres.json', 'centres.f32', 'summary.json', 'error-vs-time.svg'] as const;

function errorName(result: KmeansResult): string {
  return result.truth ? 'centre error (Hungarian-matched mean distance to the true centres)' : 'inertia per point on the evaluation sample';
}

/** The closing summary, several lines of text. */
export function summaryText(result: KmeansResult): string {
  const c = result.config;
  const lines: string[] = [];
  const rule = c.solver === 'lloyd' ? 'exact means' : c.solver === 'minibatch' ? "Sculley's 1/N_c steps" : `${c.step} step, ε = ${Number(resolveLr(c, result.ranks).toPrecision(4))}`;
  const batch = c.solver === 'lloyd' ? 'full partitions' : `batch ${c.batch}`;
  lines.push(`kmeans: ${c.solver} on ${result.ranks} rank${result.ranks === 1 ? '' : 's'}, k = ${c.k}, ${rule}, ${batch}, ${c.init} initialisation, seed ${c.seed}`);
  lines.push(`data: ${result.totalPoints} points of dimension ${result.dim} (${formatBytes(result.totalPoints * result.dim * 4)} as float32); rank 0: ${result.description}`);
  const rate = result.totalSamples / result.wallSeconds;
  lines.push(
    `trained: ${formatCount(result.totalSamples)} samples in ${result.wallSeconds.toFixed(2)} s wall: ${formatCount(rate)} samples/s ` +
    `(${formatCount(rate / result.ranks)}/s per rank); stopped by ${result.stopReason}` +
    (result.iterations !== undefined ? `; ${result.iterations} iterations${result.converged ? ', converged' : ''}` : ''),
  );
  if (result.centreError) {
    const e = result.centreError;
    const kTrue = result.truth!.length / result.dim;
    lines.push(`centre error vs the truth (Hungarian-matched): mean ${e.mean.toPrecision(4)}, median ${e.median.toPrecision(4)}, max ${e.max.toPrecision(4)}; ` +
      `${e.recovered} of ${kTrue} true centres within ${e.threshold.toPrecision(3)} (3σ)`);
  }
  const floor = result.inertiaFloor !== undefined ? ` (noise floor d·σ² = ${result.inertiaFloor.toPrecision(4)})` : '';
  lines.push(`inertia per point on ${result.heldOutPoints} ${result.heldOutIsSample ? 'sampled (not held-out) ' : 'held-out '}points: ${result.inertia.toPrecision(4)}${floor}`);
  if (result.ranks > 1) {
    lines.push(`per rank (${errorName(result)} of its final state): ` + result.perRank.map((r) =>
      `rank ${r.rank}: ${formatCount(r.samples)} samples, ${r.seconds.toFixed(2)} s, ${r.error.toPrecision(4)}`).join('; '));
  }
  if (result.centreError) {
    const kTrue = result.truth!.length / result.dim;
    const all = result.centreError.recovered === kTrue;
    lines.push(all ? `result: found all ${kTrue} clusters` : `result: found ${result.centreError.recovered} of ${kTrue} clusters`);
  }
  return lines.join('\n');
}

/** JSON-able summary (no large arrays but the centres' error traces, bounded by the trace capacity). */
export function summaryJson(result: KmeansResult): Record<string, unknown> {
  const { config } = result;
  return {
    solver: config.solver,
    ranks: result.ranks,
    k: config.k,
    dim: result.dim,
    step: config.step,
    lr: config.solver === 'lloyd' || config.solver === 'minibatch' ? null : resolveLr(config, result.ranks),
    batch: config.batch,
    init: config.init,
    seed: config.seed,
    stop: config.stop,
    data: config.data,
    totalPoints: result.totalPoints,
    totalSamples: result.totalSamples,
    wallSeconds: result.wallSeconds,
    samplesPerSecond: result.totalSamples / result.wallSeconds,
    stopReason: result.stopReason,
    iterations: result.iterations ?? null,
    converged: result.converged ?? null,
    centreError: result.centreError ?? null,
    inertiaPerPoint: result.inertia,
    inertiaFloor: result.inertiaFloor ?? null,
    heldOutPoints: result.heldOutPoints,
    heldOutIsSample: result.heldOutIsSample,
    errorMeasure: errorName(result),
    perRank: result.perRank.map((r) => ({
      rank: r.rank, samples: r.samples, steps: r.steps, seconds: r.seconds, error: r.error, inertia: r.inertia,
      trace: { seconds: r.trace.t, samples: r.trace.samples, error: r.trace.error },
    })),
  };
}

export function errorPlot(result: KmeansResult): string {
  const c = result.config;
  return linePlot(result.perRank.map((r) => ({ label: `rank ${r.rank}`, x: r.trace.t, y: r.trace.error })), {
    title: `K-Means ${c.solver}, ${result.ranks} rank${result.ranks === 1 ? '' : 's'}, k = ${c.k}, d = ${result.dim}`,
    xLabel: 'wall time (s)',
    yLabel: result.truth ? 'centre error vs truth' : 'inertia per point',
    ...(result.truth && c.data.kind === 'synthetic' ? { reference: { y: 3 * c.data.spread, label: '3σ' } } : {}),
  });
}

function writeAtomically(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Write the output files into `dir` (created if needed). */
export function writeOutputs(dir: string, result: KmeansResult): string[] {
  mkdirSync(dir, { recursive: true });
  const k = result.config.k;
  const d = result.dim;
  const centres = Array.from({ length: k }, (_, c) => Array.from(result.centres.subarray(c * d, c * d + d)));
  writeAtomically(join(dir, 'centres.json'), `${JSON.stringify({
    k, dim: d, solver: result.config.solver, seed: result.config.seed,
    centreError: result.centreError?.mean ?? null, inertiaPerPoint: result.inertia, centres,
  }, null, 1)}\n`);
  writeAtomically(join(dir, 'centres.f32'), new Uint8Array(result.centres.buffer, result.centres.byteOffset, result.centres.byteLength));
  writeAtomically(join(dir, 'summary.json'), `${JSON.stringify(summaryJson(result), null, 1)}\n`);
  writeAtomically(join(dir, 'error-vs-time.svg'), errorPlot(result));
  return OUTPUT_FILES.map((f) => join(dir, f));
}
