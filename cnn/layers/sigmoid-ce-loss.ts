import type { Blob } from '../blob.js';
import { normalizer } from './loss-common.js';
import { NormalizedLossLayer } from './normalized-loss-layer.js';

/**
 * −Σ [t log σ(x) + (1 − t) log(1 − σ(x))], computed in the overflow-free form
 * x·(t − [x ≥ 0]) − log(1 + e^(x − 2x[x ≥ 0])), divided by the batch size (Caffe's default for this
 * layer, BATCH_SIZE, unless loss_param says otherwise). Gradient: (σ(x) − t) · weight / normaliser.
 */
export class SigmoidCrossEntropyLossLayer extends NormalizedLossLayer {
  protected override readonly defaultNormalization = 'BATCH_SIZE';

  override reshape(bottom: Blob[], top: Blob[]): void {
    if (bottom[0]!.count !== bottom[1]!.count) {
      throw this.shapeError(`bottoms '${bottom[0]!.name}' ${bottom[0]!.shapeString()} and '${bottom[1]!.name}' ${bottom[1]!.shapeString()} must have the same count`);
    }
    top[0]!.reshape([]);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data;
    const t = bottom[1]!.data;
    const n = bottom[0]!.count;
    let loss = 0;
    let valid = 0;
    for (let i = 0; i < n; i++) {
      const target = t[i]!;
      if (this.isIgnored(target)) continue;
      const v = x[i]!;
      const pos = v >= 0 ? 1 : 0;
      loss -= v * (target - pos) - Math.log(1 + Math.exp(v - 2 * v * pos));
      valid++;
    }
    const outer = bottom[0]!.shape[0] ?? 1;
    this.norm = normalizer(this.mode, outer, n / outer, valid);
    top[0]!.data[0] = loss / this.norm;
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return;
    const x = bottom[0]!.data;
    const t = bottom[1]!.data;
    const dx = bottom[0]!.diff;
    const scale = top[0]!.diff[0]! / this.norm;
    for (let i = 0, n = bottom[0]!.count; i < n; i++) {
      if (this.isIgnored(t[i]!)) {
        dx[i] = 0;
        continue;
      }
      const s = 0.5 * Math.tanh(0.5 * x[i]!) + 0.5;
      dx[i] = scale * (s - t[i]!);
    }
  }
}
