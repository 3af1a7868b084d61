import type { Blob } from '../blob.js';
import { Layer } from '../layer.js';

/** Element-wise SUM (with optional coefficients), PROD or MAX of bottoms of one shape. */
export class EltwiseLayer extends Layer {
  private op: 'SUM' | 'PROD' | 'MAX' = 'SUM';
  private coeffs: number[] = [];
  private argmax = new Int32Array(0);

  override get bottomRange(): [number, number] {
    return [2, Infinity];
  }

  protected override layerSetUp(bottom: Blob[]): void {
    const p = this.def.msg('eltwise_param');
    this.op = p.str('operation') as 'SUM' | 'PROD' | 'MAX';
    const coeff = p.nums('coeff');
    if (coeff.length > 0 && this.op !== 'SUM') throw this.defError('coeff applies to operation SUM only', p, 'coeff');
    if (coeff.length > 0 && coeff.length !== bottom.length) throw this.defError(`${coeff.length} coeff values for ${bottom.length} bottoms`, p, 'coeff');
    this.coeffs = coeff.length > 0 ? coeff : bottom.map(() => 1);
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    for (const b of bottom) {
      if (!b.sameShape(bottom[0]!)) throw this.shapeError(`bottom '${b.name}' ${b.shapeString()} differs from '${bottom[0]!.name}' ${bottom[0]!.shapeString()}`);
    }
    top[0]!.reshapeLike(bottom[0]!);
    if (this.op === 'MAX' && this.argmax.length < top[0]!.count) this.argmax = new Int32Array(top[0]!.count);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const y = top[0]!.data;
    const n = top[0]!.count;
    if (this.op === 'SUM') {
      y.fill(0, 0, n);
      for (let b = 0; b < bottom.length; b++) {
        const x = bottom[b]!.data;
        const c = this.coeffs[b]!;
        for (let i = 0; i < n; i++) y[i] += c * x[i]!;
      }
    } else if (this.op === 'PROD') {
      y.set(bottom[0]!.data.subarray(0, n));
      for (let b = 1; b < bottom.length; b++) {
        const x = bottom[b]!.data;
        for (let i = 0; i < n; i++) y[i] *= x[i]!;
      }
    } else {
      const arg = this.argmax;
      for (let i = 0; i < n; i++) {
        let best = bottom[0]!.data[i]!;
        let k = 0;
        for (let b = 1; b < bottom.length; b++) {
          const v = bottom[b]!.data[i]!;
          if (v > best) {
            best = v;
            k = b;
          }
        }
        y[i] = best;
        arg[i] = k;
      }
    }
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    const dy = top[0]!.diff;
    const n = top[0]!.count;
    for (let b = 0; b < bottom.length; b++) {
      if (!propagateDown[b]) continue;
      const dx = bottom[b]!.diff;
      if (this.op === 'SUM') {
        const c = this.coeffs[b]!;
        for (let i = 0; i < n; i++) dx[i] = c * dy[i]!;
      } else if (this.op === 'PROD') {
        // the product of the other bottoms, computed directly (Caffe's stable_prod_grad)
        for (let i = 0; i < n; i++) {
          let prod = dy[i]!;
          for (let o = 0; o < bottom.length; o++) if (o !== b) prod *= bottom[o]!.data[i]!;
          dx[i] = prod;
        }
      } else {
        for (let i = 0; i < n; i++) dx[i] = this.argmax[i] === b ? dy[i]! : 0;
      }
    }
  }
}
