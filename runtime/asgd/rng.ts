/**
 * Seeded random numbers for everything in the numeric core: xoshiro128** (fast, 32-bit integer
 * arithmetic only, 128 bits of state that a checkpoint can save). Independent streams come from one
 * job seed and a list of stream ids (rank, purpose, epoch...) hashed with splitmix32, so that every
 * rank can recompute any stream without communication.
 */
export class Rng {
  /** the generator state; exposed so that checkpoints can save and restore it */
  readonly state = new Uint32Array(4);

  constructor(seed: number, ...stream: number[]) {
    this.reseed(seed, ...stream);
  }

  reseed(seed: number, ...stream: number[]): void {
    let h = mix32((seed >>> 0) ^ 0x9e3779b9);
    // the high half of seeds beyond 2^32 still counts
    h = mix32(h ^ Math.floor(seed / 4294967296));
    for (const id of stream) h = mix32(h ^ mix32((id >>> 0) + 0x632be5ab));
    for (let i = 0; i < 4; i++) {
      h = mix32(h + 0x9e3779b9);
      this.state[i] = h;
    }
    if ((this.state[0]! | this.state[1]! | this.state[2]! | this.state[3]!) === 0) this.state[0] = 1;
  }

  /** next 32 random bits as an unsigned integer */
  nextU32(): number {
    const s = this.state;
    const s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    s[1] = s1 ^ n2;
    s[0] = s0 ^ n3;
    s[2] = n2 ^ t;
    s[3] = rotl(n3, 11);
    return result;
  }

  /** uniform in [0, 1), 53 bits */
  uniform(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** uniform integer in [0, n) (n ≤ 2^32), without modulo bias */
  int(n: number): number {
    if (n <= 1) return 0;
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** standard normal (Box–Muller; one value per call so that the state alone determines the stream) */
  gaussian(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle of `a` in place */
  shuffle(a: Int32Array | Uint32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }

  saveState(): number[] {
    return Array.from(this.state);
  }

  restoreState(words: readonly number[]): void {
    if (words.length !== 4) throw new RangeError(`an Rng state is 4 words, got ${words.length}`);
    for (let i = 0; i < 4; i++) this.state[i] = words[i]! >>> 0;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix32 finaliser: a bijection on 32-bit words with good avalanche */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Stream ids used inside the core, so that no two purposes share a stream by accident. */
export const enum Stream {
  Init = 1,
  Data = 2,
  Exchange = 3,
  Partition = 4,
  Problem = 5,
  Hogwild = 6,
  Bench = 7,
}
