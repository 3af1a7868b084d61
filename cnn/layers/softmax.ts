import type { Blob } from '../blob.js';
import { Layer } from '../layer.js';
import { classAxisOf, type ClassAxis } from './class-axis.js';

/** Softmax of `x` over `channels` entries strided by `inner`, for each of `outer` × `inner` positions. */
export function softmaxInto(x: Float32Array, y: Float32Array, outer: number, channels: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * channels * inner + j;
      let max = -Infinity;
      for (let c = 0, i = base; c < channels; c++, i += inner) if (x[i]! > max) max = x[i]!;
      let sum = 0;
      for (let c = 0, i = base; c < channels; c++, i += inner) {
        const e = Math.exp(x[i]! - max);
        y[i] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let c = 0, i = base; c < channels; c++, i += inner) y[i] = y[i]! * inv;
    }
  }
}

/** Softmax along `axis` (default 1); dx = y ⊙ (dy − Σ_c dy·y). */
export class SoftmaxLayer extends Layer {
  private layout: ClassAxis = { outer: 0, channels: 0, inner: 0 };

  override reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!;
    this.layout = classAxisOf(b, this.def.msg('softmax_param').num('axis'));
    if (top[0] !== b) top[0]!.reshapeLike(b);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const { outer, channels, inner } = this.layout;
    softmaxInto(bottom[0]!.data, top[0]!.data, outer, channels, inner);
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return;
    const y = top[0]!.data;
    const dy = top[0]!.diff;
    const dx = bottom[0]!.diff;
    const { outer, channels, inner } = this.layout;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * channels * inner + j;
        let dot = 0;
        for (let c = 0, i = base; c < channels; c++, i += inner) dot += dy[i]! * y[i]!;
        for (let c = 0, i = base; c < channels; c++, i += inner) dx[i] = y[i]! * (dy[i]! - dot);
      }
    }
  }
}
