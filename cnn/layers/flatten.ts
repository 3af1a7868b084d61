import type { Blob } from '../blob.js';
import { Layer } from '../layer.js';

/** Collapses axes [axis, end_axis] into one; the values are copied unchanged. */
export class FlattenLayer extends Layer {
  override reshape(bottom: Blob[], top: Blob[]): void {
    const p = this.def.msg('flatten_param');
    const b = bottom[0]!;
    const start = b.canonicalAxis(p.num('axis'));
    const end = b.canonicalAxis(p.num('end_axis'));
    if (end < start) throw this.defError(`end_axis ${p.num('end_axis')} comes before axis ${p.num('axis')} for bottom ${b.shapeString()}`, p);
    if (top[0] === b) throw this.defError('Flatten cannot work in place');
    top[0]!.reshape([...b.shape.slice(0, start), b.countRange(start, end + 1), ...b.shape.slice(end + 1)]);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    top[0]!.data.set(bottom[0]!.data.subarray(0, bottom[0]!.count));
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (propagateDown[0]) bottom[0]!.diff.set(top[0]!.diff.subarray(0, top[0]!.count));
  }
}
