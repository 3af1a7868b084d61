import type { Blob } from '../blob.js';
import { Layer } from '../layer.js';

/**
 * Inserted by the net where one blob feeds several layers (Caffe's insert_splits): every consumer gets
 * its own copy, and backward sums their gradients, since layers overwrite (not add to) bottom diffs.
 */
export class SplitLayer extends Layer {
  override get topRange(): [number, number] {
    return [1, Infinity];
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    for (const t of top) t.reshapeLike(bottom[0]!);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data.subarray(0, bottom[0]!.count);
    for (const t of top) t.data.set(x);
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return;
    const dx = bottom[0]!.diff;
    const n = bottom[0]!.count;
    dx.set(top[0]!.diff.subarray(0, n));
    for (let t = 1; t < top.length; t++) {
      const d = top[t]!.diff;
      for (let i = 0; i < n; i++) dx[i] += d[i]!;
    }
  }
}
