import type { Blob } from '../blob.js';
import { Layer } from '../layer.js';

/**
 * Local response normalisation across channels (lrn_layer.cpp): with s = k + α/n · Σ x² over the n
 * channels centred on c, y = x · s^−β. Backward:
 * dx_c = dy_c · s_c^−β − (2αβ/n) · x_c · Σ_{c' whose window holds c} dy_c' · y_c' / s_c'.
 */
export class LRNLayer extends Layer {
  private size = 5;
  private alpha = 1;
  private beta = 0.75;
  private k = 1;
  private scale = new Float32Array(0);

  protected override layerSetUp(bottom: Blob[]): void {
    const p = this.def.msg('lrn_param');
    if (p.str('norm_region') !== 'ACROSS_CHANNELS') throw this.defError('only norm_region ACROSS_CHANNELS is supported', p, 'norm_region');
    this.size = p.num('local_size');
    if (this.size % 2 !== 1) throw this.defError(`local_size must be odd, got ${this.size}`, p, 'local_size');
    this.alpha = p.num('alpha');
    this.beta = p.num('beta');
    this.k = p.num('k');
    if (bottom[0]!.numAxes !== 4) throw this.shapeError(`bottom '${bottom[0]!.name}' must be 4-D, got ${bottom[0]!.shapeString()}`);
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    if (bottom[0]!.numAxes !== 4) throw this.shapeError(`bottom '${bottom[0]!.name}' must be 4-D, got ${bottom[0]!.shapeString()}`);
    top[0]!.reshapeLike(bottom[0]!);
    if (this.scale.length < bottom[0]!.count) this.scale = new Float32Array(bottom[0]!.count);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const [N, C, H, W] = bottom[0]!.shape as [number, number, number, number];
    const x = bottom[0]!.data;
    const y = top[0]!.data;
    const s = this.scale;
    const P = H * W;
    const pre = (this.size - 1) / 2;
    const an = this.alpha / this.size;
    for (let n = 0; n < N; n++) {
      const base = n * C * P;
      for (let c = 0; c < C; c++) {
        const lo = Math.max(0, c - pre);
        const hi = Math.min(C - 1, c + pre);
        for (let i = 0; i < P; i++) {
          let sum = 0;
          for (let cc = lo; cc <= hi; cc++) {
            const v = x[base + cc * P + i]!;
            sum += v * v;
          }
          s[base + c * P + i] = this.k + an * sum;
        }
      }
    }
    for (let i = 0, n = bottom[0]!.count; i < n; i++) y[i] = x[i]! * Math.pow(s[i]!, -this.beta);
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return;
    const [N, C, H, W] = bottom[0]!.shape as [number, number, number, number];
    const x = bottom[0]!.data;
    const dx = bottom[0]!.diff;
    const y = top[0]!.data;
    const dy = top[0]!.diff;
    const s = this.scale;
    const P = H * W;
    const pre = (this.size - 1) / 2;
    const factor = (2 * this.alpha * this.beta) / this.size;
    for (let n = 0; n < N; n++) {
      const base = n * C * P;
      for (let c = 0; c < C; c++) {
        const lo = Math.max(0, c - pre);
        const hi = Math.min(C - 1, c + pre);
        for (let i = 0; i < P; i++) {
          let acc = 0;
          for (let cc = lo; cc <= hi; cc++) {
            const j = base + cc * P + i;
            acc += (dy[j]! * y[j]!) / s[j]!;
          }
          const j = base + c * P + i;
          dx[j] = dy[j]! * Math.pow(s[j]!, -this.beta) - factor * x[j]! * acc;
        }
      }
    }
  }
}
