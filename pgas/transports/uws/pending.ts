/**
 * Requests sent to one peer and not yet answered, in sending order. The peer answers in request
 * order, so the oldest entry is always the next to be answered and one sequence number locates any
 * entry: index = sequence - sequence of the oldest. A growable ring of Int32 words (no objects per op).
 */

/** Kinds of entries; FINAL marks the entry whose answer completes the user's operation. */
export const K_PUT = 1; // PUT, PUT_NOTIFY or NOTIFY
export const K_GET = 2;
export const K_ATOMIC = 3; // aux = request id of the compute thread's atomic()
// (4 was K_SEGMENT: segment announcements now travel through the rendezvous, bootstrap/relay.ts)
export const K_TYPE = 7;
export const FINAL = 8;

const MAX_SEQUENCE = 0xffffffff;

/** The sequence after `s`: 1, 2, ..., 2^32-1, 1, ... (never 0). */
export function nextSequence(s: number): number {
  return s >= MAX_SEQUENCE ? 1 : s + 1;
}

const W_KIND = 0;
const W_QUEUE = 1;
const W_SLOT = 2;
const W_OFFSET = 3;
const W_LENGTH = 4;
const W_AUX = 5;
const WORDS = 6;

export class PendingFifo {
  private words: Int32Array;
  private capacity: number;
  private head = 0;
  /** entries waiting for an answer */
  count = 0;
  /** sequence number of the oldest entry (meaningful while count > 0) */
  headSequence = 0;

  constructor(initialCapacity = 256) {
    this.capacity = initialCapacity;
    this.words = new Int32Array(initialCapacity * WORDS);
  }

  push(sequence: number, kind: number, queue: number, slot: number, offset: number, length: number, aux: number): void {
    if (this.count === this.capacity) this.grow();
    if (this.count === 0) this.headSequence = sequence;
    let at = this.head + this.count;
    if (at >= this.capacity) at -= this.capacity;
    const base = at * WORDS;
    const w = this.words;
    w[base + W_KIND] = kind;
    w[base + W_QUEUE] = queue;
    w[base + W_SLOT] = slot;
    w[base + W_OFFSET] = offset;
    w[base + W_LENGTH] = length;
    w[base + W_AUX] = aux;
    this.count++;
  }

  /** Position (0 = oldest) of the entry with `sequence`, or -1 if no such entry is waiting. */
  indexOf(sequence: number): number {
    const head = this.headSequence;
    // Sequences run 1..2^32-1 and then start again at 1 (0 means "none" on the wire).
    const index = sequence >= head ? sequence - head : sequence + MAX_SEQUENCE - head;
    return sequence !== 0 && index < this.count ? index : -1;
  }

  // Fields of the oldest entry.
  get kind(): number { return this.words[this.head * WORDS + W_KIND]!; }
  get queue(): number { return this.words[this.head * WORDS + W_QUEUE]!; }
  get slot(): number { return this.words[this.head * WORDS + W_SLOT]!; }
  get offset(): number { return this.words[this.head * WORDS + W_OFFSET]!; }
  get length(): number { return this.words[this.head * WORDS + W_LENGTH]!; }
  get aux(): number { return this.words[this.head * WORDS + W_AUX]!; }

  /** Drop the oldest entry. */
  shift(): void {
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.count--;
    this.headSequence = nextSequence(this.headSequence);
  }

  private grow(): void {
    const next = new Int32Array(this.capacity * 2 * WORDS);
    for (let i = 0; i < this.count; i++) {
      const from = ((this.head + i) % this.capacity) * WORDS;
      next.set(this.words.subarray(from, from + WORDS), i * WORDS);
    }
    this.words = next;
    this.head = 0;
    this.capacity *= 2;
  }
}
