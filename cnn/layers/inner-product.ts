import type { Rng } from '../../runtime/asgd/rng.js';
import { Blob } from '../blob.js';
import { checkFiller, fillBlob } from '../filler.js';
import { Layer } from '../layer.js';
import { gemm } from '../math/blas.js';
import type { Msg } from '../proto/message.js';

/**
 * Fully connected layer: the bottom is flattened from `axis` on into rows of K values; top (M × N) =
 * bottom (M × K) · Wᵀ + b with W of shape N × K (K × N with `transpose: true`), as Caffe stores it.
 */
export class InnerProductLayer extends Layer {
  private p!: Msg;
  private numOutput = 0;
  private biasTerm = true;
  private transpose = false;
  private axis = 1;
  private K = 0;
  private M = 0;
  private ones = new Float32Array(0);

  protected override layerSetUp(bottom: Blob[]): void {
    const p = (this.p = this.def.msg('inner_product_param'));
    if (!p.has('num_output')) throw this.defError('num_output is required', p);
    this.numOutput = p.num('num_output');
    this.biasTerm = p.bool('bias_term');
    this.transpose = p.bool('transpose');
    const b = bottom[0]!;
    this.axis = b.canonicalAxis(p.num('axis'));
    this.K = b.countRange(this.axis);
    checkFiller(p.msg('weight_filler'), `layer '${this.name}' weight_filler`);
    this.blobs.push(new Blob(`${this.name}.weight`, this.transpose ? [this.K, this.numOutput] : [this.numOutput, this.K]));
    if (this.biasTerm) {
      checkFiller(p.msg('bias_filler'), `layer '${this.name}' bias_filler`);
      this.blobs.push(new Blob(`${this.name}.bias`, [this.numOutput]));
    }
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!;
    const k = b.countRange(this.axis);
    if (k !== this.K) throw this.shapeError(`bottom '${b.name}' ${b.shapeString()} has ${k} inputs per row; the weights were set up for ${this.K}`);
    this.M = b.countRange(0, this.axis);
    top[0]!.reshape([...b.shape.slice(0, this.axis), this.numOutput]);
    if (this.ones.length < this.M) this.ones = new Float32Array(this.M).fill(1);
  }

  override fill(rng: Rng): void {
    fillBlob(this.blobs[0]!, this.p.msg('weight_filler'), rng);
    if (this.biasTerm) fillBlob(this.blobs[1]!, this.p.msg('bias_filler'), rng);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const { M, K } = this;
    const N = this.numOutput;
    const y = top[0]!.data;
    gemm(false, !this.transpose, M, N, K, 1, bottom[0]!.data, 0, this.blobs[0]!.data, 0, 0, y, 0);
    if (this.biasTerm) {
      const bias = this.blobs[1]!.data;
      for (let m = 0; m < M; m++) {
        for (let n = 0, o = m * N; n < N; n++, o++) y[o] += bias[n]!;
      }
    }
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    const { M, K } = this;
    const N = this.numOutput;
    const dy = top[0]!.diff;
    const w = this.blobs[0]!;
    if (this.transpose) {
      // dW (K × N) += xᵀ (K × M) · dy (M × N)
      gemm(true, false, K, N, M, 1, bottom[0]!.data, 0, dy, 0, 1, w.diff, 0);
    } else {
      // dW (N × K) += dyᵀ (N × M) · x (M × K)
      gemm(true, false, N, K, M, 1, dy, 0, bottom[0]!.data, 0, 1, w.diff, 0);
    }
    if (this.biasTerm) {
      const db = this.blobs[1]!.diff;
      for (let m = 0; m < M; m++) {
        for (let n = 0, o = m * N; n < N; n++, o++) db[n] += dy[o]!;
      }
    }
    if (propagateDown[0]) {
      // dx (M × K) = dy (M × N) · W (N × K)   [or · Wᵀ with transpose]
      gemm(false, this.transpose, M, K, N, 1, dy, 0, w.data, 0, 0, bottom[0]!.diff, 0);
    }
  }
}
