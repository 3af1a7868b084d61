/**
 * MAX pooling loops in TypeScript (the native addon has twins of these, cnn/native/blas.cc). `mask`
 * gets, for each output, the index into `x` of the first maximum of its window (-1 for a window that
 * lies wholly in the padding), which backward routes the gradient to.
 */
export interface PoolGeometry {
  /** N·C: pooling works plane by plane */
  planes: number;
  height: number;
  width: number;
  outH: number;
  outW: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

export function maxPoolForwardTs(p: PoolGeometry, x: Float32Array, y: Float32Array, mask: Int32Array): void {
  const { planes, height: H, width: W, outH: OH, outW: OW, kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padH: ph, padW: pw } = p;
  if (kh === 2 && kw === 2 && sh === 2 && sw === 2 && ph === 0 && pw === 0 && 2 * OH <= H && 2 * OW <= W) {
    maxPool22(planes, H, W, OH, OW, x, y, mask);
    return;
  }
  let o = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let oy = 0; oy < OH; oy++) {
      const hs = oy * sh - ph;
      const he = Math.min(hs + kh, H);
      const h0 = hs < 0 ? 0 : hs;
      for (let ox = 0; ox < OW; ox++, o++) {
        const ws = ox * sw - pw;
        const we = Math.min(ws + kw, W);
        const w0 = ws < 0 ? 0 : ws;
        let best = -Infinity;
        let arg = -1;
        for (let h = h0; h < he; h++) {
          for (let w = w0, i = base + h * W + w0; w < we; w++, i++) {
            const v = x[i]!;
            if (v > best) {
              best = v;
              arg = i;
            }
          }
        }
        y[o] = best;
        mask[o] = arg;
      }
    }
  }
}

/** LeNet's 2×2 window with stride 2, every window inside the image: four loads, no clipping. */
function maxPool22(planes: number, H: number, W: number, OH: number, OW: number, x: Float32Array, y: Float32Array, mask: Int32Array): void {
  let o = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let oy = 0; oy < OH; oy++) {
      let a = base + 2 * oy * W;
      for (let ox = 0; ox < OW; ox++, o++, a += 2) {
        // pairwise, as the native twin: the same winner as a sequential scan with first-wins ties
        const v0 = x[a]!, v1 = x[a + 1]!, v2 = x[a + W]!, v3 = x[a + W + 1]!;
        const m01 = v1 > v0 ? v1 : v0;
        const i01 = v1 > v0 ? a + 1 : a;
        const m23 = v3 > v2 ? v3 : v2;
        const i23 = v3 > v2 ? a + W + 1 : a + W;
        const later = m23 > m01;
        y[o] = later ? m23 : m01;
        mask[o] = later ? i23 : i01;
      }
    }
  }
}

/** dx = 0, then dx[mask[o]] += dy[o] for the first `count` outputs. */
export function maxPoolBackwardTs(dy: Float32Array, count: number, mask: Int32Array, dx: Float32Array, dxCount: number): void {
  dx.fill(0, 0, dxCount);
  for (let o = 0; o < count; o++) {
    const i = mask[o]!;
    if (i >= 0) dx[i] += dy[o]!;
  }
}
