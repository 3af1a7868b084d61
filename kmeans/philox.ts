/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a counter-based
 * generator. The output is a pure function of a 128-bit counter and a 64-bit key, so any rank can
 * produce the random numbers of any sample index without state and without talking to anyone. That is
 * what lets a terabyte data set exist only as (seed, index) → point.
 *
 * Checked bit for bit against Random123's known-answer vectors (test/kmeans-synthetic.test.ts).
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
// The multipliers split in 16-bit halves: the high word of a 32×32-bit product is assembled from four
// 16×16-bit partial products with Math.imul, exact and without BigInt (measured ~1.5x faster here
// than the same product through doubles and Math.floor).
const M0_LO = M0 & 0xffff;
const M0_HI = M0 >>> 16;
const M1_LO = M1 & 0xffff;
const M1_HI = M1 >>> 16;

/**
 * One Philox4x32-10 block: counter (c0..c3), key (k0, k1), all unsigned 32-bit; the four output words
 * go to out[0..3]. No allocation: callers keep one `out` per generator.
 */
export function philox4x32(
  c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array,
): void {
  let x0 = c0 | 0;
  let x1 = c1 | 0;
  let x2 = c2 | 0;
  let x3 = c3 | 0;
  let key0 = k0 | 0;
  let key1 = k1 | 0;
  for (let round = 0; round < 10; round++) {
    // hi(M0·x0): the cross terms' carries, then the high partial products.
    let aL = x0 & 0xffff;
    let aH = x0 >>> 16;
    let ll = Math.imul(aL, M0_LO) >>> 0;
    let lh = Math.imul(aL, M0_HI) >>> 0;
    let hl = Math.imul(aH, M0_LO) >>> 0;
    const hi0 = (Math.imul(aH, M0_HI) + (lh >>> 16) + (hl >>> 16) + (((ll >>> 16) + (lh & 0xffff) + (hl & 0xffff)) >>> 16)) | 0;
    // hi(M1·x2), the same way.
    aL = x2 & 0xffff;
    aH = x2 >>> 16;
    ll = Math.imul(aL, M1_LO) >>> 0;
    lh = Math.imul(aL, M1_HI) >>> 0;
    hl = Math.imul(aH, M1_LO) >>> 0;
    const hi1 = (Math.imul(aH, M1_HI) + (lh >>> 16) + (hl >>> 16) + (((ll >>> 16) + (lh & 0xffff) + (hl & 0xffff)) >>> 16)) | 0;
    const lo0 = Math.imul(x0, M0);
    const lo1 = Math.imul(x2, M1);
    x0 = hi1 ^ x1 ^ key0;
    x1 = lo1;
    x2 = hi0 ^ x3 ^ key1;
    x3 = lo0;
    key0 = (key0 + W0) | 0;
    key1 = (key1 + W1) | 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}
