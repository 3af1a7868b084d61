import type { Msg } from '../proto/message.js';
import type { Layer } from '../layer.js';
import type { Window2d } from '../math/im2col.js';

/**
 * Kernel, pad, stride and dilation of a 2-D ConvolutionParameter, with Caffe's rules: repeated
 * `kernel_size` (one value for both axes, or one per axis) or `kernel_h`/`kernel_w`, never both; pad
 * and stride likewise (defaults 0 and 1); dilation default 1.
 */
export function convWindow(layer: Layer, p: Msg): Window2d {
  const pair = (list: number[], h: string, w: string, fallback: number, name: string): [number, number] => {
    const hasHW = p.has(h) || p.has(w);
    if (hasHW && list.length > 0) throw layer.defError(`give either ${name} or ${h}/${w}, not both`, p, h);
    if (hasHW) {
      if (!(p.has(h) && p.has(w))) throw layer.defError(`${h} and ${w} must both be given`, p, p.has(h) ? h : w);
      return [p.num(h), p.num(w)];
    }
    if (list.length === 0) return [fallback, fallback];
    if (list.length === 1) return [list[0]!, list[0]!];
    if (list.length === 2) return [list[0]!, list[1]!];
    throw layer.defError(`${name} has ${list.length} values; only 2-D convolution is supported (1 or 2 values)`, p, name);
  };
  if (p.nums('kernel_size').length === 0 && !p.has('kernel_h')) throw layer.defError('kernel_size (or kernel_h and kernel_w) is required', p);
  const [kernelH, kernelW] = pair(p.nums('kernel_size'), 'kernel_h', 'kernel_w', 0, 'kernel_size');
  const [padH, padW] = pair(p.nums('pad'), 'pad_h', 'pad_w', 0, 'pad');
  const [strideH, strideW] = pair(p.nums('stride'), 'stride_h', 'stride_w', 1, 'stride');
  const dil = p.nums('dilation');
  if (dil.length > 2) throw layer.defError('dilation has more than 2 values', p, 'dilation');
  const dilationH = dil[0] ?? 1;
  const dilationW = dil[1] ?? dilationH;
  if (kernelH < 1 || kernelW < 1) throw layer.defError('kernel dimensions must be positive', p, 'kernel_size');
  if (strideH < 1 || strideW < 1) throw layer.defError('stride must be positive', p, 'stride');
  if (dilationH < 1 || dilationW < 1) throw layer.defError('dilation must be positive', p, 'dilation');
  return { kernelH, kernelW, padH, padW, strideH, strideW, dilationH, dilationW };
}
