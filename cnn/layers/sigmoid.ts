import type { Blob } from '../blob.js';
import { NeuronLayer } from './neuron.js';

/** y = 1 / (1 + e^−x); dx = dy · y (1 − y), from the top's values (so in place works). */
export class SigmoidLayer extends NeuronLayer {
  override forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data;
    const y = top[0]!.data;
    for (let i = 0, n = bottom[0]!.count; i < n; i++) y[i] = 0.5 * Math.tanh(0.5 * x[i]!) + 0.5;
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return;
    const y = top[0]!.data;
    const dy = top[0]!.diff;
    const dx = bottom[0]!.diff;
    for (let i = 0, n = top[0]!.count; i < n; i++) {
      const v = y[i]!;
      dx[i] = dy[i]! * v * (1 - v);
    }
  }
}
