/**
 * The words that a rank's compute thread and its communication engine (a worker thread, a native
 * thread, or other rank threads) share. One SharedArrayBuffer, laid out once, so that it can be handed
 * to a worker with a single postMessage and rebuilt there with `SharedState.attach`.
 *
 *   health      Int32[size]          1 = alive, 0 = dead (written by the engine, read by everyone)
 *   healthEpoch Int32[1]             bumped and notified on every health change
 *   queues      Int32[queues * 4]    per queue: completed, errorStatus, errorPeer, errorCount
 *   directory   Float64[size * slots] byte size of segment `slot` on rank `r` (0: none), so that the
 *                                    caller can check a remote range without asking the target
 *   stats       Float64[size * PEER_FIELDS + GLOBAL_FIELDS]  statistics counters (pgas/stats.ts), last
 *                                    so that the offsets of everything above stay as they were
 */
import type { PgasConfig } from './config.js';
import { statsWords } from './stats-layout.js';

/** Segment slots above the user's ids (maxSegments..) hold the collectives' buffers. */
export const INTERNAL_SEGMENTS = 16;
/**
 * Queues above the user's carry the runtime's own traffic: config.queues is the collectives' queue,
 * config.queues + 1 the read queue of readNotify (pgas/read-notify.ts).
 */
export const INTERNAL_QUEUES = 2;

export const Q_COMPLETED = 0;
export const Q_ERROR_STATUS = 1;
export const Q_ERROR_PEER = 2;
export const Q_ERROR_COUNT = 3;
export const QUEUE_WORDS = 4;

export class SharedState {
  readonly buffer: SharedArrayBuffer;
  readonly size: number;
  readonly queueCount: number;
  readonly slots: number;
  readonly health: Int32Array;
  readonly healthEpoch: Int32Array;
  readonly queues: Int32Array;
  readonly directory: Float64Array;
  /** statistics counters: per peer, then global (see stats-layout.ts); each word has a single writer */
  readonly stats: Float64Array;

  private constructor(buffer: SharedArrayBuffer, size: number, queueCount: number, slots: number) {
    this.buffer = buffer;
    this.size = size;
    this.queueCount = queueCount;
    this.slots = slots;
    const dirBytes = size * slots * 8;
    this.directory = new Float64Array(buffer, 0, size * slots);
    this.health = new Int32Array(buffer, dirBytes, size);
    this.healthEpoch = new Int32Array(buffer, dirBytes + size * 4, 1);
    this.queues = new Int32Array(buffer, dirBytes + size * 4 + 4, queueCount * QUEUE_WORDS);
    this.stats = new Float64Array(buffer, statsOffset(size, queueCount, slots), statsWords(size));
  }

  /** Every transport sizes its shared state this way: user queues + internal, user slots + internal. */
  static create(size: number, config: Pick<PgasConfig, 'queues' | 'maxSegments'>): SharedState {
    const queueCount = config.queues + INTERNAL_QUEUES;
    const slots = config.maxSegments + INTERNAL_SEGMENTS;
    const bytes = statsOffset(size, queueCount, slots) + statsWords(size) * 8;
    const state = new SharedState(new SharedArrayBuffer(bytes), size, queueCount, slots);
    state.health.fill(1);
    return state;
  }

  /** Rebuild the views on the other side of a postMessage. */
  static attach(init: SharedStateInit): SharedState {
    return new SharedState(init.buffer, init.size, init.queueCount, init.slots);
  }

  toInit(): SharedStateInit {
    return { buffer: this.buffer, size: this.size, queueCount: this.queueCount, slots: this.slots };
  }

  alive(rank: number): boolean {
    return Atomics.load(this.health, rank) === 1;
  }

  markDead(rank: number): void {
    if (Atomics.exchange(this.health, rank, 0) === 1) {
      Atomics.add(this.healthEpoch, 0, 1);
      Atomics.notify(this.healthEpoch, 0);
    }
  }

  remoteBytes(rank: number, slot: number): number {
    return this.directory[rank * this.slots + slot]!;
  }

  setRemoteBytes(rank: number, slot: number, bytes: number): void {
    this.directory[rank * this.slots + slot] = bytes;
  }

  /** An engine finished one operation of `queue`, successfully or with `status` (WireStatus). */
  complete(queue: number, status: number, peer: number): void {
    const base = queue * QUEUE_WORDS;
    if (status !== 0) {
      // The first error of a queue is kept until the compute thread collects it in `wait`.
      if (Atomics.add(this.queues, base + Q_ERROR_COUNT, 1) === 0) {
        Atomics.store(this.queues, base + Q_ERROR_STATUS, status);
        Atomics.store(this.queues, base + Q_ERROR_PEER, peer);
      }
    }
    Atomics.add(this.queues, base + Q_COMPLETED, 1);
    Atomics.notify(this.queues, base + Q_COMPLETED);
  }
}

/** The stats region starts after the queue words, 8-aligned. */
function statsOffset(size: number, queueCount: number, slots: number): number {
  const end = size * slots * 8 + size * 4 + 4 + queueCount * QUEUE_WORDS * 4;
  return Math.ceil(end / 8) * 8;
}

export interface SharedStateInit {
  buffer: SharedArrayBuffer;
  size: number;
  queueCount: number;
  slots: number;
}
