import type { Rng } from '../../runtime/asgd/rng.js';
import { Blob } from '../blob.js';
import { checkFiller, fillBlob } from '../filler.js';
import { Layer } from '../layer.js';
import { gemm, kernels } from '../math/blas.js';
import { convOutputSize, type ConvGeometry } from '../math/im2col.js';
import type { Msg } from '../proto/message.js';
import { convWindow } from './conv-params.js';

/** Column-matrix values per chunk of images (4 M floats, 16 MB): bounds the memory of batching. */
const CHUNK_VALUES = 1 << 22;

/**
 * 2-D convolution by im2col and GEMM. With the column matrix `col` (K × P per image, K = C/group·kh·kw,
 * P = outH·outW) of group g, top_g (M × P) = W_g (M × K) · col_g, M = num_output/group. Unlike Caffe,
 * which runs one GEMM per image, the columns of a chunk of images are laid side by side (K × n·P), so
 * that one GEMM covers the chunk: LeNet's conv2 becomes 50 × 500 × 4096 instead of 64 calls of
 * 50 × 500 × 64, which both GEMM paths run much closer to their peak. The top is then scattered back
 * into NCHW order (a copy of the output, small next to the GEMM). im2col, col2im and the layout copies
 * run through the active kernels (native loops on the native path).
 * Backward: dW_g += dtop_g · col_gᵀ, dcol_g = W_gᵀ · dtop_g, then col2im into the bottom diff.
 */
export class ConvolutionLayer extends Layer {
  private p!: Msg;
  private numOutput = 0;
  private group = 1;
  private biasTerm = true;
  private geom!: ConvGeometry;
  private chunk = 1;
  private col = new Float32Array(0);
  private colDiff = new Float32Array(0);
  /** the top (or its diff) of a chunk in GEMM layout: num_output × (n·P) */
  private out = new Float32Array(0);
  /** a column of ones, n·P long, for the bias gradient */
  private ones = new Float32Array(0);
  /**
   * When the whole batch fits one chunk, backward reuses the column matrix that forward built instead of
   * running im2col again. The net turns this off when a later layer writes this layer's bottom in place.
   */
  reuseColumns = true;
  private columnsValid = false;

  protected override layerSetUp(bottom: Blob[]): void {
    const p = (this.p = this.def.msg('convolution_param'));
    if (!p.has('num_output')) throw this.defError('num_output is required', p);
    this.numOutput = p.num('num_output');
    this.group = p.num('group');
    this.biasTerm = p.bool('bias_term');
    if (p.num('axis') !== 1) throw this.defError('only axis 1 (NCHW) is supported', p, 'axis');
    const w = convWindow(this, p);
    const b = bottom[0]!;
    if (b.numAxes !== 4) throw this.shapeError(`bottom '${b.name}' must be 4-D (N, C, H, W), got ${b.shapeString()}`);
    const channels = b.shape[1]!;
    if (this.group < 1 || channels % this.group !== 0) throw this.defError(`group ${this.group} does not divide the ${channels} input channels`, p, 'group');
    if (this.numOutput % this.group !== 0) throw this.defError(`group ${this.group} does not divide num_output ${this.numOutput}`, p, 'group');
    this.geom = { channels, height: 0, width: 0, ...w, outH: 0, outW: 0 };
    checkFiller(p.msg('weight_filler'), `layer '${this.name}' weight_filler`);
    this.blobs.push(new Blob(`${this.name}.weight`, [this.numOutput, channels / this.group, w.kernelH, w.kernelW]));
    if (this.biasTerm) {
      checkFiller(p.msg('bias_filler'), `layer '${this.name}' bias_filler`);
      this.blobs.push(new Blob(`${this.name}.bias`, [this.numOutput]));
    }
  }

  override reshape(bottom: Blob[], top: Blob[]): void {
    this.columnsValid = false;
    const b = bottom[0]!;
    const g = this.geom;
    if (b.numAxes !== 4 || b.shape[1] !== g.channels) {
      throw this.shapeError(`bottom '${b.name}' has shape ${b.shapeString()}; this layer was set up for ${g.channels} channels`);
    }
    g.height = b.shape[2]!;
    g.width = b.shape[3]!;
    g.outH = convOutputSize(g.height, g.kernelH, g.padH, g.strideH, g.dilationH);
    g.outW = convOutputSize(g.width, g.kernelW, g.padW, g.strideW, g.dilationW);
    if (g.outH < 1 || g.outW < 1) throw this.shapeError(`a ${g.kernelH}×${g.kernelW} kernel does not fit the ${g.height}×${g.width} input (pad ${g.padH}, ${g.padW})`);
    const num = b.shape[0]!;
    top[0]!.reshape([num, this.numOutput, g.outH, g.outW]);
    const P = g.outH * g.outW;
    const perImage = g.channels * g.kernelH * g.kernelW * P;
    this.chunk = Math.max(1, Math.min(num, Math.floor(CHUNK_VALUES / perImage)));
    if (this.col.length < perImage * this.chunk) {
      this.col = new Float32Array(perImage * this.chunk);
      this.colDiff = new Float32Array(perImage * this.chunk);
    }
    if (this.out.length < this.numOutput * P * this.chunk) this.out = new Float32Array(this.numOutput * P * this.chunk);
    if (this.ones.length < P * this.chunk) this.ones = new Float32Array(P * this.chunk).fill(1);
  }

  override fill(rng: Rng): void {
    fillBlob(this.blobs[0]!, this.p.msg('weight_filler'), rng);
    if (this.biasTerm) fillBlob(this.blobs[1]!, this.p.msg('bias_filler'), rng);
  }

  override forward(bottom: Blob[], top: Blob[]): void {
    const g = this.geom;
    const num = bottom[0]!.shape[0]!;
    const inSize = g.channels * g.height * g.width;
    const P = g.outH * g.outW;
    const O = this.numOutput;
    const M = O / this.group;
    const K = (g.channels / this.group) * g.kernelH * g.kernelW;
    const x = bottom[0]!.data;
    const y = top[0]!.data;
    const w = this.blobs[0]!.data;
    const bias = this.biasTerm ? this.blobs[1]!.data : null;
    const col = this.col;
    const out = this.out;
    const k = kernels();
    this.columnsValid = this.reuseColumns && num <= this.chunk;
    for (let n0 = 0; n0 < num; n0 += this.chunk) {
      const nc = Math.min(this.chunk, num - n0);
      const ld = nc * P;
      k.im2colBatch(g, nc, x, n0 * inSize, col, 0, ld);
      for (let gi = 0; gi < this.group; gi++) gemm(false, false, M, ld, K, 1, w, gi * M * K, col, gi * K * ld, 0, out, gi * M * ld);
      // scatter O × (nc·P) into NCHW, adding the bias
      k.scatterRows(out, O, nc, P, bias, y, n0 * O * P);
    }
  }

  override backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void {
    const g = this.geom;
    const num = bottom[0]!.shape[0]!;
    const inSize = g.channels * g.height * g.width;
    const P = g.outH * g.outW;
    const O = this.numOutput;
    const M = O / this.group;
    const K = (g.channels / this.group) * g.kernelH * g.kernelW;
    const x = bottom[0]!.data;
    const dx = bottom[0]!.diff;
    const dy = top[0]!.diff;
    const w = this.blobs[0]!.data;
    const dw = this.blobs[0]!.diff;
    const db = this.biasTerm ? this.blobs[1]!.diff : null;
    const col = this.col;
    const colDiff = this.colDiff;
    const out = this.out;
    const k = kernels();
    for (let n0 = 0; n0 < num; n0 += this.chunk) {
      const nc = Math.min(this.chunk, num - n0);
      const ld = nc * P;
      // gather the top diff of the chunk into O × (nc·P)
      k.gatherRows(dy, n0 * O * P, O, nc, P, out);
      // db += dtop · 1 (a GEMM with one column: on the native path this sum runs in BLAS too)
      if (db) gemm(false, false, O, 1, ld, 1, out, 0, this.ones, 0, 1, db, 0);
      if (!(this.columnsValid && num <= this.chunk)) k.im2colBatch(g, nc, x, n0 * inSize, col, 0, ld);
      for (let gi = 0; gi < this.group; gi++) gemm(false, true, M, K, ld, 1, out, gi * M * ld, col, gi * K * ld, 1, dw, gi * M * K);
      if (propagateDown[0]) {
        for (let gi = 0; gi < this.group; gi++) gemm(true, false, K, ld, M, 1, w, gi * M * K, out, gi * M * ld, 0, colDiff, gi * K * ld);
        k.col2imBatch(g, nc, colDiff, 0, ld, dx, n0 * inSize);
      }
    }
  }
}
