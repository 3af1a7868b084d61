import type { Blob } from '../blob.js';
import { NeuronLayer } from './neuron.js';

/** y = max(0, x) + negative_slope·min(0, x). In place is safe: the sign of y is the sign of x. */
export class ReLULayer extends NeuronLayer {
  private slope = 0;

  protected override layerSetUp(): void {
    this.slope = this.def.msg('relu_param').num('negative_slope');
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data;
    const y = top[0]!.data;
    const s = this.slope;
    // max/min rather than a branch on the sign, which is a coin toss on real activations
    for (let i = 0, n = bottom[0]!.count; i < n; i++) {
      const v = x[i]!;
      y[i] = Math.max(v, 0) + s * Math.min(v, 0);
    }
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return;
    // after an in-place forward bottom.data holds y, whose sign is x's (for slope ≥ 0), as in Caffe
    const x = bottom[0]!.data;
    const dy = top[0]!.diff;
    const dx = bottom[0]!.diff;
    const s = this.slope;
    for (let i = 0, n = bottom[0]!.count; i < n; i++) dx[i] = x[i]! > 0 ? dy[i]! : s * dy[i]!;
  }
}
