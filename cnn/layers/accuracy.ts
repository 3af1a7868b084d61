import type { Blob } from '../blob.js';
import { Layer } from '../layer.js';
import { checkClassLabel, classAxisOf, type ClassAxis } from './class-axis.js';

/**
 * The fraction of predictions whose label is among the top_k scores. As in Caffe, a score equal to
 * the true class's counts as better (ties go against the prediction). No gradient.
 */
export class AccuracyLayer extends Layer {
  private topK = 1;
  private ignore: number | null = null;
  private layout: ClassAxis = { outer: 0, channels: 0, inner: 0 };

  override get bottomRange(): [number, number] {
    return [2, 2];
  }

  override allowBackward(): boolean {
    return false;
  }

  protected override layerSetUp(): void {
    const p = this.def.msg('accuracy_param');
    this.topK = p.num('top_k');
    this.ignore = p.has('ignore_label') ? p.num('ignore_label') : null;
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!;
    this.layout = classAxisOf(b, this.def.msg('accuracy_param').num('axis'));
    const { outer, channels, inner } = this.layout;
    if (this.topK < 1 || this.topK > channels) throw this.defError(`top_k ${this.topK} must be in [1, ${channels}]`, this.def.msg('accuracy_param'), 'top_k');
    if (bottom[1]!.count !== outer * inner) {
      throw this.shapeError(`label blob '${bottom[1]!.name}' ${bottom[1]!.shapeString()} must have ${outer * inner} values`);
    }
    top[0]!.reshape([]);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data;
    const label = bottom[1]!.data;
    const { outer, channels, inner } = this.layout;
    let correct = 0;
    let count = 0;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const l = label[o * inner + j]!;
        if (this.ignore !== null && l === this.ignore) continue;
        checkClassLabel(this, l, o, channels, bottom[1]!);
        const base = o * channels * inner + j;
        const truth = x[base + l * inner]!;
        let better = -1; // the true class counts itself
        for (let c = 0; c < channels && better < this.topK; c++) if (x[base + c * inner]! >= truth) better++;
        if (better < this.topK) correct++;
        count++;
      }
    }
    top[0]!.data[0] = count === 0 ? 0 : correct / count;
  }

  override backward(): void {
    // accuracy is not differentiable; the net never asks (allowBackward is false)
  }
}
