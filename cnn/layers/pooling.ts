import type { Blob } from '../blob.js';
import { Layer } from '../layer.js';
import { kernels } from '../math/blas.js';
import type { PoolGeometry } from '../math/pool-kernels.js';

/**
 * Caffe's pooling output size: ceil((H + 2·pad − kernel) / stride) + 1 (floor with round_mode FLOOR),
 * minus one when pad > 0 and the last window would start inside the padding, so that every window
 * overlaps the image.
 */
export function poolOutputSize(size: number, kernel: number, pad: number, stride: number, roundMode: 'CEIL' | 'FLOOR' = 'CEIL'): number {
  const span = (size + 2 * pad - kernel) / stride;
  let out = (roundMode === 'CEIL' ? Math.ceil(span) : Math.floor(span)) + 1;
  if (pad > 0 && (out - 1) * stride >= size + pad) out--;
  return out;
}

/**
 * MAX and AVE pooling over 2-D windows (pooling_layer.cpp). MAX remembers the winning input of each
 * output (first maximum wins ties) and routes the gradient there; AVE divides by the window's area
 * clipped to the padded image, as Caffe does, so windows on the edge count the padding.
 */
export class PoolingLayer extends Layer {
  private method: 'MAX' | 'AVE' = 'MAX';
  private global = false;
  private kernelH = 0;
  private kernelW = 0;
  private padH = 0;
  private padW = 0;
  private strideH = 1;
  private strideW = 1;
  private roundMode: 'CEIL' | 'FLOOR' = 'CEIL';
  private channels = 0;
  private height = 0;
  private width = 0;
  private outH = 0;
  private outW = 0;
  private mask = new Int32Array(0);
  /** the MAX kernels' view of the shape (planes set per call) */
  private readonly geometry: PoolGeometry = { planes: 0, height: 0, width: 0, outH: 0, outW: 0, kernelH: 0, kernelW: 0, strideH: 1, strideW: 1, padH: 0, padW: 0 };

  protected override layerSetUp(bottom: Blob[]): void {
    const p = this.def.msg('pooling_param');
    const method = p.str('pool');
    if (method === 'STOCHASTIC') throw this.defError('STOCHASTIC pooling is not supported (MAX and AVE are)', p, 'pool');
    this.method = method as 'MAX' | 'AVE';
    this.roundMode = p.str('round_mode') as 'CEIL' | 'FLOOR';
    this.global = p.bool('global_pooling');
    const b = bottom[0]!;
    if (b.numAxes !== 4) throw this.shapeError(`bottom '${b.name}' must be 4-D (N, C, H, W), got ${b.shapeString()}`);
    if (this.global) {
      if (p.has('kernel_size') || p.has('kernel_h') || p.has('kernel_w')) throw this.defError('global_pooling takes no kernel size', p, 'global_pooling');
    } else if (p.has('kernel_size')) {
      if (p.has('kernel_h') || p.has('kernel_w')) throw this.defError('give kernel_size or kernel_h/kernel_w, not both', p, 'kernel_size');
      this.kernelH = this.kernelW = p.num('kernel_size');
    } else if (p.has('kernel_h') && p.has('kernel_w')) {
      this.kernelH = p.num('kernel_h');
      this.kernelW = p.num('kernel_w');
    } else {
      throw this.defError('kernel_size (or kernel_h and kernel_w) is required', p);
    }
    if (p.has('pad_h') || p.has('pad_w')) {
      if (p.has('pad')) throw this.defError('give pad or pad_h/pad_w, not both', p, 'pad');
      this.padH = p.num('pad_h');
      this.padW = p.num('pad_w');
    } else {
      this.padH = this.padW = p.num('pad');
    }
    if (p.has('stride_h') || p.has('stride_w')) {
      if (p.has('stride')) throw this.defError('give stride or stride_h/stride_w, not both', p, 'stride');
      this.strideH = p.num('stride_h', 1);
      this.strideW = p.num('stride_w', 1);
    } else {
      this.strideH = this.strideW = p.num('stride');
    }
    if (this.global && (this.padH !== 0 || this.padW !== 0 || this.strideH !== 1 || this.strideW !== 1)) {
      throw this.defError('global_pooling needs pad 0 and stride 1', p, 'global_pooling');
    }
    if (!this.global && (this.kernelH < 1 || this.kernelW < 1)) throw this.defError('kernel size must be positive', p, 'kernel_size');
    if (this.strideH < 1 || this.strideW < 1) throw this.defError('stride must be positive', p, 'stride');
    if (this.padH >= this.kernelH || this.padW >= this.kernelW) {
      if (!this.global) throw this.defError('pad must be smaller than the kernel', p, 'pad');
    }
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    const b = bottom[0]!;
    if (b.numAxes !== 4) throw this.shapeError(`bottom '${b.name}' must be 4-D (N, C, H, W), got ${b.shapeString()}`);
    this.channels = b.shape[1]!;
    this.height = b.shape[2]!;
    this.width = b.shape[3]!;
    if (this.global) {
      this.kernelH = this.height;
      this.kernelW = this.width;
    }
    if (this.kernelH > this.height + 2 * this.padH || this.kernelW > this.width + 2 * this.padW) {
      throw this.shapeError(`a ${this.kernelH}×${this.kernelW} window does not fit the ${this.height}×${this.width} input`);
    }
    this.outH = poolOutputSize(this.height, this.kernelH, this.padH, this.strideH, this.roundMode);
    this.outW = poolOutputSize(this.width, this.kernelW, this.padW, this.strideW, this.roundMode);
    top[0]!.reshape([b.shape[0]!, this.channels, this.outH, this.outW]);
    if (this.method === 'MAX' && this.mask.length < top[0]!.count) this.mask = new Int32Array(top[0]!.count);
    const g = this.geometry;
    g.planes = b.shape[0]! * this.channels;
    g.height = this.height;
    g.width = this.width;
    g.outH = this.outH;
    g.outW = this.outW;
    g.kernelH = this.kernelH;
    g.kernelW = this.kernelW;
    g.strideH = this.strideH;
    g.strideW = this.strideW;
    g.padH = this.padH;
    g.padW = this.padW;
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    if (this.method === 'MAX') {
      this.geometry.planes = bottom[0]!.shape[0]! * this.channels;
      kernels().maxPoolForward(this.geometry, bottom[0]!.data, top[0]!.data, this.mask);
      return;
    }
    const x = bottom[0]!.data;
    const y = top[0]!.data;
    const planes = bottom[0]!.shape[0]! * this.channels;
    const H = this.height, W = this.width, OH = this.outH, OW = this.outW;
    const inPlane = H * W;
    // AVE (MAX runs in the kernels)
    let o = 0;
    for (let pl = 0; pl < planes; pl++) {
      const base = pl * inPlane;
      for (let oy = 0; oy < OH; oy++) {
        const hs = oy * this.strideH - this.padH;
        const heAve = Math.min(hs + this.kernelH, H + this.padH);
        const he = Math.min(hs + this.kernelH, H);
        for (let ox = 0; ox < OW; ox++, o++) {
          const ws = ox * this.strideW - this.padW;
          const weAve = Math.min(ws + this.kernelW, W + this.padW);
          const we = Math.min(ws + this.kernelW, W);
          const area = (heAve - hs) * (weAve - ws);
          const h0 = hs < 0 ? 0 : hs;
          const w0 = ws < 0 ? 0 : ws;
          {
            let s = 0;
            for (let h = h0; h < he; h++) {
              for (let w = w0, i = base + h * W + w0; w < we; w++, i++) s += x[i]!;
            }
            y[o] = s / area;
          }
        }
      }
    }
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    if (!propagateDown[0]) return;
    const dx = bottom[0]!.diff;
    const dy = top[0]!.diff;
    if (this.method === 'MAX') {
      kernels().maxPoolBackward(dy, top[0]!.count, this.mask, dx, bottom[0]!.count);
      return;
    }
    dx.fill(0, 0, bottom[0]!.count);
    const planes = bottom[0]!.shape[0]! * this.channels;
    const H = this.height, W = this.width, OH = this.outH, OW = this.outW;
    let o = 0;
    for (let pl = 0; pl < planes; pl++) {
      const base = pl * H * W;
      for (let oy = 0; oy < OH; oy++) {
        const hs = oy * this.strideH - this.padH;
        const heAve = Math.min(hs + this.kernelH, H + this.padH);
        const he = Math.min(hs + this.kernelH, H);
        for (let ox = 0; ox < OW; ox++, o++) {
          const ws = ox * this.strideW - this.padW;
          const weAve = Math.min(ws + this.kernelW, W + this.padW);
          const we = Math.min(ws + this.kernelW, W);
          const g = dy[o]! / ((heAve - hs) * (weAve - ws));
          for (let h = hs < 0 ? 0 : hs; h < he; h++) {
            for (let w = ws < 0 ? 0 : ws, i = base + h * W + w; w < we; w++, i++) dx[i] += g;
          }
        }
      }
    }
  }
}
