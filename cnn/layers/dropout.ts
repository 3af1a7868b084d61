import type { Blob } from '../blob.js';
import { NeuronLayer } from './neuron.js';

/**
 * Training: each value is kept with probability 1 − dropout_ratio and scaled by 1/(1 − ratio) (Caffe's
 * "inverted" dropout, scale_train: true), so that testing is the identity. With scale_train: false the
 * scaling moves to test time instead. The mask comes from the net's seeded random stream.
 */
export class DropoutLayer extends NeuronLayer {
  private ratio = 0.5;
  private scaleTrain = true;
  private mask = new Uint8Array(0);

  protected override layerSetUp(): void {
    const p = this.def.msg('dropout_param');
    this.ratio = p.num('dropout_ratio');
    if (!(this.ratio >= 0 && this.ratio < 1)) throw this.defError(`dropout_ratio must be in [0, 1), got ${this.ratio}`, p, 'dropout_ratio');
    this.scaleTrain = p.bool('scale_train');
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    super.reshape(bottom, top);
    if (this.mask.length < bottom[0]!.count) this.mask = new Uint8Array(bottom[0]!.count);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data;
    const y = top[0]!.data;
    const n = bottom[0]!.count;
    const keep = 1 - this.ratio;
    if (this.ctx.phase === 'TRAIN') {
      const scale = this.scaleTrain ? 1 / keep : 1;
      const rng = this.ctx.rng;
      const mask = this.mask;
      for (let i = 0; i < n; i++) {
        const m = rng.uniform() < keep ? 1 : 0;
        mask[i] = m;
        y[i] = m === 1 ? x[i]! * scale : 0;
      }
    } else {
      const scale = this.scaleTrain ? 1 : keep;
      for (let i = 0; i < n; i++) y[i] = x[i]! * scale;
    }
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return;
    const dy = top[0]!.diff;
    const dx = bottom[0]!.diff;
    const n = bottom[0]!.count;
    if (this.ctx.phase === 'TRAIN') {
      const scale = this.scaleTrain ? 1 / (1 - this.ratio) : 1;
      for (let i = 0; i < n; i++) dx[i] = this.mask[i] === 1 ? dy[i]! * scale : 0;
    } else {
      const scale = this.scaleTrain ? 1 : 1 - this.ratio;
      for (let i = 0; i < n; i++) dx[i] = dy[i]! * scale;
    }
  }
}
