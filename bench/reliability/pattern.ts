/**
 * Self-checking payloads for the load runs: words derived from a (tag, index) pair by a xorshift
 * generator, and an FNV-1a checksum of 32-bit words. A block is [tag, index, checksum, words...]: the
 * receiver recomputes both, so a torn, mixed or stale block shows.
 */
export const BLOCK_HEADER_WORDS = 3;

export function fillBlock(block: Uint32Array, tag: number, index: number): void {
  block[0] = tag;
  block[1] = index;
  let x = (Math.imul(tag + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0 || 1;
  for (let i = BLOCK_HEADER_WORDS; i < block.length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    block[i] = x;
  }
  block[2] = checksum(block, BLOCK_HEADER_WORDS);
}

export function checksum(words: Uint32Array, from: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193) >>> 0;
  return h;
}

/** true when the block is whole: its checksum matches, and (when given) it is block `index` of `tag` */
export function blockIntact(block: Uint32Array, tag?: number, index?: number): boolean {
  if (tag !== undefined && block[0] !== tag) return false;
  if (index !== undefined && block[1] !== index) return false;
  return block[2] === checksum(block, BLOCK_HEADER_WORDS);
}
