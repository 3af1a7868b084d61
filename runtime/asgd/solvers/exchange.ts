import { PeerDeadError, type PgasContext } from '../../../pgas/index.js';
import { Rng, Stream } from '../rng.js';
import { addInto, squaredNorm, windowAccepts, windowDot } from './window.js';

/** words before the payload of a message: sender rank, send count, payload length, reserved */
export const HEADER_WORDS = 4;
/** send counts wrap here; a multiple of 2 so that the half a count selects survives the wrap */
const COUNT_WRAP = 0x40000000;
/** copies of one slot retried within a step when newer states keep landing during the copy */
const MAX_ATTEMPTS = 4;

export interface ExchangeCounters {
  /** states put to another rank */
  sent: number;
  /** sends that waited for the previous put from the outbox to complete */
  sendWaits: number;
  /** sends left out because the previous put was still in flight (busyOutbox 'skip') */
  sendSkipped: number;
  /** sends that failed (dead target) */
  sendFailed: number;
  /** consistent states read from the inbox */
  received: number;
  accepted: number;
  rejectedWindow: number;
  /** states holding NaN or an infinity: never merged */
  rejectedNonFinite: number;
  /** copies dropped because a newer state landed during the copy (the newer one is read instead) */
  superseded: number;
  /** copies whose header did not match the notification that announced them (never merged) */
  torn: number;
}

export function emptyExchangeCounters(): ExchangeCounters {
  return { sent: 0, sendWaits: 0, sendSkipped: 0, sendFailed: 0, received: 0, accepted: 0, rejectedWindow: 0, rejectedNonFinite: 0, superseded: 0, torn: 0 };
}

interface Buffer {
  f32: Float32Array;
  u32: Uint32Array;
  payload: Float32Array;
}

function buffer(words: number): Buffer {
  const f32 = new Float32Array(words);
  return { f32, u32: new Uint32Array(f32.buffer), payload: f32.subarray(HEADER_WORDS) };
}

export interface ExchangeOptions {
  /** segment ids (created collectively by AsgdExchange.create) */
  inboxSegment: number;
  outboxSegment: number;
  queue: number;
  seed: number;
  /** where to count (default: a fresh object) */
  counters?: ExchangeCounters;
}

/**
 * ASGD's state exchange over the PGAS (ALGORITHMS.md §1, ALGORITHMS-DETAIL §1.4).
 *
 * Inbox: one slot per possible sender (size − 1 of them), so a newer state from a sender overwrites
 * only that sender's older one. Each slot has two halves, used alternately by the sender's
 * successive puts to this receiver; the notification of the slot carries the send count + 1.
 *
 * Reading a slot follows the rule of ALGORITHMS.md: reset its notification, copy the half the count
 * names, then reset the notification again; if it was set during the copy, the newer state is copied
 * instead. The halves are what make this rule sound: the put that could tear the half being copied
 * is the one after next, and (ops of one queue to one rank land in posting order, a notification
 * after its data) it cannot start before the next put's notification is visible, which the second
 * reset would see. With a single buffer per sender the next put itself would overwrite the data
 * being copied before its notification shows, and the rule could not see it.
 */
export class AsgdExchange {
  readonly counters: ExchangeCounters;
  /** Σ of the states accepted by the last `collect` (valid when it returned > 0) */
  sum: Float32Array;
  private readonly slotWords: number;
  private readonly slots: number;
  private readonly views: Float32Array[] = [];
  private readonly outbox: Buffer;
  private readonly counts: Int32Array;
  /** the generator of send targets (a checkpoint saves it) */
  readonly rng: Rng;
  private sumBuffer: Buffer;
  private incoming: Buffer;
  private postedSinceWait = 0;
  /** observer of every consistent state read (sender, its send count, the state), before the window */
  inspect: ((sender: number, count: number, state: Float32Array) => void) | null = null;

  private constructor(
    private readonly ctx: PgasContext,
    readonly length: number,
    private readonly options: ExchangeOptions,
  ) {
    this.counters = options.counters ?? emptyExchangeCounters();
    this.slotWords = HEADER_WORDS + length;
    this.slots = ctx.size - 1;
    this.counts = new Int32Array(ctx.size);
    this.rng = new Rng(options.seed, Stream.Exchange, ctx.rank);
    this.sumBuffer = buffer(this.slotWords);
    this.incoming = buffer(this.slotWords);
    this.sum = this.sumBuffer.payload;
    const out = ctx.segment(options.outboxSegment).f32;
    this.outbox = { f32: out, u32: new Uint32Array(out.buffer, out.byteOffset, this.slotWords), payload: out.subarray(HEADER_WORDS, this.slotWords) };
    const inbox = ctx.segment(options.inboxSegment).f32;
    for (let i = 0; i < 2 * this.slots; i++) this.views.push(inbox.subarray(i * this.slotWords, (i + 1) * this.slotWords));
    // Touch the pages of this rank's own buffers now (fresh memory is mapped lazily, and the first
    // steps would pay the faults). The inbox is left alone: other ranks may already be writing it.
    this.sumBuffer.f32.fill(0);
    this.incoming.f32.fill(0);
    out.subarray(0, this.slotWords).fill(0);
  }

  /** Collective: every rank creates its inbox and outbox segments. */
  static async create(ctx: PgasContext, length: number, options: ExchangeOptions): Promise<AsgdExchange> {
    const slotBytes = 4 * (HEADER_WORDS + length);
    await ctx.createSegment(options.outboxSegment, slotBytes);
    if (ctx.size > 1) await ctx.createSegment(options.inboxSegment, 2 * (ctx.size - 1) * slotBytes);
    return new AsgdExchange(ctx, length, options);
  }

  /** The slot of sender `from` in the inbox of `to`. */
  static slotOf(from: number, to: number): number {
    return from < to ? from : from - 1;
  }

  /** true when `send` may overwrite the outbox now (the previous put is complete and the queue has room) */
  sendReady(): boolean {
    return this.ctx.outstanding(this.options.queue) === 0 && this.postedSinceWait < this.ctx.config.queueDepth;
  }

  /** the previous put from the outbox is still in flight */
  busy(): boolean {
    return this.ctx.outstanding(this.options.queue) > 0;
  }

  /** Wait until the previous put from the outbox is complete (and the queue is reusable). */
  async drain(): Promise<void> {
    try {
      await this.ctx.wait(this.options.queue);
    } catch (error) {
      if (!(error instanceof PeerDeadError)) throw error;
      this.counters.sendFailed++;
    }
    this.postedSinceWait = 0;
  }

  /** A uniformly random other rank that is alive, or −1. */
  pickTarget(): number {
    const { size, rank } = this.ctx;
    for (let attempt = 0; attempt < 8; attempt++) {
      const r = this.rng.int(size - 1);
      const target = r >= rank ? r + 1 : r;
      if (this.ctx.isAlive(target)) return target;
    }
    for (let target = 0; target < size; target++) if (target !== rank && this.ctx.isAlive(target)) return target;
    return -1;
  }

  /**
   * Snapshot `w` into the outbox and putNotify it into this rank's slot at `target` (default: a
   * uniformly random other rank). Does not wait for the put; call only when `sendReady()`.
   */
  send(w: Float32Array, target = this.pickTarget()): boolean {
    if (target < 0) return false;
    const count = this.counts[target]!;
    this.counts[target] = (count + 1) % COUNT_WRAP;
    const out = this.outbox;
    out.payload.set(w);
    out.u32[0] = this.ctx.rank;
    out.u32[1] = count;
    out.u32[2] = this.length;
    out.u32[3] = 0;
    const slot = AsgdExchange.slotOf(this.ctx.rank, target);
    const offset = 4 * (2 * slot + (count & 1)) * this.slotWords;
    try {
      this.ctx.putNotify(this.options.outboxSegment, 0, target, this.options.inboxSegment, offset, 4 * this.slotWords, slot, count + 1, this.options.queue);
    } catch (error) {
      if (!(error instanceof PeerDeadError)) throw error;
      this.counters.sendFailed++;
      return false;
    }
    this.postedSinceWait++;
    this.counters.sent++;
    return true;
  }

  /**
   * Take the states that arrived since the last call, run each through the window (unless
   * `window` is false) with gradient `g` and step `lr`, and sum the accepted ones into `this.sum`.
   * Returns how many were accepted. States with a NaN or an infinity are always rejected.
   */
  collect(w: Float32Array, g: Float32Array, lr: number, window: boolean): number {
    let accepted = 0;
    let gradNormSq = -1;
    const c = this.counters;
    for (let slot = 0; slot < this.slots; slot++) {
      let value = this.ctx.resetNotify(this.options.inboxSegment, slot);
      if (value === 0) continue;
      let consistent = false;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const count = value - 1;
        this.incoming.f32.set(this.views[2 * slot + (count & 1)]!);
        const newer = this.ctx.resetNotify(this.options.inboxSegment, slot);
        if (newer === 0) {
          consistent = true;
          break;
        }
        c.superseded++;
        value = newer;
      }
      if (!consistent) continue;
      const header = this.incoming.u32;
      const sender = slot < this.ctx.rank ? slot : slot + 1;
      if (header[0] !== sender || header[1] !== value - 1 || header[2] !== this.length) {
        c.torn++;
        continue;
      }
      c.received++;
      const s = this.incoming.payload;
      if (this.inspect !== null) this.inspect(sender, value - 1, s);
      const dot = windowDot(g, w, s);
      if (!Number.isFinite(dot)) {
        c.rejectedNonFinite++;
        continue;
      }
      if (window) {
        if (gradNormSq < 0) gradNormSq = squaredNorm(g);
        if (!windowAccepts(dot, lr, gradNormSq)) {
          c.rejectedWindow++;
          continue;
        }
      }
      c.accepted++;
      if (accepted === 0) {
        const t = this.sumBuffer;
        this.sumBuffer = this.incoming;
        this.incoming = t;
        this.sum = this.sumBuffer.payload;
      } else {
        addInto(this.sum, s);
      }
      accepted++;
    }
    return accepted;
  }
}
