/**
 * GASPI read_notify and read_list_notify on any transport: the gets travel on a queue of their own
 * (the read queue, one of the context's internal queues), and a local notification is set once they
 * have all landed. A transport only counts completions per queue, not per operation, so "landed" is
 * known when the read queue has drained: every get posted to it so far is complete. The notification
 * is therefore never early, but under a continuous stream of reads it may come later than the data
 * (at the next moment the read queue is empty).
 *
 * Each read also holds one entry of the user's queue (so that queue depth and `wait(queue)` mean what
 * they mean for a get): that entry completes when its notification is set, or fails with the get's
 * error.
 */
import { QUEUE_WORDS, Q_COMPLETED, Q_ERROR_COUNT, Q_ERROR_PEER, Q_ERROR_STATUS, type SharedState } from './shared-state.js';
import { setNotification } from './notifications.js';
import { waitWhileEquals } from './waiting.js';

interface PendingRead {
  /** the user's queue, which holds `ops` entries for this read */
  queue: number;
  rank: number;
  ops: number;
  notifications: Int32Array;
  id: number;
  value: number;
}

/** How long the drain watcher sleeps between checks when nothing completes (it also wakes on completion). */
const WATCH_MS = 50;

export class ReadNotifyTracker {
  private readonly pending: PendingRead[] = [];
  /** gets posted to the read queue (wrapping count, compared with the queue's completion counter) */
  private posted = 0;
  private watching = false;
  private stopped = false;

  constructor(
    private readonly shared: SharedState,
    /** the internal queue the gets go to */
    readonly readQueue: number,
    private readonly spinMicros: number,
  ) {}

  /** `ops` gets were just posted to the read queue for one read(-list)-notify on user queue `queue`. */
  add(queue: number, rank: number, ops: number, notifications: Int32Array, id: number, value: number): void {
    this.posted = (this.posted + ops) | 0;
    this.pending.push({ queue, rank, ops, notifications, id, value });
    if (!this.poll()) this.watch();
  }

  /** Set the notifications of every pending read if the read queue has drained; true if none is left. */
  poll(): boolean {
    if (this.pending.length === 0) return true;
    const words = this.shared.queues;
    const base = this.readQueue * QUEUE_WORDS;
    if (((this.posted - Atomics.load(words, base + Q_COMPLETED)) | 0) > 0) return false;
    // Only the first failure of a drained queue is recorded: it fails the reads from that rank.
    let failedRank = -1;
    let failedStatus = 0;
    if (Atomics.load(words, base + Q_ERROR_COUNT) !== 0) {
      failedStatus = Atomics.load(words, base + Q_ERROR_STATUS);
      failedRank = Atomics.load(words, base + Q_ERROR_PEER);
      Atomics.store(words, base + Q_ERROR_COUNT, 0);
    }
    for (const read of this.pending.splice(0)) {
      const status = read.rank === failedRank ? failedStatus : 0;
      if (status === 0) setNotification(read.notifications, read.id, read.value);
      for (let i = 0; i < read.ops; i++) this.shared.complete(read.queue, status, read.rank);
    }
    return true;
  }

  /** The context closed: stop watching (whatever is still pending never gets its notification). */
  stop(): void {
    this.stopped = true;
  }

  /** Watch the read queue's completion counter until every pending read is settled. */
  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    void (async () => {
      const words = this.shared.queues;
      const index = this.readQueue * QUEUE_WORDS + Q_COMPLETED;
      while (!this.stopped && !this.poll()) {
        await waitWhileEquals(words, index, Atomics.load(words, index), WATCH_MS, this.spinMicros);
      }
      this.watching = false;
    })();
  }
}
