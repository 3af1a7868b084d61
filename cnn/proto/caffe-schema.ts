import type { FieldSpec, MessageSpec, SchemaSet } from './message.js';

/**
 * The part of Caffe's caffe.proto that this implementation reads, with Caffe's field names, types and
 * defaults. Fields that Caffe has but that change nothing here (engine, GPU settings...) are accepted so
 * that Caffe's files load as written; fields this implementation cannot honour are left out, so that a
 * file using them fails with "unknown field" and its line rather than training something else.
 *
 * Extensions (documented in cnn/README.md): DataParameter.label_source and .shuffle, and the IDX value of
 * DataParameter.backend.
 */

const int = (d?: number): FieldSpec => ({ type: 'int', default: d });
const uint = (d?: number): FieldSpec => ({ type: 'uint', default: d });
const float = (d?: number): FieldSpec => ({ type: 'float', default: d });
const bool = (d?: boolean): FieldSpec => ({ type: 'bool', default: d });
const str = (d?: string): FieldSpec => ({ type: 'string', default: d });
const en = (values: readonly string[], d?: string): FieldSpec => ({ type: 'enum', values, default: d });
const msg = (message: string): FieldSpec => ({ type: 'message', message });
const rep = (f: FieldSpec): FieldSpec => ({ ...f, repeated: true, default: undefined });

const ENGINE = ['DEFAULT', 'CAFFE', 'CUDNN'] as const;
export const PHASES = ['TRAIN', 'TEST'] as const;

const BlobShape: MessageSpec = { dim: rep(int()) };

const FillerParameter: MessageSpec = {
  type: str('constant'),
  value: float(0),
  min: float(0),
  max: float(1),
  mean: float(0),
  std: float(1),
  sparse: int(-1),
  variance_norm: en(['FAN_IN', 'FAN_OUT', 'AVERAGE'], 'FAN_IN'),
};

const NetState: MessageSpec = { phase: en(PHASES, 'TEST'), level: int(0), stage: rep(str()) };

const NetStateRule: MessageSpec = {
  phase: en(PHASES),
  min_level: int(),
  max_level: int(),
  stage: rep(str()),
  not_stage: rep(str()),
};

const ParamSpec: MessageSpec = {
  name: str(''),
  share_mode: en(['STRICT', 'PERMISSIVE'], 'STRICT'),
  lr_mult: float(1),
  decay_mult: float(1),
};

const TransformationParameter: MessageSpec = {
  scale: float(1),
  mirror: bool(false),
  crop_size: uint(0),
  mean_value: rep(float()),
  force_color: bool(false),
  force_gray: bool(false),
};

const LossParameter: MessageSpec = {
  ignore_label: int(),
  normalization: en(['FULL', 'VALID', 'BATCH_SIZE', 'NONE'], 'VALID'),
  normalize: bool(),
};

const AccuracyParameter: MessageSpec = { top_k: uint(1), axis: int(1), ignore_label: int() };
const BatchNormParameter: MessageSpec = { use_global_stats: bool(), moving_average_fraction: float(0.999), eps: float(1e-5) };
const ConcatParameter: MessageSpec = { axis: int(1), concat_dim: uint() };

const ConvolutionParameter: MessageSpec = {
  num_output: uint(),
  bias_term: bool(true),
  pad: rep(uint()),
  kernel_size: rep(uint()),
  stride: rep(uint()),
  dilation: rep(uint()),
  pad_h: uint(0),
  pad_w: uint(0),
  kernel_h: uint(),
  kernel_w: uint(),
  stride_h: uint(),
  stride_w: uint(),
  group: uint(1),
  weight_filler: msg('FillerParameter'),
  bias_filler: msg('FillerParameter'),
  engine: en(ENGINE, 'DEFAULT'),
  axis: int(1),
  force_nd_im2col: bool(false),
};

const DataParameter: MessageSpec = {
  source: str(),
  batch_size: uint(),
  rand_skip: uint(0),
  backend: en(['LEVELDB', 'LMDB', 'IDX'], 'LEVELDB'),
  scale: float(1),
  mean_file: str(),
  crop_size: uint(0),
  mirror: bool(false),
  force_encoded_color: bool(false),
  prefetch: uint(4),
  // extensions: the IDX label file (default: derived from the image file's name) and shuffling
  label_source: str(),
  shuffle: bool(false),
};

const DropoutParameter: MessageSpec = { dropout_ratio: float(0.5), scale_train: bool(true) };
const EltwiseParameter: MessageSpec = {
  operation: en(['PROD', 'SUM', 'MAX'], 'SUM'),
  coeff: rep(float()),
  stable_prod_grad: bool(true),
};
const FlattenParameter: MessageSpec = { axis: int(1), end_axis: int(-1) };
const InnerProductParameter: MessageSpec = {
  num_output: uint(),
  bias_term: bool(true),
  weight_filler: msg('FillerParameter'),
  bias_filler: msg('FillerParameter'),
  axis: int(1),
  transpose: bool(false),
};
const InputParameter: MessageSpec = { shape: rep(msg('BlobShape')) };
const LRNParameter: MessageSpec = {
  local_size: uint(5),
  alpha: float(1),
  beta: float(0.75),
  norm_region: en(['ACROSS_CHANNELS', 'WITHIN_CHANNEL'], 'ACROSS_CHANNELS'),
  k: float(1),
  engine: en(ENGINE, 'DEFAULT'),
};
const PoolingParameter: MessageSpec = {
  pool: en(['MAX', 'AVE', 'STOCHASTIC'], 'MAX'),
  pad: uint(0),
  pad_h: uint(0),
  pad_w: uint(0),
  kernel_size: uint(),
  kernel_h: uint(),
  kernel_w: uint(),
  stride: uint(1),
  stride_h: uint(),
  stride_w: uint(),
  engine: en(ENGINE, 'DEFAULT'),
  global_pooling: bool(false),
  round_mode: en(['CEIL', 'FLOOR'], 'CEIL'),
};
const ReLUParameter: MessageSpec = { negative_slope: float(0), engine: en(ENGINE, 'DEFAULT') };
const ScaleParameter: MessageSpec = {
  axis: int(1),
  num_axes: int(1),
  filler: msg('FillerParameter'),
  bias_term: bool(false),
  bias_filler: msg('FillerParameter'),
};
const SigmoidParameter: MessageSpec = { engine: en(ENGINE, 'DEFAULT') };
const SoftmaxParameter: MessageSpec = { engine: en(ENGINE, 'DEFAULT'), axis: int(1) };
const TanHParameter: MessageSpec = { engine: en(ENGINE, 'DEFAULT') };

const LayerParameter: MessageSpec = {
  name: str(''),
  type: str(''),
  bottom: rep(str()),
  top: rep(str()),
  phase: en(PHASES),
  loss_weight: rep(float()),
  param: rep(msg('ParamSpec')),
  propagate_down: rep(bool()),
  include: rep(msg('NetStateRule')),
  exclude: rep(msg('NetStateRule')),
  transform_param: msg('TransformationParameter'),
  loss_param: msg('LossParameter'),
  accuracy_param: msg('AccuracyParameter'),
  batch_norm_param: msg('BatchNormParameter'),
  concat_param: msg('ConcatParameter'),
  convolution_param: msg('ConvolutionParameter'),
  data_param: msg('DataParameter'),
  dropout_param: msg('DropoutParameter'),
  eltwise_param: msg('EltwiseParameter'),
  flatten_param: msg('FlattenParameter'),
  inner_product_param: msg('InnerProductParameter'),
  input_param: msg('InputParameter'),
  lrn_param: msg('LRNParameter'),
  pooling_param: msg('PoolingParameter'),
  relu_param: msg('ReLUParameter'),
  scale_param: msg('ScaleParameter'),
  sigmoid_param: msg('SigmoidParameter'),
  softmax_param: msg('SoftmaxParameter'),
  tanh_param: msg('TanHParameter'),
};

const NetParameter: MessageSpec = {
  name: str(''),
  input: rep(str()),
  input_shape: rep(msg('BlobShape')),
  input_dim: rep(int()),
  force_backward: bool(false),
  state: msg('NetState'),
  debug_info: bool(false),
  layer: rep(msg('LayerParameter')),
};

const SolverParameter: MessageSpec = {
  net: str(),
  net_param: msg('NetParameter'),
  train_net: str(),
  test_net: rep(str()),
  train_net_param: msg('NetParameter'),
  test_net_param: rep(msg('NetParameter')),
  train_state: msg('NetState'),
  test_state: rep(msg('NetState')),
  test_iter: rep(int()),
  test_interval: int(0),
  test_compute_loss: bool(false),
  test_initialization: bool(true),
  base_lr: float(),
  display: int(0),
  average_loss: int(1),
  max_iter: int(),
  iter_size: int(1),
  lr_policy: str(),
  gamma: float(),
  power: float(),
  momentum: float(0),
  weight_decay: float(0),
  regularization_type: str('L2'),
  stepsize: int(),
  stepvalue: rep(int()),
  clip_gradients: float(-1),
  snapshot: int(0),
  snapshot_prefix: str(''),
  snapshot_diff: bool(false),
  snapshot_format: en(['HDF5', 'BINARYPROTO'], 'BINARYPROTO'),
  solver_mode: en(['CPU', 'GPU'], 'GPU'),
  device_id: int(0),
  random_seed: int(-1),
  type: str('SGD'),
  delta: float(1e-8),
  momentum2: float(0.999),
  rms_decay: float(0.99),
  debug_info: bool(false),
  snapshot_after_train: bool(true),
  solver_type: en(['SGD', 'NESTEROV', 'ADAGRAD', 'RMSPROP', 'ADADELTA', 'ADAM']),
  layer_wise_reduce: bool(true),
  weights: rep(str()),
};

export const CAFFE_SCHEMAS: SchemaSet = Object.freeze({
  BlobShape, FillerParameter, NetState, NetStateRule, ParamSpec, TransformationParameter, LossParameter,
  AccuracyParameter, BatchNormParameter, ConcatParameter, ConvolutionParameter, DataParameter, DropoutParameter,
  EltwiseParameter, FlattenParameter, InnerProductParameter, InputParameter, LRNParameter, PoolingParameter,
  ReLUParameter, ScaleParameter, SigmoidParameter, SoftmaxParameter, TanHParameter, LayerParameter, NetParameter,
  SolverParameter,
});
