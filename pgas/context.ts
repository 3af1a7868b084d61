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
  errorFromStatus,
} from './errors.js';
import { Group, createWorldGroup, createGroupCollective, deleteGroupSegment } from './collectives/group.js';
import { allreduce, type ReduceOp, type ReduceArray } from './collectives/allreduce.js';
import { barrier } from './collectives/barrier.js';
import { broadcast } from './collectives/broadcast.js';
import { setNotification } from './notifications.js';
import { Segment } from './segment.js';
import { Q_COMPLETED, Q_ERROR_COUNT, Q_ERROR_PEER, Q_ERROR_STATUS, QUEUE_WORDS, type SharedState } from './shared-state.js';
import { Op, type PassiveMessage, type Transport, type TransportKind } from './transport.js';
import { checkIndex, checkLength, checkNotificationValue, checkRange, checkTimeout } from './validate.js';
import { deadlineAfter, remaining, sleep, waitWhileEquals } from './waiting.js';

export type RankHealth = 'alive' | 'dead';

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
  }

  /** Wrap a connected transport; creates the world group's collective buffers on every rank. */
  static async open(transport: Transport, startupTimeoutMs = 60000): Promise<PgasContext> {
    const ctx = new PgasContext(transport);
    await createWorldGroup(ctx, ctx.world, startupTimeoutMs);
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
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes % 4 !== 0) {
      throw new InvalidArgumentError(`segment size must be a positive multiple of 4 bytes, got ${String(bytes)}`);
    }
    if (bytes > this.config.maxSegmentBytes) {
      throw new ResourceLimitError(`segment size ${bytes} exceeds maxSegmentBytes (${this.config.maxSegmentBytes})`);
    }
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
    if (rank !== this.rank) {
      this.transport.post(op, queue, localSlot, localOff, rank, remoteSlot, remoteOff, length, notificationId, notificationValue);
      return;
    }
    // Operations on this rank's own memory need no transport: apply them now, in order.
    const remote = this.segments.get(remoteSlot)!;
    if (op === Op.PUT || op === Op.PUT_NOTIFY) {
      const local = this.segments.get(localSlot)!;
      if (local.buffer === remote.buffer) remote.u8.copyWithin(remoteOff, localOff, localOff + length);
      else remote.u8.set(local.u8.subarray(localOff, localOff + length), remoteOff);
    } else if (op === Op.GET) {
      const local = this.segments.get(localSlot)!;
      if (local.buffer === remote.buffer) local.u8.copyWithin(localOff, remoteOff, remoteOff + length);
      else local.u8.set(remote.u8.subarray(remoteOff, remoteOff + length), localOff);
    }
    if (op === Op.NOTIFY || op === Op.PUT_NOTIFY) setNotification(remote.notifications, notificationId, notificationValue);
    this.shared.complete(queue, 0, rank);
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
    for (;;) {
      const completed = Atomics.load(words, base + Q_COMPLETED);
      if (((this.posted[queue]! - completed) | 0) <= 0) break;
      const outcome = await waitWhileEquals(words, base + Q_COMPLETED, completed, remaining(deadline), this.config.spinMicros);
      if (outcome === 'timed-out' && ((this.posted[queue]! - Atomics.load(words, base + Q_COMPLETED)) | 0) > 0) {
        throw new TimeoutError(`wait(${queue}): ${this.outstanding(queue)} operations still outstanding after ${timeoutMs} ms`);
      }
    }
    this.sinceWait[queue] = 0;
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
  async waitNotify(seg: number, first: number, count = 1, timeoutMs = Infinity): Promise<number[]> {
    this.checkOpen();
    checkIndex('segment id', seg, this.config.maxSegments);
    return this.waitNotifySlot(seg, first, count, timeoutMs);
  }

  /** @internal */
  async waitNotifySlot(slot: number, first: number, count: number, timeoutMs: number): Promise<number[]> {
    const segment = this.segments.get(slot);
    if (!segment) throw new UnknownSegmentError(`segment ${slot} does not exist on rank ${this.rank}`);
    const limit = this.config.notificationsPerSegment;
    checkIndex('first notification id', first, limit);
    if (!Number.isInteger(count) || count < 1 || first + count > limit) {
      throw new InvalidArgumentError(`notification count must be in [1, ${limit - first}], got ${String(count)}`);
    }
    checkTimeout(timeoutMs);
    const words = segment.notifications;
    const counter = words.length - 1;
    const deadline = deadlineAfter(timeoutMs);
    for (;;) {
      const seen = Atomics.load(words, counter);
      const ids: number[] = [];
      for (let id = first; id < first + count; id++) if (Atomics.load(words, id) !== 0) ids.push(id);
      if (ids.length > 0) return ids;
      const outcome = await waitWhileEquals(words, counter, seen, remaining(deadline), this.config.spinMicros);
      if (outcome === 'timed-out' && Atomics.load(words, counter) === seen) {
        throw new TimeoutError(`waitNotify: none of notifications ${first}..${first + count - 1} of segment ${slot} was set within ${timeoutMs} ms`);
      }
    }
  }

  /** Atomically clear a notification; returns its old value (0: it was not set). */
  resetNotify(seg: number, id: number): number {
    this.checkOpen();
    checkIndex('segment id', seg, this.config.maxSegments);
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
    if (rank === this.rank) {
      const words = new BigInt64Array(this.segments.get(seg)!.buffer, offset, 1);
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
    return barrier(this, group, timeoutMs);
  }

  /** Element-wise reduction of `input` over the group into `output` (may be the same array). */
  allreduce<T extends ReduceArray>(input: T, output: T, op: ReduceOp = 'sum', group: Group = this.world, timeoutMs = Infinity): Promise<void> {
    this.checkOpen();
    return allreduce(this, input, output, op, group, timeoutMs);
  }

  /** `data` of `root` is copied into `data` of every other member. */
  broadcast(data: Float32Array | Float64Array | Uint8Array, root: number, group: Group = this.world, timeoutMs = Infinity): Promise<void> {
    this.checkOpen();
    return broadcast(this, data, root, group, timeoutMs);
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
  }

  async receive(timeoutMs = Infinity): Promise<PassiveMessage> {
    this.checkOpen();
    checkTimeout(timeoutMs);
    const message = await this.transport.receive(timeoutMs);
    if (!message) throw new TimeoutError(`receive: no passive message within ${timeoutMs} ms`);
    return message;
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
    await this.transport.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError(`rank ${this.rank}: the context is closed`);
  }
}

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
