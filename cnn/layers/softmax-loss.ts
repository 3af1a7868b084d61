import type { Blob } from '../blob.js';
import { normalizer } from './loss-common.js';
import { NormalizedLossLayer } from './normalized-loss-layer.js';
import { checkClassLabel, classAxisOf, type ClassAxis } from './class-axis.js';
import { softmaxInto } from './softmax.js';

const FLT_MIN = 1.17549435e-38;

/**
 * Softmax followed by the multinomial logistic loss, −log p_label averaged over the valid labels
 * (normalization VALID by default; ignore_label skips positions). The gradient is p − onehot(label),
 * scaled by the loss weight over the normaliser. An optional second top receives the probabilities.
 */
export class SoftmaxWithLossLayer extends NormalizedLossLayer {
  protected override readonly defaultNormalization = 'VALID';
  private layout: ClassAxis = { outer: 0, channels: 0, inner: 0 };
  private prob = new Float32Array(0);

  override get topRange(): [number, number] {
    return [1, 2];
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!;
    this.layout = classAxisOf(b, this.def.msg('softmax_param').num('axis'));
    const { outer, inner } = this.layout;
    if (bottom[1]!.count !== outer * inner) {
      throw this.shapeError(`label blob '${bottom[1]!.name}' ${bottom[1]!.shapeString()} must have ${outer * inner} values (one per prediction of '${b.name}' ${b.shapeString()})`);
    }
    top[0]!.reshape([]);
    if (top[1]) top[1].reshapeLike(b);
    if (this.prob.length < b.count) this.prob = new Float32Array(b.count);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const { outer, channels, inner } = this.layout;
    const prob = this.prob;
    softmaxInto(bottom[0]!.data, prob, outer, channels, inner);
    const label = bottom[1]!.data;
    let loss = 0;
    let valid = 0;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const l = label[o * inner + j]!;
        if (this.isIgnored(l)) continue;
        checkClassLabel(this, l, o, channels, bottom[1]!);
        loss -= Math.log(Math.max(prob[(o * channels + l) * inner + j]!, FLT_MIN));
        valid++;
      }
    }
    this.norm = normalizer(this.mode, outer, inner, valid);
    top[0]!.data[0] = loss / this.norm;
    if (top[1]) top[1].data.set(prob.subarray(0, bottom[0]!.count));
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return;
    const { outer, channels, inner } = this.layout;
    const dx = bottom[0]!.diff;
    const label = bottom[1]!.data;
    const scale = top[0]!.diff[0]! / this.norm;
    const prob = this.prob;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const l = label[o * inner + j]!;
        const base = o * channels * inner + j;
        if (this.isIgnored(l)) {
          for (let c = 0, i = base; c < channels; c++, i += inner) dx[i] = 0;
          continue;
        }
        for (let c = 0, i = base; c < channels; c++, i += inner) dx[i] = scale * (prob[i]! - (c === l ? 1 : 0));
      }
    }
  }
}
