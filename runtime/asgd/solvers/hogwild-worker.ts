/**
 * One Hogwild thread (AsySG-incon): reads the shared state without locks (a plain copy, possibly
 * mid-update by other threads), computes a mini-batch gradient at what it read, and applies its
 * optimizer straight to the shared state, element by element, without locks. Boosted optimizers get
 * Δw = (shared state now) − (what was read). Started by runHogwild; talks to it only through shared
 * memory and its exit.
 */
import { workerData, parentPort } from 'node:worker_threads';
import type { ResolvedSolverConfig } from '../config.js';
import type { ProblemRef } from '../model.js';
import { createOptimizer } from '../optim/factory.js';
import { Schedule } from '../schedule.js';
import { resolveProblem } from './setup.js';
import { C_SAMPLES, C_STOP, C_UPDATES, type HogwildWorkerData } from './hogwild-shared.js';

const data = workerData as HogwildWorkerData;
const config = data.config as ResolvedSolverConfig;
const problem = await resolveProblem(data.ref as ProblemRef, data.part, data.parts, config.seed);
const { model } = problem;
const d = model.paramCount;
const w = new Float32Array(data.state, 0, d);
const control = new Int32Array(data.control);
const losses = new Float64Array(data.losses);
const read = new Float32Array(d);
const g = new Float32Array(d);
const optimizer = createOptimizer(config.optimizer, d);
const dw = optimizer.usesDisplacement ? new Float32Array(d) : null;
const schedule = new Schedule(config.schedule);
const batchSize = config.batchSize as number;
const maxSteps = config.stop.steps;
const slot = 2 * data.thread;

for (;;) {
  if (Atomics.load(control, C_STOP) !== 0) break;
  // claim an update number: the run's step budget and the schedule count all threads' updates
  const t = Atomics.add(control, C_UPDATES, 1);
  if (t >= maxSteps) break;
  read.set(w);
  const loss = model.gradient(read, problem.data.next(batchSize), g);
  if (dw !== null) for (let k = 0; k < d; k++) dw[k] = w[k]! - read[k]!;
  optimizer.step(w, g, schedule.rate(config.optimizer.lr, t), dw);
  Atomics.add(control, C_SAMPLES, batchSize);
  losses[slot] = losses[slot]! + loss;
  losses[slot + 1] = losses[slot + 1]! + 1;
}
parentPort?.postMessage({ done: true });
