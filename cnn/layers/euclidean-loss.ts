import type { Blob } from '../blob.js';
import { Layer } from '../layer.js';

/** ½ Σ (a − b)² / N with N the first dimension; both bottoms may take a gradient (±(a − b)/N). */
export class EuclideanLossLayer extends Layer {
  private diffBuf = new Float32Array(0);

  override get bottomRange(): [number, number] {
    return [2, 2];
  }

  override get isLoss(): boolean {
    return true;
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    const [a, b] = bottom as [Blob, Blob];
    if (a.countRange(1) !== b.countRange(1) || a.shape[0] !== b.shape[0]) {
      throw this.shapeError(`bottoms '${a.name}' ${a.shapeString()} and '${b.name}' ${b.shapeString()} must have the same number of values per sample`);
    }
    top[0]!.reshape([]);
    if (this.diffBuf.length < a.count) this.diffBuf = new Float32Array(a.count);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const a = bottom[0]!.data;
    const b = bottom[1]!.data;
    const d = this.diffBuf;
    let s = 0;
    for (let i = 0, n = bottom[0]!.count; i < n; i++) {
      const v = a[i]! - b[i]!;
      d[i] = v;
      s += v * v;
    }
    top[0]!.data[0] = s / bottom[0]!.shape[0]! / 2;
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    const num = bottom[0]!.shape[0]!;
    for (let k = 0; k < 2; k++) {
      if (!propagateDown[k]) continue;
      const alpha = ((k === 0 ? 1 : -1) * top[0]!.diff[0]!) / num;
      const dx = bottom[k]!.diff;
      for (let i = 0, n = bottom[k]!.count; i < n; i++) dx[i] = alpha * this.diffBuf[i]!;
    }
  }
}
