import type { Blob } from '../blob.js';
import { LabelRangeError } from '../errors.js';
import type { Layer } from '../layer.js';

/**
 * Class scores along one axis, as Caffe's Softmax, SoftmaxWithLoss and Accuracy see a blob: `outer`
 * predictions before the axis, `channels` classes on it, `inner` positions after it (a label per
 * outer × inner prediction).
 */
export interface ClassAxis {
  outer: number;
  channels: number;
  inner: number;
}

/** The layout of `blob` around `axis` (negative counts from the end, as in Caffe). */
export function classAxisOf(blob: Blob, axis: number): ClassAxis {
  const a = blob.canonicalAxis(axis);
  return { outer: blob.countRange(0, a), channels: blob.shape[a]!, inner: blob.countRange(a + 1) };
}

/** A label must name a class, an integer in [0, channels): anything else is a LabelRangeError. */
export function checkClassLabel(layer: Layer, label: number, sample: number, channels: number, labels: Blob): void {
  if (!(label >= 0 && label < channels && Number.isInteger(label))) {
    throw new LabelRangeError(`layer '${layer.name}' (${layer.type}): label ${label} of sample ${sample} is outside [0, ${channels}) (from blob '${labels.name}')`);
  }
}
