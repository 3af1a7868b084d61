#!/usr/bin/env node
/**
 * The `cnn` command: `cnn train --solver FILE [--weights FILE] [--snapshot FILE]`, `cnn test`, `cnn info`.
 * Started by pgas-run (PGAS_RANK in the environment) it trains through the numeric core instead, every
 * rank on its own partition (see distributed.ts).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCliArgs, type CliOptions } from './cli-args.js';
import { CnnError } from './errors.js';
import { kernelsReport, loadNativeKernels, nativeUnavailableReason, selectKernels } from './math/blas.js';
import { Net } from './net.js';
import { formatDuration, formatEvent } from './progress.js';
import { loadWeights } from './solver/snapshot.js';
import { readSolverFile } from './solver/solver-config.js';
import { Solver, type SolverEvent } from './solver/solver.js';
import { renderRunSvg } from './svg-plot.js';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Any of these in the environment: started by pgas-run (or Slurm, or an MPI launcher): train distributed. */
const RANK_VARIABLES = ['PGAS_RANK', 'PGAS_SIZE', 'PGAS_TRANSPORT', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK', 'PMIX_RANK'];

const defaultIo: CliIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

/** Run the command; returns the exit status (0 ok, 1 failure, 2 usage). */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let o: CliOptions;
  try {
    o = parseCliArgs(argv);
  } catch (error) {
    io.err((error as Error).message);
    return 2;
  }
  try {
    const k = selectKernels(o.kernels);
    if (o.command === 'info') {
      const native = loadNativeKernels();
      io.out(`kernels: ${k.path} — ${k.description}${k.nativeKernels.length ? ` (native: ${k.nativeKernels.join(', ')})` : ''}`);
      io.out(`native: ${native ? native.description : `unavailable (${nativeUnavailableReason()})`}`);
      return 0;
    }
    if (o.command === 'test') return runTest(o, io);
    if (RANK_VARIABLES.some((name) => process.env[name] !== undefined)) {
      const { trainDistributed } = await import('./distributed.js');
      return await trainDistributed(o, io);
    }
    return runTrain(o, io);
  } catch (error) {
    if (error instanceof CnnError) {
      io.err(`cnn: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function runTrain(o: CliOptions, io: CliIo): number {
  const config = readSolverFile(resolve(o.solver!));
  if (o.maxIter !== undefined) config.max_iter = o.maxIter;
  const curves = { loss: [] as [number, number][], accuracy: [] as [number, number][], testLoss: [] as [number, number][] };
  if (o.json) {
    mkdirSync(dirname(resolve(o.json)), { recursive: true });
    writeFileSync(o.json, '');
  }
  const onEvent = (e: SolverEvent): void => {
    if (!o.quiet) io.out(formatEvent(e, config.max_iter));
    if (o.json) appendFileSync(o.json, `${JSON.stringify(e)}\n`);
    if (e.kind === 'train') curves.loss.push([e.iter, e.smoothedLoss]);
    if (e.kind === 'test' && e.net === 0) {
      const acc = e.outputs.find((x) => x.name.includes('accuracy'));
      const loss = e.outputs.find((x) => x.lossWeight !== 0);
      if (acc) curves.accuracy.push([e.iter, acc.values[0]!]);
      if (loss) curves.testLoss.push([e.iter, loss.values[0]!]);
    }
  };
  const solver = new Solver(config, { seed: o.seed, onEvent });
  io.out(`cnn train: ${config.file}: ${solver.net.name || 'net'} with ${solver.net.paramCount} parameters, solver ${config.type}, ${config.max_iter} iterations; ${kernelsReport()}`);
  if (o.weights) io.out(`copied weights of layers ${solver.loadWeights(resolve(o.weights)).join(', ')} from ${o.weights}`);
  const started = performance.now();
  solver.solve(o.snapshot ? resolve(o.snapshot) : undefined);
  const seconds = (performance.now() - started) / 1000;
  const training = seconds - solver.testSeconds;
  const done = solver.iter - solver.resumedFrom;
  io.out(`Optimization done: ${solver.iter} iterations in ${formatDuration(seconds)} (${formatDuration(solver.testSeconds)} of it testing)${done > 0 ? `, ${((done * imagesPerIter(solver)) / training).toFixed(0)} training images/s` : ''}`);
  if (o.plot) {
    writeFileSync(o.plot, renderRunSvg({ title: `${solver.net.name} — ${config.type}, ${solver.iter} iterations`, ...curves }));
    io.out(`plot: ${o.plot}`);
  }
  return 0;
}

function imagesPerIter(s: Solver): number {
  return (s.net.tops[0]?.[0]?.shape[0] ?? 1) * s.config.iter_size;
}

function runTest(o: CliOptions, io: CliIo): number {
  let net: Net;
  let iters: number;
  if (o.solver) {
    const config = readSolverFile(resolve(o.solver));
    const src = config.testNets[0];
    if (!src) throw new CnnError('ERR_CNN_SOLVER', `${o.solver} defines no test net (test_iter)`);
    net = new Net(src.param, { phase: 'TEST', baseDir: src.baseDir, stages: src.stages, level: src.level, seed: o.seed });
    iters = o.iterations ?? config.test_iter[0]!;
  } else {
    net = Net.fromFile(resolve(o.model!), { phase: 'TEST', seed: o.seed });
    iters = o.iterations ?? 50;
  }
  loadWeights(resolve(o.weights!), net);
  const sums = net.outputs.map((b) => new Float64Array(b.count));
  const started = performance.now();
  for (let i = 0; i < iters; i++) {
    net.forward();
    net.outputs.forEach((b, k) => {
      for (let j = 0; j < b.count; j++) sums[k]![j] += b.data[j]!;
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const batch = net.tops[0]?.[0]?.shape[0] ?? 1;
  net.outputs.forEach((b, k) => io.out(`${b.name} = ${Array.from(sums[k]!, (s) => (s / iters).toFixed(4)).join(', ')}`));
  io.out(`${iters} batches of ${batch} in ${seconds.toFixed(1)} s (${((iters * batch) / seconds).toFixed(0)} images/s)`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (error: unknown) => {
    process.stderr.write(`cnn: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
