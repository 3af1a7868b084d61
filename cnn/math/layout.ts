/**
 * Layout changes around a batched convolution GEMM (TypeScript; native twins in cnn/native/blas.cc).
 * The GEMM of n images writes an O × (n·P) matrix: row o holds output channel o of every image side by
 * side. The net wants NCHW: n images of O × P.
 */

/** src O × (n·P) -> dst (from dstOff) n × O × P, adding bias[o] when a bias is given. */
export function scatterRowsTs(src: Float32Array, O: number, n: number, P: number, bias: Float32Array | null, dst: Float32Array, dstOff: number): void {
  const ld = n * P;
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < O; o++) {
      const b = bias ? bias[o]! : 0;
      for (let p = 0, s = o * ld + i * P, d = dstOff + (i * O + o) * P; p < P; p++) dst[d + p] = src[s + p]! + b;
    }
  }
}

/** src (from srcOff) n × O × P -> dst O × (n·P): the inverse of scatterRowsTs without a bias. */
export function gatherRowsTs(src: Float32Array, srcOff: number, O: number, n: number, P: number, dst: Float32Array): void {
  const ld = n * P;
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < O; o++) {
      for (let p = 0, s = srcOff + (i * O + o) * P, d = o * ld + i * P; p < P; p++) dst[d + p] = src[s + p]!;
    }
  }
}
