/**
 * im2col / col2im for 2-D convolution, as in Caffe (util/im2col.cpp): the column matrix of one image
 * has C·kh·kw rows and outH·outW columns; row (c, ki, kj) holds the input pixel that kernel position
 * (ki, kj) of channel c sees at each output position (0 where it falls into the padding).
 */
/** A 2-D kernel window: its size, the padding around the input, the stride and the dilation. */
export interface Window2d {
  kernelH: number;
  kernelW: number;
  padH: number;
  padW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
}

/** A window over C input planes of height × width, and the output size it gives. */
export interface ConvGeometry extends Window2d {
  channels: number;
  height: number;
  width: number;
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

/**
 * im2col of n images: image i (at imOff + i·C·H·W) fills the columns from colOff + i·outH·outW. Row by
 * row of the column matrix, images inside, so that the (large) column matrix is written front to back
 * while the (smaller) images stay in cache; the same order as the native twin.
 */
export function im2colBatchTs(g: ConvGeometry, n: number, im: Float32Array, imOff: number, col: Float32Array, colOff: number, ld: number): void {
  const { channels, height, width, kernelH, kernelW, padH, padW, strideH, strideW, dilationH, dilationW, outH, outW } = g;
  const inSize = channels * height * width;
  const P = outH * outW;
  let rowStart = colOff;
  for (let c = 0; c < channels; c++) {
    for (let ki = 0; ki < kernelH; ki++) {
      for (let kj = 0; kj < kernelW; kj++, rowStart += ld) {
        const x0 = kj * dilationW - padW;
        const inside = strideW === 1 && x0 >= 0 && x0 + outW <= width;
        for (let i = 0; i < n; i++) {
          const plane = imOff + i * inSize + c * height * width;
          let d = rowStart + i * P;
          let y = ki * dilationH - padH;
          for (let oy = 0; oy < outH; oy++, y += strideH) {
            if (y < 0 || y >= height) {
              col.fill(0, d, d + outW);
              d += outW;
            } else if (inside) {
              for (let ox = 0, s = plane + y * width + x0; ox < outW; ox++) col[d++] = im[s++]!;
            } else {
              const row = plane + y * width;
              for (let ox = 0, x = x0; ox < outW; ox++, x += strideW) col[d++] = x >= 0 && x < width ? im[row + x]! : 0;
            }
          }
        }
      }
    }
  }
}

/** col2im of n images (each image overwritten): the adjoint of im2colBatchTs, in the same order. */
export function col2imBatchTs(g: ConvGeometry, n: number, col: Float32Array, colOff: number, ld: number, im: Float32Array, imOff: number): void {
  const { channels, height, width, kernelH, kernelW, padH, padW, strideH, strideW, dilationH, dilationW, outH, outW } = g;
  const inSize = channels * height * width;
  const P = outH * outW;
  im.fill(0, imOff, imOff + n * inSize);
  let rowStart = colOff;
  for (let c = 0; c < channels; c++) {
    for (let ki = 0; ki < kernelH; ki++) {
      for (let kj = 0; kj < kernelW; kj++, rowStart += ld) {
        const x0 = kj * dilationW - padW;
        const inside = strideW === 1 && x0 >= 0 && x0 + outW <= width;
        for (let i = 0; i < n; i++) {
          const plane = imOff + i * inSize + c * height * width;
          let s = rowStart + i * P;
          let y = ki * dilationH - padH;
          for (let oy = 0; oy < outH; oy++, y += strideH) {
            if (y < 0 || y >= height) {
              s += outW;
            } else if (inside) {
              for (let ox = 0, d = plane + y * width + x0; ox < outW; ox++) im[d++] += col[s++]!;
            } else {
              const row = plane + y * width;
              for (let ox = 0, x = x0; ox < outW; ox++, x += strideW, s++) {
                if (x >= 0 && x < width) im[row + x] += col[s]!;
              }
            }
          }
        }
      }
    }
  }
}

/** The geometry as the native kernels take it: 13 int32 in ConvGeometry's field order. */
export function packGeometry(g: ConvGeometry, out = new Int32Array(13)): Int32Array {
  out[0] = g.channels; out[1] = g.height; out[2] = g.width; out[3] = g.kernelH; out[4] = g.kernelW;
  out[5] = g.padH; out[6] = g.padW; out[7] = g.strideH; out[8] = g.strideW; out[9] = g.dilationH;
  out[10] = g.dilationW; out[11] = g.outH; out[12] = g.outW;
  return out;
}
