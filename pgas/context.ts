import type { PgasConfig } from './config.js';
import {
  ClosedError,
  InvalidArgumentError,
  PeerDeadError,
  QueueFullError,
  ResourceLimitError,
  SegmentExistsError,
  TimeoutError,
  UnknownSegmentError,
  UnsupportedError,
  errorFromStatus,
  pollMiss,
} from './errors.js';
import { Group, createWorldGroup, createGroupCollective, deleteGroupSegment } from './collectives/group.js';
import {
  allreduce, allreduceElemMax, allreduceUser, type ReduceOp, type ReduceArray, type UserReduce, type UserReduceArray,
} from './collectives/allreduce.js';
import { barrier } from './collectives/barrier.js';
import { broadcast } from './collectives/broadcast.js';
import { setNotification } from './notifications.js';
import { KILLED_EXIT_CODE, watchForKill } from './liveness.js';
import { ReadNotifyTracker } from './read-notify.js';
import { formatStats, readStats, resetOwnStats, statsLine, type RankStats } from './stats.js';
import {
  G_COLLECTIVE_MS, G_COLLECTIVES, G_NOTIFY_WAIT_MS, G_NOTIFY_WAITS, G_WAIT_MS, G_WAITS, IN_ATOMIC, IN_GET, IN_NOTIFY,
  IN_PUT, IN_PUT_NOTIFY, PEER_FIELDS, S_ATOMIC_OPS_OUT, S_GET_BYTES_OUT, S_GET_OPS_OUT, S_INTERNAL_BYTES_OUT,
  S_INTERNAL_OPS_OUT, S_MSG_BYTES_IN, S_MSG_BYTES_OUT, S_MSG_OPS_IN, S_MSG_OPS_OUT, S_NOTIFY_OPS_OUT, S_PUT_BYTES_OUT,
  S_PUT_OPS_OUT, countIncoming,
} from './stats-layout.js';
import { Segment } from './segment.js';
import { INTERNAL_SEGMENTS, Q_COMPLETED, Q_ERROR_COUNT, Q_ERROR_PEER, Q_ERROR_STATUS, QUEUE_WORDS, type SharedState } from './shared-state.js';
import { Op, type PassiveMessage, type Transport, type TransportKind } from './transport.js';
import { checkIndex, checkLength, checkNotificationValue, checkRange, checkTimeout } from './validate.js';
import { deadlineAfter, remaining, sleep, waitWhileEquals } from './waiting.js';

export type RankHealth = 'alive' | 'dead';

export interface BindSegmentOptions extends CreateSegmentOptions {
  /** where the segment starts in the buffer (a multiple of 8; default 0) */
  byteOffset?: number;
  /** the segment's size (a multiple of 4; default: the rest of the buffer) */
  bytes?: number;
}

export interface SegmentInfo {
  id: number;
  bytes: number;
}

/** The limits of this context (GASPI's *_max queries and config_get), fixed at start. */
export interface PgasLimits {
  /** queue slots: the most queues that can exist at once (GASPI queue_max) */
  queueMax: number;
  /** operations a queue holds between waits (GASPI queue_size_max) */
  queueDepth: number;
  /** notification ids per segment (GASPI notification_num) */
  notificationsPerSegment: number;
  /** user segment ids 0..segmentMax-1 (GASPI segment_max) */
  segmentMax: number;
  /** the largest segment, and so the largest single transfer, in bytes (GASPI transfer_size_max) */
  transferMax: number;
  /** the largest passive message (GASPI passive_transfer_size_max) */
  passiveMax: number;
  /** elements of 4 and 8 bytes one allreduce round moves (longer arrays take several rounds) */
  allreduceElemMax: { bytes4: number; bytes8: number };
  /** the most live groups besides the world */
  groupMax: number;
}
export interface CreateSegmentOptions {
  /** default true: every rank of `group` creates it, and the call returns once all have */
  collective?: boolean;
  group?: Group;
  timeoutMs?: number;
}

/**
 * One rank's handle on the job: GASPI semantics in TypeScript shape. Every one-sided call takes its
 * arguments in one order: local segment, local offset, remote rank, remote segment, remote offset,
 * length (bytes), [notification id, value,] queue. Calls that block return promises and take a timeout
 * in milliseconds (Infinity blocks, 0 tests); expiry rejects with TimeoutError, which is retryable.
 */
export class PgasContext {
  readonly rank: number;
  readonly size: number;
  readonly config: PgasConfig;
  readonly transportKind: TransportKind;
  /** all ranks; collectives default to it */
  readonly world: Group;
  /** @internal */ readonly transport: Transport;
  /** @internal */ readonly shared: SharedState;
  /** @internal the queue collectives post to */ readonly internalQueue: number;
  private readonly segments = new Map<number, Segment>();
  private readonly posted: Int32Array;
  private readonly sinceWait: Int32Array;
  /** 1 for each user queue that exists (queueCreate/queueDelete) */
  private readonly activeQueues: Uint8Array;
  /** readNotify's gets and their local notifications */
  private readonly reads: ReadNotifyTracker;
  /** the statistics counters in shared memory (stats-layout.ts) */
  private readonly counters: Float64Array;
  /** GASPI connection bookkeeping for transports without links of their own (threads, ucx) */
  private readonly connected: Uint8Array;
  private stopKillWatch: () => void = () => undefined;
  private closed = false;

  private constructor(transport: Transport) {
    this.transport = transport;
    this.shared = transport.shared;
    this.rank = transport.rank;
    this.size = transport.size;
    this.config = transport.config;
    this.transportKind = transport.kind;
    this.internalQueue = this.config.queues;
    this.posted = new Int32Array(this.shared.queueCount);
    this.sinceWait = new Int32Array(this.shared.queueCount);
    this.world = new Group(this, Array.from({ length: this.size }, (_, r) => r), this.config.maxSegments);
    this.activeQueues = new Uint8Array(this.config.queues);
    this.activeQueues.fill(1, 0, this.config.initialQueues);
    this.reads = new ReadNotifyTracker(this.shared, this.config.queues + 1, this.config.spinMicros);
    this.counters = this.shared.stats;
    // threads need no connection, ucx connects every pair at start; uws reports its real links.
    this.connected = new Uint8Array(this.size).fill(1);
  }

  /** Wrap a connected transport; creates the world group's collective buffers on every rank. */
  static async open(transport: Transport, startupTimeoutMs = 60000): Promise<PgasContext> {
    const ctx = new PgasContext(transport);
    await createWorldGroup(ctx, ctx.world, startupTimeoutMs);
    const world = ctx.segments.get(ctx.world.slot)!;
    ctx.stopKillWatch = watchForKill(world.notifications, ctx.world.layout.killId, ctx.rank);
    return ctx;
  }

  // ---- segments -------------------------------------------------------------------------------

  async createSegment(id: number, bytes: number, options: CreateSegmentOptions = {}): Promise<Segment> {
    this.checkOpen();
    checkIndex('segment id', id, this.config.maxSegments);
    return this.createSlot(id, bytes, options);
  }

  /** @internal user ids and the collectives' internal slots */
  async createSlot(slot: number, bytes: number, options: CreateSegmentOptions = {}): Promise<Segment> {
    this.checkSegmentBytes(bytes);
    if (this.segments.has(slot)) throw new SegmentExistsError(`segment ${slot} already exists on rank ${this.rank}`);
    const memory = await this.transport.createSegment(slot, bytes);
    const segment = new Segment(slot, memory);
    this.segments.set(slot, segment);
    if (options.collective ?? true) {
      const group = options.group ?? this.world;
      await this.awaitRemoteSegment(group.ranks, slot, options.timeoutMs ?? Infinity);
    }
    return segment;
  }

  /**
   * GASPI segment_bind / segment_use: make segment `id` over memory the program already has, a region
   * of `buffer` (default: all of it). Like createSegment it is collective unless `collective: false`.
   * Transports that need their own memory for segments (ucx) refuse with UnsupportedError.
   */
  async bindSegment(id: number, buffer: SharedArrayBuffer, options: BindSegmentOptions = {}): Promise<Segment> {
    this.checkOpen();
    checkIndex('segment id', id, this.config.maxSegments);
    if (!(buffer instanceof SharedArrayBuffer)) {
      throw new InvalidArgumentError('bindSegment needs a SharedArrayBuffer (peers and the transport must see the same memory)');
    }
    const byteOffset = options.byteOffset ?? 0;
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 8 !== 0 || byteOffset >= buffer.byteLength) {
      throw new InvalidArgumentError(`bindSegment byteOffset must be a multiple of 8 inside the buffer (${buffer.byteLength} bytes), got ${String(byteOffset)}`);
    }
    const bytes = options.bytes ?? Math.floor((buffer.byteLength - byteOffset) / 4) * 4;
    this.checkSegmentBytes(bytes);
    if (byteOffset + bytes > buffer.byteLength) {
      throw new InvalidArgumentError(`bindSegment region [${byteOffset}, ${byteOffset + bytes}) is outside the buffer (${buffer.byteLength} bytes)`);
    }
    if (!this.transport.bindSegment) {
      throw new UnsupportedError(this.transport.bindUnsupportedReason ?? bindUnsupportedReason(this.transportKind));
    }
    if (this.segments.has(id)) throw new SegmentExistsError(`segment ${id} already exists on rank ${this.rank}`);
    const memory = await this.transport.bindSegment(id, buffer, byteOffset, bytes);
    const segment = new Segment(id, memory);
    this.segments.set(id, segment);
    if (options.collective ?? true) await this.awaitRemoteSegment((options.group ?? this.world).ranks, id, options.timeoutMs ?? Infinity);
    return segment;
  }

  /** GASPI segment_list / segment_num: the user segments of `rank` (default this rank), ascending, with sizes. */
  segmentList(rank = this.rank): SegmentInfo[] {
    checkIndex('rank', rank, this.size);
    const list: SegmentInfo[] = [];
    for (let id = 0; id < this.config.maxSegments; id++) {
      const bytes = this.segmentBytes(rank, id);
      if (bytes > 0) list.push({ id, bytes });
    }
    return list;
  }

  /** GASPI segment_size: the byte size of segment `id` on `rank` (default this rank); UnknownSegmentError if none. */
  segmentSize(id: number, rank = this.rank): number {
    checkIndex('segment id', id, this.config.maxSegments);
    checkIndex('rank', rank, this.size);
    const bytes = this.segmentBytes(rank, id);
    if (bytes === 0) throw new UnknownSegmentError(`rank ${rank} has no segment ${id}`);
    return bytes;
  }

  private segmentBytes(rank: number, id: number): number {
    return rank === this.rank ? (this.segments.get(id)?.bytes ?? 0) : this.shared.remoteBytes(rank, id);
  }

  private checkSegmentBytes(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes % 4 !== 0) {
      throw new InvalidArgumentError(`segment size must be a positive multiple of 4 bytes, got ${String(bytes)}`);
    }
    if (bytes > this.config.maxSegmentBytes) {
      throw new ResourceLimitError(`segment size ${bytes} exceeds maxSegmentBytes (${this.config.maxSegmentBytes})`);
    }
  }

  /**
   * Wait until every rank in `ranks` shows segment `slot` in this rank's directory: then a collective
   * create has happened everywhere and one-sided calls on it pass the caller-side check.
   */
  private async awaitRemoteSegment(ranks: readonly number[], slot: number, timeoutMs: number): Promise<void> {
    const deadline = deadlineAfter(timeoutMs);
    for (;;) {
      const missing = ranks.filter((r) => this.shared.remoteBytes(r, slot) === 0 && r !== this.rank);
      if (missing.length === 0) return;
      const dead = missing.filter((r) => !this.shared.alive(r));
      if (dead.length > 0) throw new PeerDeadError(dead[0]!, `segment ${slot}: rank ${dead.join(', ')} is dead`);
      if (remaining(deadline) === 0) {
        throw new TimeoutError(`segment ${slot}: ranks ${missing.join(', ')} have not created it yet`);
      }
      await sleep(1);
    }
  }

  async deleteSegment(id: number): Promise<void> {
    this.checkOpen();
    checkIndex('segment id', id, this.config.maxSegments);
    await this.deleteSlot(id);
  }

  /** @internal */
  async deleteSlot(slot: number): Promise<void> {
    if (!this.segments.has(slot)) throw new UnknownSegmentError(`segment ${slot} does not exist on rank ${this.rank}`);
    this.segments.delete(slot);
    await this.transport.deleteSegment(slot);
  }

  segment(id: number): Segment {
    const segment = this.segments.get(id);
    if (!segment || id >= this.config.maxSegments) {
      throw new UnknownSegmentError(`segment ${id} does not exist on rank ${this.rank}`);
    }
    return segment;
  }

  /** @internal */
  slot(slot: number): Segment | undefined {
    return this.segments.get(slot);
  }

  // ---- one-sided ------------------------------------------------------------------------------

  put(localSeg: number, localOff: number, rank: number, remoteSeg: number, remoteOff: number, length: number, queue = 0): void {
    this.post(Op.PUT, queue, localSeg, localOff, rank, remoteSeg, remoteOff, length, 0, 0, false);
  }

  get(localSeg: number, localOff: number, rank: number, remoteSeg: number, remoteOff: number, length: number, queue = 0): void {
    this.post(Op.GET, queue, localSeg, localOff, rank, remoteSeg, remoteOff, length, 0, 0, false);
  }

  /** GASPI write_notify: the notification becomes visible at the target only after the data. */
  putNotify(
    localSeg: number, localOff: number, rank: number, remoteSeg: number, remoteOff: number, length: number,
    notificationId: number, notificationValue: number, queue = 0,
  ): void {
    this.post(Op.PUT_NOTIFY, queue, localSeg, localOff, rank, remoteSeg, remoteOff, length, notificationId, notificationValue, false);
  }

  notify(rank: number, remoteSeg: number, notificationId: number, notificationValue: number, queue = 0): void {
    this.post(Op.NOTIFY, queue, -1, 0, rank, remoteSeg, 0, 0, notificationId, notificationValue, false);
  }

  /** GASPI write_list: several ranges to one rank in one call; all are checked before any is posted. */
  putList(
    localSegs: readonly number[], localOffs: readonly number[], rank: number,
    remoteSegs: readonly number[], remoteOffs: readonly number[], lengths: readonly number[], queue = 0,
  ): void {
    this.postList(Op.PUT, localSegs, localOffs, rank, remoteSegs, remoteOffs, lengths, queue, -1, 0);
  }

  getList(
    localSegs: readonly number[], localOffs: readonly number[], rank: number,
    remoteSegs: readonly number[], remoteOffs: readonly number[], lengths: readonly number[], queue = 0,
  ): void {
    this.postList(Op.GET, localSegs, localOffs, rank, remoteSegs, remoteOffs, lengths, queue, -1, 0);
  }

  /** GASPI write_list_notify: the notification (on `notifySeg`) follows every range. */
  putListNotify(
    localSegs: readonly number[], localOffs: readonly number[], rank: number,
    remoteSegs: readonly number[], remoteOffs: readonly number[], lengths: readonly number[],
    notifySeg: number, notificationId: number, notificationValue: number, queue = 0,
  ): void {
    this.postList(Op.PUT, localSegs, localOffs, rank, remoteSegs, remoteOffs, lengths, queue, notifySeg, 0, notificationId, notificationValue);
  }

  /**
   * GASPI read_notify: a get whose arrival sets notification `notificationId` (value 1) of the local
   * segment `localSeg`. The notification is never set before the data is in place (see read-notify.ts
   * for when exactly). The op holds one entry of `queue`; wait(queue) covers it.
   */
  readNotify(
    localSeg: number, localOff: number, rank: number, remoteSeg: number, remoteOff: number, length: number,
    notificationId: number, queue = 0,
  ): void {
    this.readListNotify([localSeg], [localOff], rank, [remoteSeg], [remoteOff], [length], localSeg, notificationId, queue);
  }

  /** GASPI read_list_notify: several gets from one rank; notification `notificationId` of local `notifySeg` is set once all landed. */
  readListNotify(
    localSegs: readonly number[], localOffs: readonly number[], rank: number,
    remoteSegs: readonly number[], remoteOffs: readonly number[], lengths: readonly number[],
    notifySeg: number, notificationId: number, queue = 0,
  ): void {
    this.checkListShape(localSegs, localOffs, remoteSegs, remoteOffs, lengths);
    const n = localSegs.length;
    for (let i = 0; i < n; i++) {
      this.check(Op.GET, queue, localSegs[i]!, localOffs[i]!, rank, remoteSegs[i]!, remoteOffs[i]!, lengths[i]!, 0, 1, false, `list entry ${i}`);
    }
    checkIndex('notification segment', notifySeg, this.config.maxSegments);
    const target = this.segments.get(notifySeg);
    if (!target) throw new UnknownSegmentError(`notification segment ${notifySeg} does not exist on rank ${this.rank}`);
    checkIndex('notification id', notificationId, this.config.notificationsPerSegment);
    this.reserve(queue, n);
    const readQueue = this.reads.readQueue;
    this.posted[readQueue] = (this.posted[readQueue]! + n) | 0;
    for (let i = 0; i < n; i++) {
      this.dispatch(Op.GET, readQueue, localSegs[i]!, localOffs[i]!, rank, remoteSegs[i]!, remoteOffs[i]!, lengths[i]!, 0, 0);
    }
    this.reads.add(queue, rank, n, target.notifications, notificationId, 1);
  }

  private checkListShape(...lists: (readonly number[])[]): void {
    const n = lists[0]!.length;
    if (n === 0 || lists.some((l) => !Array.isArray(l) || l.length !== n)) {
      throw new InvalidArgumentError(`list arrays must be non-empty and of equal length (got ${lists.map((l) => l?.length).join(', ')})`);
    }
  }

  private postList(
    op: Op, localSegs: readonly number[], localOffs: readonly number[], rank: number,
    remoteSegs: readonly number[], remoteOffs: readonly number[], lengths: readonly number[], queue: number,
    notifySeg: number, _unused: number, notificationId = 0, notificationValue = 0,
  ): void {
    const n = localSegs.length;
    if (n === 0 || localOffs.length !== n || remoteSegs.length !== n || remoteOffs.length !== n || lengths.length !== n) {
      throw new InvalidArgumentError(`list arrays must be non-empty and of equal length (got ${localSegs.length}, ${localOffs.length}, ${remoteSegs.length}, ${remoteOffs.length}, ${lengths.length})`);
    }
    const extra = notifySeg >= 0 ? 1 : 0;
    for (let i = 0; i < n; i++) {
      this.check(op, queue, localSegs[i]!, localOffs[i]!, rank, remoteSegs[i]!, remoteOffs[i]!, lengths[i]!, 0, 1, false, `list entry ${i}`);
    }
    if (extra) this.check(Op.NOTIFY, queue, -1, 0, rank, notifySeg, 0, 0, notificationId, notificationValue, false, 'list notification');
    this.reserve(queue, n + extra);
    for (let i = 0; i < n; i++) {
      this.dispatch(op, queue, localSegs[i]!, localOffs[i]!, rank, remoteSegs[i]!, remoteOffs[i]!, lengths[i]!, 0, 0);
    }
    if (extra) this.dispatch(Op.NOTIFY, queue, -1, 0, rank, notifySeg, 0, 0, notificationId, notificationValue);
  }

  /** @internal validate, reserve queue space, hand to the transport (or apply locally for this rank) */
  post(
    op: Op, queue: number, localSlot: number, localOff: number, rank: number, remoteSlot: number,
    remoteOff: number, length: number, notificationId: number, notificationValue: number, internal: boolean,
  ): void {
    this.check(op, queue, localSlot, localOff, rank, remoteSlot, remoteOff, length, notificationId, notificationValue, internal, '');
    this.reserve(queue, 1);
    this.dispatch(op, queue, localSlot, localOff, rank, remoteSlot, remoteOff, length, notificationId, notificationValue);
  }

  private check(
    op: Op, queue: number, localSlot: number, localOff: number, rank: number, remoteSlot: number,
    remoteOff: number, length: number, notificationId: number, notificationValue: number, internal: boolean,
    where: string,
  ): void {
    this.checkOpen();
    const prefix = where ? `${where}: ` : '';
    const slotLimit = internal ? this.shared.slots : this.config.maxSegments;
    checkIndex(`${prefix}queue`, queue, internal ? this.shared.queueCount : this.config.queues);
    if (!internal && this.activeQueues[queue] === 0) {
      throw new InvalidArgumentError(`${prefix}queue ${queue} does not exist (queues ${this.queueList().join(', ') || 'none'} do; queueCreate() makes one)`);
    }
    checkIndex(`${prefix}rank`, rank, this.size);
    checkIndex(`${prefix}remote segment`, remoteSlot, slotLimit);
    if (op !== Op.NOTIFY) {
      checkIndex(`${prefix}local segment`, localSlot, slotLimit);
      checkLength(length);
      const local = this.segments.get(localSlot);
      if (!local) throw new UnknownSegmentError(`${prefix}local segment ${localSlot} does not exist on rank ${this.rank}`);
      checkRange(`${prefix}local`, localOff, length, local.bytes);
    }
    if (op === Op.NOTIFY || op === Op.PUT_NOTIFY) {
      checkIndex(`${prefix}notification id`, notificationId, this.config.notificationsPerSegment);
      checkNotificationValue(notificationValue);
    }
    const remoteBytes = rank === this.rank ? (this.segments.get(remoteSlot)?.bytes ?? 0) : this.shared.remoteBytes(rank, remoteSlot);
    if (remoteBytes === 0) {
      throw new UnknownSegmentError(`${prefix}rank ${rank} has no segment ${remoteSlot} (create it there first; a collective create returns only when all ranks have it)`);
    }
    if (op !== Op.NOTIFY) checkRange(`${prefix}remote`, remoteOff, length, remoteBytes);
    if (!this.shared.alive(rank)) throw new PeerDeadError(rank, `${prefix}rank ${rank} is dead`);
  }

  /**
   * GASPI queue semantics: a queue holds at most queueDepth operations posted since its last completed
   * `wait`, however many of them are already done; posting beyond that fails until `wait` drains it.
   * (This makes a full queue the same event on every transport.)
   */
  private reserve(queue: number, count: number): void {
    const held = this.sinceWait[queue]!;
    if (held + count > this.config.queueDepth) {
      throw new QueueFullError(`queue ${queue} is full (${held} of ${this.config.queueDepth} entries posted since the last wait): call wait(${queue}) first`);
    }
    this.sinceWait[queue] = held + count;
    this.posted[queue] = (this.posted[queue]! + count) | 0;
  }

  private dispatch(
    op: Op, queue: number, localSlot: number, localOff: number, rank: number, remoteSlot: number,
    remoteOff: number, length: number, notificationId: number, notificationValue: number,
  ): void {
    this.countSent(op, rank, remoteSlot, length);
    this.connected[rank] = 1; // connect on first use
    if (rank !== this.rank) {
      this.transport.post(op, queue, localSlot, localOff, rank, remoteSlot, remoteOff, length, notificationId, notificationValue);
      return;
    }
    // Operations on this rank's own memory need no transport: apply them now, in order. (TypedArray
    // set copies correctly between overlapping views of one buffer, e.g. bound regions.)
    const remote = this.segments.get(remoteSlot)!;
    if (op === Op.PUT || op === Op.PUT_NOTIFY) {
      const local = this.segments.get(localSlot)!;
      remote.u8.set(local.u8.subarray(localOff, localOff + length), remoteOff);
    } else if (op === Op.GET) {
      const local = this.segments.get(localSlot)!;
      local.u8.set(remote.u8.subarray(remoteOff, remoteOff + length), localOff);
    }
    if (op === Op.NOTIFY || op === Op.PUT_NOTIFY) setNotification(remote.notifications, notificationId, notificationValue);
    const kind = op === Op.PUT ? IN_PUT : op === Op.GET ? IN_GET : op === Op.NOTIFY ? IN_NOTIFY : IN_PUT_NOTIFY;
    countIncoming(this.counters, this.rank, remoteSlot, this.config.maxSegments, kind, op === Op.NOTIFY ? 0 : length);
    this.shared.complete(queue, 0, rank);
  }

  /** The "out" statistics of one posted op (user segments by kind; internal slots as internal traffic). */
  private countSent(op: Op, rank: number, remoteSlot: number, length: number): void {
    const w = this.counters;
    const base = rank * PEER_FIELDS;
    const bytes = op === Op.NOTIFY ? 0 : length;
    if (remoteSlot >= this.config.maxSegments) {
      w[base + S_INTERNAL_OPS_OUT]! += 1;
      w[base + S_INTERNAL_BYTES_OUT]! += bytes;
    } else if (op === Op.GET) {
      w[base + S_GET_OPS_OUT]! += 1;
      w[base + S_GET_BYTES_OUT]! += bytes;
    } else {
      if (op !== Op.NOTIFY) {
        w[base + S_PUT_OPS_OUT]! += 1;
        w[base + S_PUT_BYTES_OUT]! += bytes;
      }
      if (op !== Op.PUT) w[base + S_NOTIFY_OPS_OUT]! += 1;
    }
  }

  /** Operations posted to `queue` and not yet complete. */
  outstanding(queue: number): number {
    checkIndex('queue', queue, this.shared.queueCount);
    return (this.posted[queue]! - Atomics.load(this.shared.queues, queue * QUEUE_WORDS + Q_COMPLETED)) | 0;
  }

  /**
   * Resolves when every operation posted to `queue` is complete (a put's source may be reused, its
   * data is at the target; a get's data is here). If any failed, rejects with the first failure's
   * typed error once all are complete, and the queue is usable again.
   */
  async wait(queue = 0, timeoutMs = Infinity): Promise<void> {
    this.checkOpen();
    checkIndex('queue', queue, this.shared.queueCount);
    checkTimeout(timeoutMs);
    const words = this.shared.queues;
    const base = queue * QUEUE_WORDS;
    const deadline = deadlineAfter(timeoutMs);
    const started = performance.now();
    this.reads.poll();
    for (;;) {
      const completed = Atomics.load(words, base + Q_COMPLETED);
      if (((this.posted[queue]! - completed) | 0) <= 0) break;
      const outcome = await waitWhileEquals(words, base + Q_COMPLETED, completed, remaining(deadline), this.config.spinMicros);
      if (outcome === 'timed-out' && ((this.posted[queue]! - Atomics.load(words, base + Q_COMPLETED)) | 0) > 0) {
        throw new TimeoutError(`wait(${queue}): ${this.outstanding(queue)} operations still outstanding after ${timeoutMs} ms`);
      }
    }
    this.sinceWait[queue] = 0;
    this.countGlobal(G_WAITS, G_WAIT_MS, started);
    if (Atomics.load(words, base + Q_ERROR_COUNT) !== 0) {
      const status = Atomics.load(words, base + Q_ERROR_STATUS);
      const peer = Atomics.load(words, base + Q_ERROR_PEER);
      const count = Atomics.exchange(words, base + Q_ERROR_COUNT, 0);
      throw errorFromStatus(status, peer, `queue ${queue} (${count} failed operation${count === 1 ? '' : 's'})`);
    }
  }

  // ---- notifications --------------------------------------------------------------------------

  /**
   * Wait until any of the notifications `first .. first+count-1` of local segment `seg` is set; returns
   * the ids that are set (ascending). Does not reset them: use resetNotify.
   */
  waitNotify(seg: number, first: number, count = 1, timeoutMs = Infinity): Promise<number[]> {
    // Not async, and a zero timeout (GASPI_TEST) answered synchronously: a polling target calls this
    // in its hot loop, so a miss must cost about a scan of the words, not a stack capture and three
    // async frames (measured: 6-8 µs per miss before, which was most of the ucx putNotify latency).
    const started = performance.now();
    try {
      this.checkOpen();
      checkIndex('segment id', seg, this.config.maxSegments);
      this.reads.poll();
      if (timeoutMs === 0) {
        const ids = this.testNotifySlot(seg, first, count);
        this.countGlobal(G_NOTIFY_WAITS, G_NOTIFY_WAIT_MS, started);
        return ids.length > 0 ? Promise.resolve(ids) : Promise.reject(pollMiss(`waitNotify: none of notifications ${first}..${first + count - 1} of segment ${seg} is set (zero timeout)`));
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.waitNotifySlot(seg, first, count, timeoutMs).then((ids) => {
      this.countGlobal(G_NOTIFY_WAITS, G_NOTIFY_WAIT_MS, started);
      return ids;
    });
  }

  /**
   * The ids among first..first+count-1 whose notification is set, now, without waiting ([] when none):
   * GASPI's notify_waitsome with GASPI_TEST, without the TimeoutError of waitNotify(…, 0).
   */
  testNotify(seg: number, first: number, count = 1): number[] {
    this.checkOpen();
    checkIndex('segment id', seg, this.config.maxSegments);
    this.reads.poll();
    return this.testNotifySlot(seg, first, count);
  }

  /** @internal */
  testNotifySlot(slot: number, first: number, count: number): number[] {
    return setNotifications(this.notificationWords(slot, first, count), first, count);
  }

  /** @internal the notification words of segment `slot`, once first..first+count-1 is checked */
  notificationWords(slot: number, first: number, count: number): Int32Array {
    const segment = this.segments.get(slot);
    if (!segment) throw new UnknownSegmentError(`segment ${slot} does not exist on rank ${this.rank}`);
    const limit = this.config.notificationsPerSegment;
    checkIndex('first notification id', first, limit);
    if (!Number.isInteger(count) || count < 1 || first + count > limit) {
      throw new InvalidArgumentError(`notification count must be in [1, ${limit - first}], got ${String(count)}`);
    }
    return segment.notifications;
  }

  /** @internal add one call and the milliseconds since `started` to two global counters */
  countGlobal(countField: number, msField: number, started: number): void {
    const g = this.size * PEER_FIELDS;
    this.counters[g + countField]! += 1;
    this.counters[g + msField]! += performance.now() - started;
  }

  /** @internal */
  async waitNotifySlot(slot: number, first: number, count: number, timeoutMs: number): Promise<number[]> {
    const words = this.notificationWords(slot, first, count);
    checkTimeout(timeoutMs);
    const counter = words.length - 1;
    const deadline = deadlineAfter(timeoutMs);
    for (;;) {
      const seen = Atomics.load(words, counter);
      const ids = setNotifications(words, first, count);
      if (ids.length > 0) return ids;
      const outcome = await waitWhileEquals(words, counter, seen, remaining(deadline), this.config.spinMicros);
      // A wait's timer may fire a little early: time out only once the deadline has really passed.
      if (outcome === 'timed-out' && Atomics.load(words, counter) === seen && remaining(deadline) === 0) {
        throw new TimeoutError(`waitNotify: none of notifications ${first}..${first + count - 1} of segment ${slot} was set within ${timeoutMs} ms`);
      }
    }
  }

  /** Atomically clear a notification; returns its old value (0: it was not set). */
  resetNotify(seg: number, id: number): number {
    this.checkOpen();
    checkIndex('segment id', seg, this.config.maxSegments);
    this.reads.poll();
    return this.resetNotifySlot(seg, id);
  }

  /** @internal */
  resetNotifySlot(slot: number, id: number): number {
    const segment = this.segments.get(slot);
    if (!segment) throw new UnknownSegmentError(`segment ${slot} does not exist on rank ${this.rank}`);
    checkIndex('notification id', id, this.config.notificationsPerSegment);
    return Atomics.exchange(segment.notifications, id, 0);
  }

  // ---- atomics --------------------------------------------------------------------------------

  /** Atomically add `addend` to the 64-bit word at byte `offset` of segment `seg` on `rank`; resolves the old value. */
  fetchAdd(rank: number, seg: number, offset: number, addend: bigint, timeoutMs = Infinity): Promise<bigint> {
    return this.atomic(Op.FETCH_ADD, rank, seg, offset, addend, 0n, timeoutMs);
  }

  /** Atomically replace the word with `desired` if it equals `expected`; resolves the old value. */
  compareSwap(rank: number, seg: number, offset: number, expected: bigint, desired: bigint, timeoutMs = Infinity): Promise<bigint> {
    return this.atomic(Op.COMPARE_SWAP, rank, seg, offset, expected, desired, timeoutMs);
  }

  private async atomic(op: Op, rank: number, seg: number, offset: number, a: bigint, b: bigint, timeoutMs: number): Promise<bigint> {
    this.checkOpen();
    checkIndex('rank', rank, this.size);
    checkIndex('segment id', seg, this.config.maxSegments);
    checkTimeout(timeoutMs);
    if (typeof a !== 'bigint' || typeof b !== 'bigint') throw new InvalidArgumentError('atomic operands must be bigint');
    const bytes = rank === this.rank ? (this.segments.get(seg)?.bytes ?? 0) : this.shared.remoteBytes(rank, seg);
    if (bytes === 0) throw new UnknownSegmentError(`rank ${rank} has no segment ${seg}`);
    if (!Number.isInteger(offset) || offset % 8 !== 0) {
      throw new InvalidArgumentError(`atomic offset must be a multiple of 8 bytes, got ${String(offset)}`);
    }
    checkRange('atomic', offset, 8, bytes);
    if (!this.shared.alive(rank)) throw new PeerDeadError(rank, `rank ${rank} is dead`);
    this.counters[rank * PEER_FIELDS + S_ATOMIC_OPS_OUT]! += 1;
    if (rank === this.rank) {
      countIncoming(this.counters, this.rank, seg, this.config.maxSegments, IN_ATOMIC, 8);
      const local = this.segments.get(seg)!;
      const words = new BigInt64Array(local.buffer, local.byteOffset + offset, 1);
      return op === Op.FETCH_ADD ? Atomics.add(words, 0, BigInt.asIntN(64, a)) : Atomics.compareExchange(words, 0, BigInt.asIntN(64, a), BigInt.asIntN(64, b));
    }
    return withTimeout(this.transport.atomic(op, rank, seg, offset, BigInt.asIntN(64, a), BigInt.asIntN(64, b)), timeoutMs, `atomic on rank ${rank}`);
  }

  // ---- collectives ----------------------------------------------------------------------------

  /** Collective group over `ranks` (this rank included); every member calls it with the same list. */
  createGroup(ranks: readonly number[], timeoutMs = Infinity): Promise<Group> {
    this.checkOpen();
    return createGroupCollective(this, ranks, timeoutMs);
  }

  deleteGroup(group: Group): Promise<void> {
    return deleteGroupSegment(this, group);
  }

  barrier(group: Group = this.world, timeoutMs = Infinity): Promise<void> {
    this.checkOpen();
    return this.timedCollective(barrier(this, group, timeoutMs));
  }

  /**
   * Element-wise reduction of `input` over the group into `output` (may be the same array):
   * Float32/Float64/Int32/BigInt64 (integer sums wrap), any length (chunked).
   */
  allreduce<T extends ReduceArray>(input: T, output: T, op: ReduceOp = 'sum', group: Group = this.world, timeoutMs = Infinity): Promise<void> {
    this.checkOpen();
    return this.timedCollective(allreduce(this, input, output, op, group, timeoutMs));
  }

  /**
   * GASPI allreduce_user: reduce with your own element-wise function `reduce(acc, x, state)`, which
   * combines `x` into `acc` (typed arrays of the input's type). Every rank gets bit-identical results.
   */
  allreduceUser<T extends UserReduceArray, S>(
    input: T, output: T, reduce: UserReduce<T, S>, state: S, group: Group = this.world, timeoutMs = Infinity,
  ): Promise<void> {
    this.checkOpen();
    return this.timedCollective(allreduceUser(this, input, output, reduce, state, group, timeoutMs));
  }

  /** GASPI allreduce_elem_max: elements of `elementBytes` one allreduce round moves (longer arrays are chunked). */
  allreduceElemMax(elementBytes = 4): number {
    if (![1, 2, 4, 8].includes(elementBytes)) throw new InvalidArgumentError(`element size must be 1, 2, 4 or 8 bytes, got ${String(elementBytes)}`);
    return allreduceElemMax(this.config.collectiveChunkBytes, elementBytes);
  }

  /** `data` of `root` is copied into `data` of every other member. */
  broadcast(data: Float32Array | Float64Array | Uint8Array, root: number, group: Group = this.world, timeoutMs = Infinity): Promise<void> {
    this.checkOpen();
    return this.timedCollective(broadcast(this, data, root, group, timeoutMs));
  }

  private async timedCollective(run: Promise<void>): Promise<void> {
    const started = performance.now();
    await run;
    this.countGlobal(G_COLLECTIVES, G_COLLECTIVE_MS, started);
  }

  // ---- passive messages -----------------------------------------------------------------------

  async send(rank: number, data: Uint8Array, timeoutMs = Infinity): Promise<void> {
    this.checkOpen();
    checkIndex('rank', rank, this.size);
    checkTimeout(timeoutMs);
    if (!(data instanceof Uint8Array)) throw new InvalidArgumentError('passive message data must be a Uint8Array');
    if (data.byteLength > this.config.maxPassiveBytes) {
      throw new InvalidArgumentError(`passive message of ${data.byteLength} bytes exceeds maxPassiveBytes (${this.config.maxPassiveBytes})`);
    }
    if (!this.shared.alive(rank)) throw new PeerDeadError(rank, `rank ${rank} is dead`);
    await withTimeout(this.transport.send(rank, data), timeoutMs, `send to rank ${rank}`);
    this.counters[rank * PEER_FIELDS + S_MSG_OPS_OUT]! += 1;
    this.counters[rank * PEER_FIELDS + S_MSG_BYTES_OUT]! += data.byteLength;
  }

  async receive(timeoutMs = Infinity): Promise<PassiveMessage> {
    this.checkOpen();
    checkTimeout(timeoutMs);
    const message = await this.transport.receive(timeoutMs);
    if (!message) throw new TimeoutError(`receive: no passive message within ${timeoutMs} ms`);
    this.counters[message.rank * PEER_FIELDS + S_MSG_OPS_IN]! += 1;
    this.counters[message.rank * PEER_FIELDS + S_MSG_BYTES_IN]! += message.data.byteLength;
    return message;
  }

  // ---- queues and limits ----------------------------------------------------------------------

  /** GASPI queue_create: the lowest free queue slot becomes a queue; ResourceLimitError when all `queues` exist. */
  queueCreate(): number {
    this.checkOpen();
    const free = this.activeQueues.indexOf(0);
    if (free < 0) throw new ResourceLimitError(`all ${this.config.queues} queue slots are in use (config queues is the most queues that can exist)`);
    this.activeQueues[free] = 1;
    this.sinceWait[free] = 0;
    return free;
  }

  /** GASPI queue_delete: the queue must be empty (wait for it first). */
  queueDelete(queue: number): void {
    this.checkOpen();
    checkIndex('queue', queue, this.config.queues);
    if (this.activeQueues[queue] === 0) throw new InvalidArgumentError(`queue ${queue} does not exist`);
    if (this.outstanding(queue) !== 0) {
      throw new InvalidArgumentError(`queue ${queue} still has ${this.outstanding(queue)} operations outstanding: wait(${queue}) before deleting it`);
    }
    this.activeQueues[queue] = 0;
    this.sinceWait[queue] = 0;
  }

  /** The queues that exist, ascending (GASPI queue_num is its length). */
  queueList(): number[] {
    const list: number[] = [];
    this.activeQueues.forEach((active, q) => { if (active) list.push(q); });
    return list;
  }

  /** GASPI queue_size: entries of `queue` in use (posted since its last completed wait; at most queueDepth). */
  queueSize(queue: number): number {
    checkIndex('queue', queue, this.config.queues);
    if (this.activeQueues[queue] === 0) throw new InvalidArgumentError(`queue ${queue} does not exist`);
    return this.sinceWait[queue]!;
  }

  /** The limits of this context (set through config before start; fixed after). */
  limits(): PgasLimits {
    return {
      queueMax: this.config.queues,
      queueDepth: this.config.queueDepth,
      notificationsPerSegment: this.config.notificationsPerSegment,
      segmentMax: this.config.maxSegments,
      transferMax: this.config.maxSegmentBytes,
      passiveMax: this.config.maxPassiveBytes,
      allreduceElemMax: { bytes4: this.allreduceElemMax(4), bytes8: this.allreduceElemMax(8) },
      groupMax: INTERNAL_GROUP_SLOTS,
    };
  }

  // ---- liveness: ping and kill ----------------------------------------------------------------

  /**
   * GASPI proc_ping: is `rank` alive and answering? Resolves the round trip in milliseconds (an atomic
   * on the rank's world segment, served by its transport without its program taking part). Rejects
   * with PeerDeadError if it is dead, TimeoutError if no answer came in time.
   */
  async ping(rank: number, timeoutMs = Infinity): Promise<number> {
    this.checkOpen();
    checkIndex('rank', rank, this.size);
    checkTimeout(timeoutMs);
    if (!this.shared.alive(rank)) throw new PeerDeadError(rank, `ping: rank ${rank} is dead`);
    const started = performance.now();
    if (rank === this.rank) return 0;
    this.counters[rank * PEER_FIELDS + S_INTERNAL_OPS_OUT]! += 1;
    await withTimeout(this.transport.atomic(Op.FETCH_ADD, rank, this.world.slot, this.world.layout.ping, 1n, 0n), timeoutMs, `ping rank ${rank}`);
    return performance.now() - started;
  }

  /**
   * GASPI proc_kill: ask `rank` to terminate. Its kill watcher ends it with exit code 137 within tens of
   * milliseconds (while its event loop runs); resolves once this rank sees it dead, rejects with
   * TimeoutError if that takes longer than `timeoutMs`.
   */
  async kill(rank: number, timeoutMs = Infinity): Promise<void> {
    this.checkOpen();
    checkIndex('rank', rank, this.size);
    checkTimeout(timeoutMs);
    if (rank === this.rank) throw new InvalidArgumentError('kill: a rank cannot kill itself (leave with close() or process.exit)');
    if (!this.shared.alive(rank)) return;
    this.post(Op.NOTIFY, this.internalQueue, -1, 0, rank, this.world.slot, 0, 0, this.world.layout.killId, this.rank + 1, true);
    const deadline = deadlineAfter(timeoutMs);
    while (this.shared.alive(rank)) {
      const epoch = Atomics.load(this.shared.healthEpoch, 0);
      if (!this.shared.alive(rank)) break;
      const outcome = await waitWhileEquals(this.shared.healthEpoch, 0, epoch, Math.min(remaining(deadline), 100), 0);
      if (outcome === 'timed-out' && remaining(deadline) === 0 && this.shared.alive(rank)) {
        throw new TimeoutError(`kill: rank ${rank} was not seen dead within ${timeoutMs} ms`);
      }
    }
  }

  // ---- connections ----------------------------------------------------------------------------

  /**
   * GASPI connect: open this rank's data link to `rank` now rather than on first use (uws); resolves
   * once it is open. Rejects with PeerDeadError for a dead rank, TimeoutError after `timeoutMs` (the
   * link may still open later). threads need no link and ucx opens all at start: they resolve at once.
   */
  async connect(rank: number, timeoutMs = Infinity): Promise<void> {
    this.checkOpen();
    checkIndex('rank', rank, this.size);
    checkTimeout(timeoutMs);
    if (!this.shared.alive(rank)) throw new PeerDeadError(rank, `connect: rank ${rank} is dead`);
    this.connected[rank] = 1;
    if (this.transport.connect) await withTimeout(this.transport.connect(rank), timeoutMs, `connect to rank ${rank}`);
  }

  /**
   * GASPI disconnect: close this rank's data link to `rank` (uws). Operations already posted to it
   * complete first (or fail typed, e.g. PeerDeadError if it dies meanwhile); the next operation to
   * `rank` opens a new link. TimeoutError after `timeoutMs` (the link still closes once those complete).
   */
  async disconnect(rank: number, timeoutMs = Infinity): Promise<void> {
    this.checkOpen();
    checkIndex('rank', rank, this.size);
    checkTimeout(timeoutMs);
    this.connected[rank] = 0;
    if (this.transport.disconnect) await withTimeout(this.transport.disconnect(rank), timeoutMs, `disconnect from rank ${rank}`);
  }

  /**
   * This rank and the ranks it holds an open data link to (uws: the real links, so a lazy job lists
   * only the ranks it has used). threads and ucx: every rank, less those disconnected and not used since.
   */
  connections(): number[] {
    if (this.transport.connections) return this.transport.connections();
    const list: number[] = [];
    this.connected.forEach((c, r) => { if (c) list.push(r); });
    return list;
  }

  // ---- statistics -----------------------------------------------------------------------------

  /** Per-peer traffic counters and time spent blocked, as plain numbers (see stats.ts). */
  stats(): RankStats {
    return readStats(this.counters, this.rank, this.size, this.transportKind, this.transportKind !== 'ucx');
  }

  /** Lines for a person to read (the launcher's --stats summary prints these). */
  formatStats(): string[] {
    return formatStats(this.stats());
  }

  /** GASPI statistic_counter_reset: zero the counters this rank keeps itself (incoming counts are kept by their writers). */
  resetStats(): void {
    resetOwnStats(this.counters, this.size);
  }

  // ---- health and shutdown --------------------------------------------------------------------

  health(): RankHealth[] {
    return Array.from({ length: this.size }, (_, r) => (this.shared.alive(r) ? 'alive' : 'dead'));
  }

  isAlive(rank: number): boolean {
    checkIndex('rank', rank, this.size);
    return this.shared.alive(rank);
  }

  /** Resolves the next time any rank's health changes (or after timeoutMs, rejecting with TimeoutError). */
  async waitHealthChange(timeoutMs = Infinity): Promise<RankHealth[]> {
    const seen = Atomics.load(this.shared.healthEpoch, 0);
    const outcome = await waitWhileEquals(this.shared.healthEpoch, 0, seen, timeoutMs, 0);
    if (outcome === 'timed-out') throw new TimeoutError(`no health change within ${timeoutMs} ms`);
    return this.health();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopKillWatch();
    this.reads.stop();
    // pgas-run --stats sets PGAS_STATS=1 and collects this line from each rank's output.
    if (process.env.PGAS_STATS === '1') process.stdout.write(`${statsLine(this.stats())}\n`);
    await this.transport.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError(`rank ${this.rank}: the context is closed`);
  }
}

/** Live groups besides the world (each takes one internal segment slot; see collectives/group.ts). */
const INTERNAL_GROUP_SLOTS = INTERNAL_SEGMENTS - 1;

function bindUnsupportedReason(kind: string): string {
  if (kind === 'ucx') {
    return 'the ucx transport cannot bind a SharedArrayBuffer as a segment: segment memory must come from UCX (ucp_mem_map) '
      + 'for peers to map it; memory JavaScript allocated could only be registered, and UCX then emulates puts and gets in '
      + 'software, waiting for the target to progress (DESIGN.md, "Native code"). Use createSegment and its views instead, '
      + 'or the uws or threads transport';
  }
  return `the ${kind} transport cannot bind memory the program allocated as a segment`;
}

export { KILLED_EXIT_CODE };

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  if (timeoutMs === Infinity) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (v) => { clearTimeout(timer); resolve(v); },
      (e: unknown) => { clearTimeout(timer); reject(e); },
    );
  });
}

/** The ids among first..first+count-1 whose notification word is set. */
function setNotifications(words: Int32Array, first: number, count: number): number[] {
  const ids: number[] = [];
  for (let id = first; id < first + count; id++) if (Atomics.load(words, id) !== 0) ids.push(id);
  return ids;
}
