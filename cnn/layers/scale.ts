import type { Rng } from '../../runtime/asgd/rng.js';
import { Blob } from '../blob.js';
import { checkFiller, fillBlob } from '../filler.js';
import { Layer } from '../layer.js';
import type { Msg } from '../proto/message.js';

/**
 * y = γ ⊙ x (+ β with bias_term), γ and β learned over axes [axis, axis + num_axes) of the bottom and
 * broadcast over the rest (scale_layer.cpp, one-bottom form). Without a filler γ starts at 1, as in Caffe.
 * In place (after BatchNorm, the usual pairing) keeps a copy of x for γ's gradient.
 */
export class ScaleLayer extends Layer {
  private p!: Msg;
  private axis = 1;
  private outer = 0;
  private dim = 0;
  private inner = 0;
  private biasTerm = false;
  private xCopy = new Float32Array(0);

  protected override layerSetUp(bottom: Blob[]): void {
    const p = (this.p = this.def.msg('scale_param'));
    const b = bottom[0]!;
    this.axis = b.canonicalAxis(p.num('axis'));
    const numAxes = p.num('num_axes');
    if (numAxes < -1) throw this.defError('num_axes must be ≥ −1', p, 'num_axes');
    const end = numAxes === -1 ? b.numAxes : this.axis + numAxes;
    if (end > b.numAxes) throw this.shapeError(`axis ${this.axis} + num_axes ${numAxes} exceeds the ${b.numAxes} axes of bottom '${b.name}'`);
    if (p.has('filler')) checkFiller(p.msg('filler'), `layer '${this.name}' filler`);
    this.blobs.push(new Blob(`${this.name}.scale`, b.shape.slice(this.axis, end)));
    this.biasTerm = p.bool('bias_term');
    if (this.biasTerm) {
      checkFiller(p.msg('bias_filler'), `layer '${this.name}' bias_filler`);
      this.blobs.push(new Blob(`${this.name}.bias`, b.shape.slice(this.axis, end)));
    }
  }

  override fill(rng: Rng): void {
    if (this.p.has('filler')) fillBlob(this.blobs[0]!, this.p.msg('filler'), rng);
    else this.blobs[0]!.data.fill(1);
    if (this.biasTerm) fillBlob(this.blobs[1]!, this.p.msg('bias_filler'), rng);
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!;
    const s = this.blobs[0]!;
    for (let i = 0; i < s.numAxes; i++) {
      if (b.shape[this.axis + i] !== s.shape[i]) throw this.shapeError(`bottom '${b.name}' ${b.shapeString()} does not match the scale shape ${s.shapeString()} at axis ${this.axis}`);
    }
    this.outer = b.countRange(0, this.axis);
    this.dim = s.count;
    this.inner = b.countRange(this.axis + s.numAxes);
    if (top[0] !== b) top[0]!.reshapeLike(b);
    else if (this.xCopy.length < b.count) this.xCopy = new Float32Array(b.count);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const x = bottom[0]!.data;
    const y = top[0]!.data;
    if (top[0] === bottom[0]) this.xCopy.set(x.subarray(0, bottom[0]!.count));
    const g = this.blobs[0]!.data;
    const beta = this.biasTerm ? this.blobs[1]!.data : null;
    let i = 0;
    for (let o = 0; o < this.outer; o++) {
      for (let d = 0; d < this.dim; d++) {
        const s = g[d]!;
        const b = beta ? beta[d]! : 0;
        for (let e = i + this.inner; i < e; i++) y[i] = x[i]! * s + b;
      }
    }
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    const x = top[0] === bottom[0] ? this.xCopy : bottom[0]!.data;
    const dy = top[0]!.diff;
    const dx = bottom[0]!.diff;
    const g = this.blobs[0]!.data;
    const dg = this.blobs[0]!.diff;
    const dbeta = this.biasTerm ? this.blobs[1]!.diff : null;
    let i = 0;
    for (let o = 0; o < this.outer; o++) {
      for (let d = 0; d < this.dim; d++) {
        const s = g[d]!;
        let sg = 0;
        let sb = 0;
        for (let e = i + this.inner; i < e; i++) {
          const v = dy[i]!;
          sg += v * x[i]!;
          sb += v;
          if (propagateDown[0]) dx[i] = v * s;
        }
        dg[d] += sg;
        if (dbeta) dbeta[d] += sb;
      }
    }
  }
}
