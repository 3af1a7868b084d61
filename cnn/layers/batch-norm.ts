import type { Rng } from '../../runtime/asgd/rng.js';
import { Blob } from '../blob.js';
import { Layer, type ParamMults } from '../layer.js';

/**
 * Caffe's BatchNorm (batch_norm_layer.cpp): normalise each channel to zero mean and unit variance,
 * y = (x − μ)/√(σ² + eps). No learned scale or shift: Caffe puts a Scale layer after it.
 *
 * Its three blobs are state, not learned: running sums of the mean and (unbiased) variance and the
 * normalising factor, μ_run = maf·μ_run + μ, σ²_run = maf·σ²_run + m/(m−1)·σ², f = maf·f + 1; the
 * statistics used at test time are μ_run/f and σ²_run/f. They sit in the parameter array like any
 * blob (so ASGD exchanges them too) with lr_mult and decay_mult 0, and never get a gradient.
 */
export class BatchNormLayer extends Layer {
  private useGlobal = false;
  private maf = 0.999;
  private eps = 1e-5;
  private channels = 0;
  private mean = new Float64Array(0);
  private invStd = new Float64Array(0);
  private xhat = new Float32Array(0);

  protected override layerSetUp(bottom: Blob[]): void {
    const p = this.def.msg('batch_norm_param');
    this.useGlobal = p.has('use_global_stats') ? p.bool('use_global_stats') : this.ctx.phase === 'TEST';
    this.maf = p.num('moving_average_fraction');
    this.eps = p.num('eps');
    const b = bottom[0]!;
    if (b.numAxes < 2) throw this.shapeError(`bottom '${b.name}' needs a channel axis, got ${b.shapeString()}`);
    this.channels = b.shape[1]!;
    this.blobs.push(new Blob(`${this.name}.mean`, [this.channels]), new Blob(`${this.name}.variance`, [this.channels]), new Blob(`${this.name}.factor`, [1]));
    this.mean = new Float64Array(this.channels);
    this.invStd = new Float64Array(this.channels);
  }

  override paramMults(): ParamMults {
    return { lrMult: 0, decayMult: 0 };
  }

  override fill(rng: Rng): void {
    void rng;
    for (const b of this.blobs) b.data.fill(0);
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!;
    if (b.numAxes < 2 || b.shape[1] !== this.channels) throw this.shapeError(`bottom '${b.name}' ${b.shapeString()} does not have the ${this.channels} channels it was set up with`);
    if (top[0] !== b) top[0]!.reshapeLike(b);
    if (this.xhat.length < b.count) this.xhat = new Float32Array(b.count);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!;
    const N = b.shape[0]!;
    const C = this.channels;
    const P = b.countRange(2);
    const m = N * P;
    const x = b.data;
    const y = top[0]!.data;
    const [runMean, runVar, factor] = this.blobs as [Blob, Blob, Blob];
    if (this.useGlobal) {
      const f = factor.data[0]! === 0 ? 0 : 1 / factor.data[0]!;
      for (let c = 0; c < C; c++) {
        this.mean[c] = runMean.data[c]! * f;
        this.invStd[c] = 1 / Math.sqrt(runVar.data[c]! * f + this.eps);
      }
    } else {
      for (let c = 0; c < C; c++) {
        let s = 0;
        let s2 = 0;
        for (let n = 0; n < N; n++) {
          for (let i = (n * C + c) * P, e = i + P; i < e; i++) {
            const v = x[i]!;
            s += v;
            s2 += v * v;
          }
        }
        const mu = s / m;
        const variance = Math.max(0, s2 / m - mu * mu);
        this.mean[c] = mu;
        this.invStd[c] = 1 / Math.sqrt(variance + this.eps);
        const correction = m > 1 ? m / (m - 1) : 1;
        runMean.data[c] = this.maf * runMean.data[c]! + mu;
        runVar.data[c] = this.maf * runVar.data[c]! + correction * variance;
      }
      factor.data[0] = this.maf * factor.data[0]! + 1;
    }
    const xhat = this.xhat;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const mu = this.mean[c]!;
        const is = this.invStd[c]!;
        for (let i = (n * C + c) * P, e = i + P; i < e; i++) {
          const v = (x[i]! - mu) * is;
          xhat[i] = v;
          y[i] = v;
        }
      }
    }
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return;
    const b = bottom[0]!;
    const N = b.shape[0]!;
    const C = this.channels;
    const P = b.countRange(2);
    const m = N * P;
    const dy = top[0]!.diff;
    const dx = b.diff;
    const xhat = this.xhat;
    for (let c = 0; c < C; c++) {
      const is = this.invStd[c]!;
      if (this.useGlobal) {
        for (let n = 0; n < N; n++) {
          for (let i = (n * C + c) * P, e = i + P; i < e; i++) dx[i] = dy[i]! * is;
        }
        continue;
      }
      let sdy = 0;
      let sdyx = 0;
      for (let n = 0; n < N; n++) {
        for (let i = (n * C + c) * P, e = i + P; i < e; i++) {
          sdy += dy[i]!;
          sdyx += dy[i]! * xhat[i]!;
        }
      }
      const mdy = sdy / m;
      const mdyx = sdyx / m;
      for (let n = 0; n < N; n++) {
        for (let i = (n * C + c) * P, e = i + P; i < e; i++) dx[i] = (dy[i]! - mdy - xhat[i]! * mdyx) * is;
      }
    }
  }

  /** the blobs are statistics, not learned: a gradient checker must leave them alone */
  override learnable(): boolean {
    return false;
  }
}
