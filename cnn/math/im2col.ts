/**
 * im2col / col2im for 2-D convolution, as in Caffe (util/im2col.cpp): the column matrix of one image
 * has C·kh·kw rows and outH·outW columns; row (c, ki, kj) holds the input pixel that kernel position
 * (ki, kj) of channel c sees at each output position (0 where it falls into the padding).
 */
export interface ConvGeometry {
  channels: number;
  height: number;
  width: number;
  kernelH: number;
  kernelW: number;
  padH: number;
  padW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  outH: number;
  outW: number;
}

export function convOutputSize(size: number, kernel: number, pad: number, stride: number, dilation: number): number {
  const extent = dilation * (kernel - 1) + 1;
  return Math.floor((size + 2 * pad - extent) / stride) + 1;
}

/**
 * `ld` is the length of a row of the column matrix (default outH·outW): a larger `ld` lays the columns
 * of several images side by side, image n at column offset n·outH·outW, so that one GEMM covers them all.
 */
export function im2col(g: ConvGeometry, im: Float32Array, imOff: number, col: Float32Array, colOff: number, ld = g.outH * g.outW): void {
  const { channels, height, width, kernelH, kernelW, padH, padW, strideH, strideW, dilationH, dilationW, outH, outW } = g;
  let rowStart = colOff;
  for (let c = 0; c < channels; c++) {
    const plane = imOff + c * height * width;
    for (let ki = 0; ki < kernelH; ki++) {
      for (let kj = 0; kj < kernelW; kj++, rowStart += ld) {
        let d = rowStart;
        let y = ki * dilationH - padH;
        const x0 = kj * dilationW - padW;
        for (let oy = 0; oy < outH; oy++, y += strideH) {
          if (y < 0 || y >= height) {
            for (let ox = 0; ox < outW; ox++) col[d++] = 0;
            continue;
          }
          const row = plane + y * width;
          if (strideW === 1 && x0 >= 0 && x0 + outW <= width) {
            // the common interior case: one contiguous run
            for (let ox = 0, s = row + x0; ox < outW; ox++) col[d++] = im[s++]!;
          } else {
            for (let ox = 0, x = x0; ox < outW; ox++, x += strideW) col[d++] = x >= 0 && x < width ? im[row + x]! : 0;
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: sums every column entry back into the image position it came from. */
export function col2im(g: ConvGeometry, col: Float32Array, colOff: number, im: Float32Array, imOff: number, ld = g.outH * g.outW): void {
  const { channels, height, width, kernelH, kernelW, padH, padW, strideH, strideW, dilationH, dilationW, outH, outW } = g;
  im.fill(0, imOff, imOff + channels * height * width);
  let rowStart = colOff;
  for (let c = 0; c < channels; c++) {
    const plane = imOff + c * height * width;
    for (let ki = 0; ki < kernelH; ki++) {
      for (let kj = 0; kj < kernelW; kj++, rowStart += ld) {
        let s = rowStart;
        let y = ki * dilationH - padH;
        const x0 = kj * dilationW - padW;
        for (let oy = 0; oy < outH; oy++, y += strideH) {
          if (y < 0 || y >= height) {
            s += outW;
            continue;
          }
          const row = plane + y * width;
          if (strideW === 1 && x0 >= 0 && x0 + outW <= width) {
            // the common interior case: one contiguous run, no bounds tests
            for (let ox = 0, d = row + x0; ox < outW; ox++) im[d++] += col[s++]!;
            continue;
          }
          for (let ox = 0, x = x0; ox < outW; ox++, x += strideW, s++) {
            if (x >= 0 && x < width) im[row + x] += col[s]!;
          }
        }
      }
    }
  }
}
