import type { Blob } from '../blob.js';
import { Layer } from '../layer.js';

/** Joins the bottoms along `axis` (default 1, the channels); all other dimensions must agree. */
export class ConcatLayer extends Layer {
  private axis = 1;

  override get bottomRange(): [number, number] {
    return [1, Infinity];
  }

  protected override layerSetUp(bottom: Blob[]): void {
    const p = this.def.msg('concat_param');
    const raw = p.has('concat_dim') ? p.num('concat_dim') : p.num('axis');
    this.axis = bottom[0]!.canonicalAxis(raw);
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    const first = bottom[0]!;
    const shape = first.shape.slice();
    for (let b = 1; b < bottom.length; b++) {
      const s = bottom[b]!;
      if (s.numAxes !== first.numAxes) throw this.shapeError(`bottoms '${first.name}' ${first.shapeString()} and '${s.name}' ${s.shapeString()} have different numbers of axes`);
      for (let i = 0; i < shape.length; i++) {
        if (i === this.axis) continue;
        if (s.shape[i] !== first.shape[i]) throw this.shapeError(`bottom '${s.name}' ${s.shapeString()} differs from '${first.name}' ${first.shapeString()} outside the concat axis ${this.axis}`);
      }
      shape[this.axis] += s.shape[this.axis]!;
    }
    top[0]!.reshape(shape);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    this.copy(bottom, top[0]!, false);
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    this.copy(bottom, top[0]!, true, propagateDown);
  }

  private copy(bottom: Blob[], top: Blob, back: boolean, propagateDown?: boolean[]): void {
    const outer = top.countRange(0, this.axis);
    const inner = top.countRange(this.axis + 1);
    const topRow = top.shape[this.axis]! * inner;
    let offset = 0;
    for (let b = 0; b < bottom.length; b++) {
      const s = bottom[b]!;
      const row = s.shape[this.axis]! * inner;
      if (!back || propagateDown![b]) {
        for (let o = 0; o < outer; o++) {
          if (back) s.diff.set(top.diff.subarray(o * topRow + offset, o * topRow + offset + row), o * row);
          else top.data.set(s.data.subarray(o * row, (o + 1) * row), o * topRow + offset);
        }
      }
      offset += row;
    }
  }
}
