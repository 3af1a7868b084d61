import type { Blob } from '../blob.js';
import { NeuronLayer } from './neuron.js';

/** y = tanh(x); dx = dy · (1 − y²). */
export class TanHLayer extends NeuronLayer {
  override forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data;
    const y = top[0]!.data;
    for (let i = 0, n = bottom[0]!.count; i < n; i++) y[i] = Math.tanh(x[i]!);
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return;
    const y = top[0]!.data;
    const dy = top[0]!.diff;
    const dx = bottom[0]!.diff;
    for (let i = 0, n = top[0]!.count; i < n; i++) {
      const v = y[i]!;
      dx[i] = dy[i]! * (1 - v * v);
    }
  }
}
