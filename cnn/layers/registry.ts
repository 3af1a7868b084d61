import type { Layer, LayerContext } from '../layer.js';
import type { Msg } from '../proto/message.js';
import { AccuracyLayer } from './accuracy.js';
import { BatchNormLayer } from './batch-norm.js';
import { ConcatLayer } from './concat.js';
import { ConvolutionLayer } from './convolution.js';
import { DataLayer } from './data.js';
import { DropoutLayer } from './dropout.js';
import { EltwiseLayer } from './eltwise.js';
import { EuclideanLossLayer } from './euclidean-loss.js';
import { FlattenLayer } from './flatten.js';
import { InnerProductLayer } from './inner-product.js';
import { InputLayer } from './input.js';
import { LRNLayer } from './lrn.js';
import { PoolingLayer } from './pooling.js';
import { ReLULayer } from './relu.js';
import { ScaleLayer } from './scale.js';
import { SigmoidCrossEntropyLossLayer } from './sigmoid-ce-loss.js';
import { SigmoidLayer } from './sigmoid.js';
import { SoftmaxWithLossLayer } from './softmax-loss.js';
import { SoftmaxLayer } from './softmax.js';
import { SplitLayer } from './split.js';
import { TanHLayer } from './tanh.js';

type LayerClass = new (def: Msg, ctx: LayerContext) => Layer;

/** Layer types by Caffe's type name. */
export const LAYER_TYPES: Readonly<Record<string, LayerClass>> = Object.freeze({
  Accuracy: AccuracyLayer,
  BatchNorm: BatchNormLayer,
  Concat: ConcatLayer,
  Convolution: ConvolutionLayer,
  Data: DataLayer,
  Dropout: DropoutLayer,
  Eltwise: EltwiseLayer,
  EuclideanLoss: EuclideanLossLayer,
  Flatten: FlattenLayer,
  InnerProduct: InnerProductLayer,
  Input: InputLayer,
  LRN: LRNLayer,
  Pooling: PoolingLayer,
  ReLU: ReLULayer,
  Scale: ScaleLayer,
  Sigmoid: SigmoidLayer,
  SigmoidCrossEntropyLoss: SigmoidCrossEntropyLossLayer,
  Softmax: SoftmaxLayer,
  SoftmaxWithLoss: SoftmaxWithLossLayer,
  Split: SplitLayer,
  TanH: TanHLayer,
});
