import { dirname, isAbsolute, resolve } from 'node:path';
import { SolverError } from '../errors.js';
import { readPrototxt, parsePrototxt } from '../proto/index.js';
import type { Msg } from '../proto/message.js';
import { checkPolicy, POLICY_FIELDS, type LrSettings } from './lr-policy.js';
import { SOLVER_TYPES, type RuleParams, type SolverType } from './update-rules.js';

/** A SolverParameter read and checked: Caffe's field names, every default filled in. */
export interface SolverConfig extends LrSettings, RuleParams {
  file: string;
  type: SolverType;
  /** the train net: a parsed NetParameter and the directory its relative paths resolve against */
  trainNet: NetSource;
  /** test nets (Caffe: test_net files, or the same `net` once per test_iter entry) */
  testNets: NetSource[];
  test_iter: number[];
  test_interval: number;
  test_initialization: boolean;
  test_compute_loss: boolean;
  display: number;
  average_loss: number;
  iter_size: number;
  weight_decay: number;
  regularization_type: 'L1' | 'L2';
  clip_gradients: number;
  snapshot: number;
  /** absolute path prefix of snapshot files */
  snapshot_prefix: string;
  snapshot_after_train: boolean;
  random_seed: number;
}

export interface NetSource {
  param: Msg;
  baseDir: string;
  stages: string[];
  level: number;
}

const TYPE_BY_LEGACY: Record<string, SolverType> = {
  SGD: 'SGD', NESTEROV: 'Nesterov', ADAGRAD: 'AdaGrad', RMSPROP: 'RMSProp', ADADELTA: 'AdaDelta', ADAM: 'Adam',
};

export function readSolverFile(file: string): SolverConfig {
  return solverConfig(readPrototxt(file, 'SolverParameter'));
}

export function parseSolverText(text: string, file = '<solver>', baseDir?: string): SolverConfig {
  return solverConfig(parsePrototxt(text, 'SolverParameter', file), baseDir);
}

/** Check a SolverParameter; relative paths resolve against the solver file's directory. */
export function solverConfig(m: Msg, baseDirOverride?: string): SolverConfig {
  const where = (field: string): string => `${m.file}:${m.loc(field).line}`;
  const fail = (field: string, message: string): never => {
    throw new SolverError(`${m.has(field) ? where(field) : m.file}: ${message}`);
  };
  const baseDir = baseDirOverride ?? (m.file.startsWith('<') ? process.cwd() : dirname(resolve(m.file)));
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));

  let type: SolverType;
  if (m.has('solver_type') && m.has('type')) fail('type', 'give type or the deprecated solver_type, not both');
  if (m.has('solver_type')) type = TYPE_BY_LEGACY[m.str('solver_type')]!;
  else {
    const t = m.str('type');
    if (!(SOLVER_TYPES as readonly string[]).includes(t)) fail('type', `unknown solver type '${t}'; known: ${SOLVER_TYPES.join(', ')}`);
    type = t as SolverType;
  }

  // net sources (Caffe's Solver::InitTrainNet / InitTestNets)
  const netFields = ['net', 'net_param', 'train_net', 'train_net_param'].filter((f) => m.has(f));
  if (netFields.length !== 1) fail(netFields[1] ?? 'net', netFields.length === 0 ? 'no net: give net (a file) or net_param' : `give exactly one of net, net_param, train_net, train_net_param (got ${netFields.join(', ')})`);
  const loadNet = (field: string, value: string | Msg): { param: Msg; baseDir: string } => {
    if (typeof value !== 'string') return { param: value, baseDir };
    const file = path(value);
    return { param: readPrototxt(file, 'NetParameter'), baseDir: dirname(file) };
  };
  const trainSrc = m.has('net') ? loadNet('net', m.str('net')) : m.has('train_net') ? loadNet('train_net', m.str('train_net')) : loadNet('net_param', m.msg(m.has('net_param') ? 'net_param' : 'train_net_param'));
  const trainState = m.msg('train_state');
  const trainNet: NetSource = { ...trainSrc, stages: trainState.strs('stage'), level: trainState.num('level') };

  const testIter = m.nums('test_iter');
  const explicitTests = [...m.strs('test_net').map((f) => loadNet('test_net', f)), ...m.msgs('test_net_param').map((p) => loadNet('test_net_param', p))];
  const general = m.has('net') || m.has('net_param');
  const testSources = explicitTests.length > 0 ? explicitTests : general ? testIter.map(() => trainSrc) : [];
  if (testIter.length !== testSources.length) {
    fail('test_iter', `${testIter.length} test_iter values for ${testSources.length} test net(s): give one per test net`);
  }
  const testStates = m.msgs('test_state');
  if (testStates.length > 0 && testStates.length !== testSources.length) fail('test_state', `${testStates.length} test_state entries for ${testSources.length} test nets`);
  const testNets = testSources.map((s, i) => ({ ...s, stages: testStates[i]?.strs('stage') ?? [], level: testStates[i]?.num('level') ?? 0 }));
  if (testIter.some((n) => n < 1)) fail('test_iter', 'test_iter must be positive');
  if (m.num('test_interval') < 0) fail('test_interval', 'test_interval must not be negative');

  if (!m.has('base_lr')) fail('base_lr', 'base_lr is required');
  if (!m.has('lr_policy')) fail('lr_policy', 'lr_policy is required (fixed, step, exp, inv, multistep, poly, sigmoid)');
  let policy;
  try {
    policy = checkPolicy(m.str('lr_policy'));
  } catch (error) {
    fail('lr_policy', (error as Error).message);
  }
  for (const f of POLICY_FIELDS[policy!]) {
    if (f === 'stepvalue' ? m.nums('stepvalue').length === 0 : !m.has(f)) fail('lr_policy', `lr_policy '${policy!}' needs ${f}`);
  }
  const stepvalue = m.nums('stepvalue');
  for (let i = 1; i < stepvalue.length; i++) if (stepvalue[i]! <= stepvalue[i - 1]!) fail('stepvalue', 'stepvalue entries must increase');
  if (policy! === 'step' && m.num('stepsize') < 1) fail('stepsize', 'stepsize must be positive');
  const maxIter = m.has('max_iter') ? m.num('max_iter') : fail('max_iter', 'max_iter is required');
  if (maxIter < 0) fail('max_iter', 'max_iter must not be negative');
  if (policy! === 'poly' && maxIter < 1) fail('max_iter', "lr_policy 'poly' needs max_iter ≥ 1");

  const momentum = m.num('momentum');
  if ((type === 'AdaGrad' || type === 'RMSProp') && momentum !== 0) fail('momentum', `${type} does not use momentum: it must be 0 (as in Caffe)`);
  if (type === 'Adam' && !m.has('momentum')) {
    // Caffe's Adam needs momentum (β1) set; its examples use 0.9
    fail('type', 'the Adam solver needs momentum (β1, e.g. 0.9) and optionally momentum2 (β2, default 0.999)');
  }
  const rmsDecay = m.num('rms_decay');
  if (!(rmsDecay >= 0 && rmsDecay < 1)) fail('rms_decay', 'rms_decay must be in [0, 1)');
  const reg = m.str('regularization_type');
  if (reg !== 'L1' && reg !== 'L2') fail('regularization_type', `regularization_type must be "L1" or "L2", got "${reg}"`);
  if (m.num('iter_size') < 1) fail('iter_size', 'iter_size must be ≥ 1');
  if (m.num('snapshot') < 0) fail('snapshot', 'snapshot must not be negative');
  if (m.num('average_loss') < 1) fail('average_loss', 'average_loss must be ≥ 1');
  if (m.str('snapshot_format') === 'HDF5') fail('snapshot_format', 'HDF5 snapshots are not supported; leave snapshot_format out');

  const prefix = m.str('snapshot_prefix');
  return {
    file: m.file,
    type,
    trainNet,
    testNets,
    test_iter: testIter,
    test_interval: m.num('test_interval'),
    test_initialization: m.bool('test_initialization'),
    test_compute_loss: m.bool('test_compute_loss'),
    display: m.num('display'),
    average_loss: m.num('average_loss'),
    iter_size: m.num('iter_size'),
    lr_policy: policy!,
    base_lr: m.num('base_lr'),
    gamma: m.has('gamma') ? m.num('gamma') : 0,
    power: m.has('power') ? m.num('power') : 0,
    stepsize: m.has('stepsize') ? m.num('stepsize') : 0,
    stepvalue,
    max_iter: maxIter,
    momentum,
    momentum2: m.num('momentum2'),
    delta: m.num('delta'),
    rms_decay: rmsDecay,
    weight_decay: m.num('weight_decay'),
    regularization_type: reg as 'L1' | 'L2',
    clip_gradients: m.num('clip_gradients'),
    snapshot: m.num('snapshot'),
    snapshot_prefix: path(prefix === '' ? 'snapshot' : prefix),
    snapshot_after_train: m.bool('snapshot_after_train'),
    random_seed: m.num('random_seed'),
  };
}
