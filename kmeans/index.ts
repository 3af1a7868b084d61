/**
 * K-Means on data of any size, trained by the numeric core's solvers (ALGORITHMS.md section 5).
 *
 *   const data = new SyntheticData({ seed: 1, points: 25e9, dim: 10, kTrue: 100 }); // 1 TB, never stored
 *   data.fill(from, to, block);                      // any slice, from (seed, index) alone
 *   const source = new SyntheticSource(data, rank, size);     // or RawFloat32Reader / CsvReader / NpyReader
 *   const model = new KmeansModel({ k: 100, dim: 10, step: 'per-centre', init: 'kmeans||', sample });
 *   await runSolver(ctx, config, { model, data: new KmeansDataSource(source, { seed, part: rank }) });
 *
 * The `kmeans` command (cli.ts) does all of this under pgas-run; runKmeans is its library form.
 */
export { SyntheticData, parseImbalance, partitionRange, STREAM_TRAIN, STREAM_HELDOUT, type SyntheticSpec } from './synthetic.js';
export { philox4x32 } from './philox.js';
export { parseSize, sizeToPoints, formatBytes, formatCount, type DataSize } from './size.js';
export { SyntheticSource, type PointSource } from './source.js';
export { RawFloat32Reader, CsvReader, NpyReader, readNpyHeader, parseDecimal, type CsvOptions, type NpyHeader, type FileReaderOptions } from './readers/index.js';
export { openSource, drawFromPartition, sampleIndices, syntheticOf, syntheticHeldOut, syntheticInitSample, type DataSpec } from './data.js';
export { KmeansDataSource, type KmeansBatch, type BatchOptions } from './batches.js';
export { assign, assignAccumulate, batchGradient, centreNorms, inertiaPerPoint } from './kernels.js';
export { hungarian, centreError, type CentreError } from './hungarian.js';
export { kmeansPlusPlus, kmeansParallel, randomInit, initialCentres, INIT_METHODS, type InitMethod, type Uniform01 } from './init.js';
export { lloyd, lloydUpdate, accumulateRange, sculleyStep, type LloydResult } from './reference.js';
export { distributedLloyd, type DistributedLloydOptions, type DistributedLloydResult, type LloydIteration } from './lloyd-dist.js';
export { KmeansModel, STEP_RULES, type StepRule, type KmeansModelOptions } from './model.js';
export { kmeansProblem, KMEANS_PROBLEM_MODULE, type KmeansProblemArgs } from './problem.js';
export { parseArgs, usage, SOLVERS, type KmeansConfig, type KmeansSolver, type StopRule } from './cli-args.js';
export { runKmeans, type KmeansResult, type RankFigures, type RunIo } from './run.js';
export { summaryText, summaryJson, writeOutputs, errorPlot, OUTPUT_FILES } from './output.js';
export { linePlot, type Series, type PlotOptions } from './svg.js';
export { Rng, RngStream } from './rng.js';
export * from './errors.js';
