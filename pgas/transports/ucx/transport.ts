import type { PgasConfig } from '../../config.js';
import {
  ClosedError,
  PeerDeadError,
  RendezvousError,
  ResourceLimitError,
  UnknownSegmentError,
  WireStatus,
  errorFromStatus,
} from '../../errors.js';
import { notificationWordCount } from '../../notifications.js';
import { QUEUE_WORDS, Q_COMPLETED, SharedState } from '../../shared-state.js';
import { PassiveInbox } from '../../passive-inbox.js';
import { Op, type LocalSegment, type PassiveMessage, type Transport } from '../../transport.js';
import {
  AM_CONTROL,
  AM_WAKE,
  EV_PEER_FAILED,
  ATOMIC_SLOT_BYTES,
  INLINE_EVENTS,
  CTL_HEAD,
  CTL_STATE,
  CTL_TAIL,
  CTL_WORDS,
  Control,
  ENTRY_WORDS,
  NO_SLOT,
  ringEntriesFor,
} from './layout.js';
import type { MappedSegment, NativeBinding, NativeEngine } from './native.js';

/**
 * What the UCX transport needs from the job's bootstrap (the rendezvous that rank 0 hosts): every
 * rank's worker address, and the heartbeat's verdict on which ranks died.
 */
export interface UcxBootstrap {
  /** Publish this rank's blob and resolve every rank's, indexed by rank (this rank's included). */
  allgather(blob: Uint8Array): Promise<Uint8Array[]>;
  /** Called once per rank that the heartbeat declares dead. */
  onPeerDead(listener: (rank: number) => void): void;
  close(): Promise<void>;
}

export interface UcxTransportOptions {
  rank: number;
  size: number;
  config: PgasConfig;
  /** the bootstrap, or how to start it once the transport's shared state exists */
  bootstrap: UcxBootstrap | ((shared: SharedState) => UcxBootstrap);
  /** where to log transport events; default stderr */
  log?: (line: string) => void;
  /** microseconds the progress thread polls after its last activity before it sleeps (PGAS_UCX_SPIN_US) */
  spinMicros?: number;
  /** run small operations on the posting thread when the progress thread sleeps (PGAS_UCX_INLINE) */
  inline?: boolean;
  /** the largest put/get run inline, in bytes (PGAS_UCX_INLINE_MAX) */
  inlineMaxBytes?: number;
  /** how long close() waits for live peers to close too (PGAS_UCX_CLOSE_TIMEOUT_MS) */
  closeTimeoutMs?: number;
}

const ATOMIC_SLOTS = 256;

interface Waiting {
  ranks: Set<number>;
  resolve: () => void;
}

interface PendingAtomic {
  resolve: (value: bigint) => void;
  reject: (error: Error) => void;
  rank: number;
}

/**
 * The native transport: segment memory from ucp_mem_map, one-sided operations as UCX RMA and atomics,
 * driven by the native engine's progress thread (pgas/native/ucx.cc).
 *
 * Hot path: `post` writes one descriptor into a shared ring and, only when the progress thread
 * sleeps, calls `kick` (which may run small operations inline). Completions arrive in SharedState's
 * queue words, written by the engine; JavaScript's Atomics.waitAsync waiters cannot be woken from a
 * native thread (V8 keeps its own waiter lists), so the engine asks for `onWake` on this thread
 * (coalesced) and that does the Atomics.notify.
 *
 * Control traffic (segment announcements with packed rkeys, passive messages) travels as UCX active
 * messages; only the initial address exchange and liveness use the bootstrap.
 */
export class UcxTransport implements Transport {
  readonly kind = 'ucx' as const;
  readonly rank: number;
  readonly size: number;
  readonly config: PgasConfig;
  readonly shared: SharedState;
  private readonly engine: NativeEngine;
  private readonly bootstrap: UcxBootstrap;
  private readonly log: (line: string) => void;
  private readonly ctl: Int32Array;
  private readonly ring: Int32Array;
  private readonly ringMask: number;
  private readonly ringEntries: number;
  private tail = 0;
  private readonly overflow: number[][] = [];
  private overflowScheduled = false;
  private readonly atomicWords: BigInt64Array;
  private readonly atomicFlags: Int32Array;
  private readonly atomicPending: (PendingAtomic | undefined)[] = [];
  private readonly atomicFree: number[] = [];
  private readonly atomicBacklog: { start: () => void; reject: (error: Error) => void }[] = [];
  /** atomics posted and not yet settled: settleAtomics scans the slots only while there are some */
  private atomicsInFlight = 0;
  private readonly local = new Map<number, LocalSegment>();
  private readonly localWords = new Map<number, Int32Array>();
  /** 1 while this rank's event loop is blocked in poll (peers then send wake-ups); cleared whenever JS runs */
  private attention: Int32Array = new Int32Array(1);
  private readonly seenCounters = new Map<number, number>();
  private readonly lastCompleted: Int32Array;
  private readonly waiting = new Map<number, Waiting>();
  private nextSeq = 1;
  private readonly inbox = new PassiveInbox();
  private wakeQueued = false;
  /** false until this rank has endpoints to every peer: control messages wait in `early` until then */
  private connected = false;
  private readonly early: (number | Buffer | null)[] = [];
  private closed = false;
  private readonly closeTimeoutMs: number;
  private readonly closingPeers = new Set<number>();
  private closingWaiter: (() => void) | undefined;
  private readonly notifWords: number;

  private constructor(binding: NativeBinding, options: UcxTransportOptions) {
    this.rank = options.rank;
    this.size = options.size;
    this.config = options.config;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.shared = SharedState.create(this.size, this.config);
    this.closeTimeoutMs = options.closeTimeoutMs ?? 2000;
    this.notifWords = notificationWordCount(this.config.notificationsPerSegment);
    const maxOutstanding = this.shared.queueCount * this.config.queueDepth + ATOMIC_SLOTS;
    this.ringEntries = ringEntriesFor(maxOutstanding);
    this.ringMask = this.ringEntries - 1;
    const ctlBuffer = new SharedArrayBuffer(CTL_WORDS * 4);
    const ringBuffer = new SharedArrayBuffer(this.ringEntries * ENTRY_WORDS * 4);
    const atomicBuffer = new SharedArrayBuffer(ATOMIC_SLOTS * ATOMIC_SLOT_BYTES);
    this.ctl = new Int32Array(ctlBuffer);
    this.ring = new Int32Array(ringBuffer);
    this.atomicWords = new BigInt64Array(atomicBuffer);
    this.atomicFlags = new Int32Array(atomicBuffer);
    for (let i = ATOMIC_SLOTS - 1; i >= 0; i--) this.atomicFree.push(i);
    this.lastCompleted = new Int32Array(this.shared.queueCount);
    this.engine = new binding.Engine({
      rank: this.rank,
      size: this.size,
      slots: this.shared.slots,
      queueCount: this.shared.queueCount,
      queues: this.shared.buffer,
      queuesOffset: this.shared.queues.byteOffset,
      ctl: ctlBuffer,
      ring: ringBuffer,
      ringEntries: this.ringEntries,
      atomics: atomicBuffer,
      atomicSlots: ATOMIC_SLOTS,
      spinMicros: options.spinMicros ?? 0,
      inline: options.inline ?? true,
      inlineMaxBytes: options.inlineMaxBytes ?? 16384,
      onWake: () => this.onWake(),
    });
    // Last: nothing above may leave a bootstrap thread running when it throws.
    this.bootstrap = typeof options.bootstrap === 'function' ? options.bootstrap(this.shared) : options.bootstrap;
  }

  /**
   * Create the engine, exchange worker addresses through the bootstrap, connect to every peer.
   *
   * Always eager (PGAS_CONNECTIONS is for uws only): segment announcements carry packed rkeys that can
   * be unpacked only on an endpoint to their owner, and they travel as active messages on those
   * endpoints, so every rank needs an endpoint to every peer before its first collective createSegment;
   * on shared memory (the main use here) an endpoint holds no socket anyway. Lazy endpoints would mean
   * relaying rkeys through the bootstrap and unpacking them on first use.
   */
  static async create(binding: NativeBinding, options: UcxTransportOptions): Promise<UcxTransport> {
    const transport = new UcxTransport(binding, options);
    try {
      const table = await transport.bootstrap.allgather(transport.engine.address());
      if (table.length !== transport.size) {
        throw new RendezvousError(`the bootstrap returned ${table.length} worker addresses for ${transport.size} ranks`);
      }
      for (let r = 0; r < transport.size; r++) {
        if (r === transport.rank) continue;
        try {
          transport.engine.connect(r, table[r]!);
        } catch (error) {
          // UCX found no transport that reaches the peer (e.g. only `lo` was up here, or
          // UCX_NET_DEVICES names a device the peer's host lacks): say which rank and what to check.
          throw new RendezvousError(`rank ${transport.rank}: cannot reach rank ${r} over UCX (${(error as Error).message}); check UCX_TLS / UCX_NET_DEVICES and that the network device is up on both hosts`);
        }
      }
      transport.bootstrap.onPeerDead((r) => transport.peerDead(r));
      // Tell every peer where this rank's attention word is, so that notifications to it wake its
      // event loop only when the loop is blocked.
      const attention = transport.engine.attention();
      transport.attention = new Int32Array(attention.word);
      const message = new Uint8Array(8 + attention.rkey.length);
      new DataView(message.buffer).setBigUint64(0, attention.address, true);
      message.set(attention.rkey, 8);
      for (let r = 0; r < transport.size; r++) if (r !== transport.rank) transport.engine.send(r, Control.ATTENTION, message);
      // A faster peer may already have announced segments (their rkeys unpack only on an endpoint).
      transport.connected = true;
      transport.onWake();
    } catch (error) {
      transport.closed = true;
      transport.engine.close();
      await transport.bootstrap.close();
      throw error;
    }
    return transport;
  }

  /** Which UCX transports each endpoint uses (for --info and benchmark records). */
  describe(): { endpoints: string; lastError: string; inline: boolean } {
    return this.engine.info();
  }

  // ---- segments -------------------------------------------------------------------------------

  async createSegment(slot: number, bytes: number): Promise<LocalSegment> {
    if (this.closed) throw new ClosedError('transport closed');
    let mapped: MappedSegment;
    try {
      mapped = this.engine.mapSegment(slot, bytes, this.notifWords);
    } catch (error) {
      throw new ResourceLimitError(`segment ${slot}: UCX could not allocate ${bytes} bytes (${(error as Error).message}); check memory limits (ulimit -l, /dev/shm, kernel.shmmax)`);
    }
    const segment: LocalSegment = { id: slot, bytes, data: mapped.data, notifications: mapped.notifications };
    this.local.set(slot, segment);
    this.localWords.set(slot, new Int32Array(mapped.notifications));
    this.shared.setRemoteBytes(this.rank, slot, bytes);
    const header = new DataView(new ArrayBuffer(36));
    header.setUint32(0, slot, true);
    header.setFloat64(4, bytes, true);
    header.setFloat64(12, mapped.notifOffset, true);
    header.setUint32(20, this.notifWords, true);
    header.setBigUint64(24, mapped.address, true);
    const message = new Uint8Array(36 + mapped.rkey.length);
    message.set(new Uint8Array(header.buffer), 0);
    message.set(mapped.rkey, 36);
    await this.announce(Control.SEGMENT, message, 32);
    return segment;
  }

  async deleteSegment(slot: number): Promise<void> {
    if (!this.local.delete(slot)) throw new UnknownSegmentError(`segment ${slot} does not exist`);
    this.localWords.delete(slot);
    this.seenCounters.delete(slot);
    this.shared.setRemoteBytes(this.rank, slot, 0);
    const message = new Uint8Array(8);
    new DataView(message.buffer).setUint32(0, slot, true);
    // Every live peer drops its rkey and acknowledges after its earlier operations on this segment;
    // only then does the memory leave the engine's table (it is unmapped when JavaScript lets go too).
    await this.announce(Control.UNSEGMENT, message, 4);
    this.engine.unmapSegment(slot);
  }

  localSegment(slot: number): LocalSegment | undefined {
    return this.local.get(slot);
  }

  /** Send `message` (with a sequence number at `seqOffset`) to every live peer; resolve when all acked or died. */
  private announce(kind: Control, message: Uint8Array, seqOffset: number): Promise<void> {
    const seq = this.nextSeq++;
    new DataView(message.buffer, message.byteOffset).setUint32(seqOffset, seq, true);
    const ranks = new Set<number>();
    for (let r = 0; r < this.size; r++) {
      if (r !== this.rank && this.shared.alive(r) && this.engine.send(r, kind, message)) ranks.add(r);
    }
    if (ranks.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(seq, { ranks, resolve }));
  }

  private acknowledged(seq: number, from: number): void {
    const waiting = this.waiting.get(seq);
    if (!waiting) return;
    waiting.ranks.delete(from);
    if (waiting.ranks.size === 0) {
      this.waiting.delete(seq);
      // Resolve from the check phase, not from inside the wake-up callback: libuv times a timer that
      // the continuation starts (a waitNotify timeout) from the loop time of the current poll pass,
      // and everything this callback runs would make that timer fire early by as much.
      setImmediate(waiting.resolve);
    }
  }

  // ---- one-sided ------------------------------------------------------------------------------

  post(
    op: Op, queue: number, localSlot: number, localOffset: number, rank: number, remoteSlot: number,
    remoteOffset: number, length: number, notificationId: number, notificationValue: number,
  ): void {
    if (this.closed) {
      this.shared.complete(queue, WireStatus.CLOSED, rank);
      return;
    }
    this.attention[0] = 0;
    const local = op === Op.NOTIFY ? NO_SLOT : localSlot;
    this.push(op | (queue << 8), rank, local | (remoteSlot << 16), localOffset, remoteOffset, length, notificationId, notificationValue | 0);
  }

  private push(w0: number, w1: number, w2: number, w3: number, w4: number, w5: number, w6: number, w7: number): void {
    if (this.overflow.length > 0 || ((this.tail - Atomics.load(this.ctl, CTL_HEAD)) | 0) >= this.ringEntries) {
      // Only with configurations whose outstanding operations exceed MAX_RING_ENTRIES.
      this.overflow.push([w0, w1, w2, w3, w4, w5, w6, w7]);
      this.scheduleOverflow();
      return;
    }
    this.write(w0, w1, w2, w3, w4, w5, w6, w7);
    // Dekker with the progress thread: it announces sleep, then re-reads TAIL; we publish TAIL, then
    // read STATE. One of the two sees the other.
    if (Atomics.load(this.ctl, CTL_STATE) === 1) this.kick();
  }

  private write(w0: number, w1: number, w2: number, w3: number, w4: number, w5: number, w6: number, w7: number): void {
    const tail = this.tail;
    const base = (tail & this.ringMask) * ENTRY_WORDS;
    const ring = this.ring;
    ring[base] = w0;
    ring[base + 1] = w1;
    ring[base + 2] = w2;
    ring[base + 3] = w3;
    ring[base + 4] = w4;
    ring[base + 5] = w5;
    ring[base + 6] = w6;
    ring[base + 7] = w7;
    this.tail = (tail + 1) | 0;
    Atomics.store(this.ctl, CTL_TAIL, this.tail);
  }

  /**
   * The progress thread sleeps: run what the ring holds right here when it is small (inline), else
   * wake the thread. Once the thread is woken (something was left outstanding or too large), STATE is 0
   * and later posts need no native call at all until it sleeps again; while everything completes
   * inline, each post costs one native call, far less than waking a thread.
   */
  private kick(): void {
    const produced = this.engine.kick(true);
    if (produced === 0) return;
    // Events (control messages, failures) and atomics need the full pass; plain completions only need
    // their queue waiters woken, done here at once: no second native call (take) on the latency path.
    // Notification counters need nothing here: peers' writes are found by the engine's prepare hook.
    if ((produced & INLINE_EVENTS) !== 0 || this.atomicsInFlight > 0) this.queueWake();
    else this.notifyQueues();
  }

  private scheduleOverflow(): void {
    if (this.overflowScheduled) return;
    this.overflowScheduled = true;
    setImmediate(() => {
      this.overflowScheduled = false;
      if (this.closed) return;
      while (this.overflow.length > 0 && ((this.tail - Atomics.load(this.ctl, CTL_HEAD)) | 0) < this.ringEntries) {
        const e = this.overflow.shift()!;
        this.write(e[0]!, e[1]!, e[2]!, e[3]!, e[4]!, e[5]!, e[6]!, e[7]!);
      }
      if (Atomics.load(this.ctl, CTL_STATE) === 1) this.kick();
      if (this.overflow.length > 0) this.scheduleOverflow();
    });
  }

  atomic(op: Op, rank: number, slot: number, offset: number, a: bigint, b: bigint): Promise<bigint> {
    if (this.closed) return Promise.reject(new ClosedError('transport closed'));
    if (!this.shared.alive(rank)) return Promise.reject(new PeerDeadError(rank, `rank ${rank} is dead`));
    return new Promise<bigint>((resolve, reject) => {
      const start = (): void => {
        const index = this.atomicFree.pop()!;
        const words = index * (ATOMIC_SLOT_BYTES / 8);
        this.atomicWords[words] = a;
        this.atomicWords[words + 1] = b;
        this.atomicWords[words + 2] = 0n;
        Atomics.store(this.atomicFlags, index * (ATOMIC_SLOT_BYTES / 4) + 7, 0);
        this.atomicPending[index] = { resolve, reject, rank };
        this.atomicsInFlight++;
        this.push(op, rank, NO_SLOT | (slot << 16), 0, offset, 8, index, 0);
      };
      if (this.atomicFree.length > 0) start();
      else this.atomicBacklog.push({ start, reject });
    });
  }

  // ---- events from the engine -----------------------------------------------------------------

  /** Events produced inline by kick(): handled once the current synchronous code yields. */
  private queueWake(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    queueMicrotask(() => {
      this.wakeQueued = false;
      this.onWake();
    });
  }

  /** On the JavaScript thread: control messages, notification wake-ups, completions, atomics. */
  private onWake(): void {
    this.attention[0] = 0;
    let events = this.engine.take();
    if (!this.connected) {
      this.early.push(...events);
      return;
    }
    if (this.early.length > 0) events = this.early.splice(0).concat(events);
    for (let i = 0; i < events.length; i += 4) {
      const from = events[i] as number;
      const id = events[i + 1] as number;
      const arg = events[i + 2] as number;
      const data = events[i + 3] as Buffer | null;
      if (id === AM_WAKE) {
        // nothing to do here: every changed counter is notified below
      } else if (id === EV_PEER_FAILED) {
        // UCX lost the connection (tcp, and on InfiniBand); the heartbeat would say the same a little
        // later. A peer that already said it is closing left on purpose.
        if (!this.closingPeers.has(from) && this.shared.alive(from)) {
          this.log(`pgas ucx rank ${this.rank}: UCX lost the connection to rank ${from} (status ${-arg}); declaring it dead`);
          this.peerDead(from);
        }
      } else if (id === AM_CONTROL) {
        try {
          this.control(from, arg, data ?? Buffer.alloc(0));
        } catch (error) {
          this.log(`pgas ucx rank ${this.rank}: dropped a malformed control message from rank ${from}: ${(error as Error).message}`);
        }
      }
    }
    this.notifyQueues();
    this.notifyCounters();
    this.settleAtomics();
  }

  /** Wake the waitNotify sleepers of every segment whose change counter moved (peers wrote it by RMA). */
  private notifyCounters(): void {
    for (const [slot, words] of this.localWords) {
      const counter = Atomics.load(words, words.length - 1);
      if (counter !== this.seenCounters.get(slot)) {
        this.seenCounters.set(slot, counter);
        Atomics.notify(words, words.length - 1);
      }
    }
  }

  private notifyQueues(): void {
    const words = this.shared.queues;
    for (let q = 0; q < this.shared.queueCount; q++) {
      const completed = Atomics.load(words, q * QUEUE_WORDS + Q_COMPLETED);
      if (completed !== this.lastCompleted[q]) {
        this.lastCompleted[q] = completed;
        Atomics.notify(words, q * QUEUE_WORDS + Q_COMPLETED);
      }
    }
  }

  private settleAtomics(): void {
    const flags = this.atomicFlags;
    for (let index = 0; index < ATOMIC_SLOTS && this.atomicsInFlight > 0; index++) {
      const pending = this.atomicPending[index];
      if (!pending || Atomics.load(flags, index * (ATOMIC_SLOT_BYTES / 4) + 7) !== 1) continue;
      const status = Atomics.load(flags, index * (ATOMIC_SLOT_BYTES / 4) + 6);
      const result = this.atomicWords[index * (ATOMIC_SLOT_BYTES / 8) + 2]!;
      this.atomicPending[index] = undefined;
      this.atomicsInFlight--;
      // A slot whose operation was abandoned (dead peer) may still be written by a late reply: retire it.
      if (status !== WireStatus.PEER_DEAD) this.atomicFree.push(index);
      if (status === WireStatus.OK) pending.resolve(result);
      else pending.reject(errorFromStatus(status, pending.rank, `atomic on rank ${pending.rank}`));
    }
    while (this.atomicFree.length > 0 && this.atomicBacklog.length > 0) this.atomicBacklog.shift()!.start();
  }

  private control(from: number, kind: number, data: Buffer): void {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    switch (kind) {
      case Control.SEGMENT: {
        if (data.byteLength < 36) throw new Error('short segment announcement');
        const slot = view.getUint32(0, true);
        const bytes = view.getFloat64(4, true);
        const notifOffset = view.getFloat64(12, true);
        const words = view.getUint32(20, true);
        const seq = view.getUint32(32, true);
        if (slot >= this.shared.slots || !Number.isInteger(bytes) || bytes <= 0 || bytes > this.config.maxSegmentBytes) {
          throw new Error(`segment ${slot} of ${bytes} bytes is outside this job's limits`);
        }
        this.engine.addRemote(from, slot, bytes, notifOffset, words, view.getBigUint64(24, true), data.subarray(36));
        this.shared.setRemoteBytes(from, slot, bytes);
        this.reply(from, Control.SEGMENT_ACK, seq);
        break;
      }
      case Control.UNSEGMENT: {
        const slot = view.getUint32(0, true);
        if (slot >= this.shared.slots) throw new Error(`segment slot ${slot} out of range`);
        this.shared.setRemoteBytes(from, slot, 0);
        this.engine.removeRemote(from, slot);
        this.reply(from, Control.UNSEGMENT_ACK, view.getUint32(4, true));
        break;
      }
      case Control.SEGMENT_ACK:
      case Control.UNSEGMENT_ACK:
        this.acknowledged(view.getUint32(0, true), from);
        break;
      case Control.ATTENTION:
        if (data.byteLength < 9) throw new Error('short attention message');
        this.engine.addAttention(from, view.getBigUint64(0, true), data.subarray(8));
        break;
      case Control.CLOSING:
        this.closingPeers.add(from);
        this.closingWaiter?.();
        break;
      case Control.PASSIVE:
        this.inbox.deliver({ rank: from, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
        break;
      default:
        throw new Error(`unknown control kind ${kind}`);
    }
  }

  private reply(to: number, kind: Control, seq: number): void {
    const message = new Uint8Array(4);
    new DataView(message.buffer).setUint32(0, seq, true);
    this.engine.send(to, kind, message);
  }

  // ---- passive messages -----------------------------------------------------------------------

  async send(rank: number, data: Uint8Array): Promise<void> {
    if (this.closed) throw new ClosedError('transport closed');
    // The engine copies `data` before it returns: the caller may reuse its buffer at once.
    if (!this.shared.alive(rank) || !this.engine.send(rank, Control.PASSIVE, data)) {
      throw new PeerDeadError(rank, `rank ${rank} is dead`);
    }
  }

  receive(timeoutMs: number): Promise<PassiveMessage | undefined> {
    // Closed: hand over what already arrived, but wait for nothing more.
    return this.inbox.receive(this.closed ? 0 : timeoutMs);
  }

  // ---- health and shutdown --------------------------------------------------------------------

  /** The heartbeat declared `rank` dead: mark it, fail what is pending on it, stop waiting for it. */
  peerDead(rank: number): void {
    if (rank === this.rank || rank < 0 || rank >= this.size) return;
    this.shared.markDead(rank);
    if (this.closed) return;
    this.engine.peerDead(rank);
    for (const seq of [...this.waiting.keys()]) this.acknowledged(seq, rank);
    this.closingWaiter?.();
    this.onWake();
  }

  async close(): Promise<void> {
    if (this.closed || this.closingWaiter) return;
    // A peer may still be waiting for the confirmation of operations that this rank has already applied
    // (a target can see a notification before the origin's flush returns): tear the worker down only
    // once every live peer is closing as well, or after closeTimeoutMs.
    const everyoneClosing = (): boolean => {
      for (let r = 0; r < this.size; r++) if (r !== this.rank && this.shared.alive(r) && !this.closingPeers.has(r)) return false;
      return true;
    };
    for (let r = 0; r < this.size; r++) if (r !== this.rank && this.shared.alive(r)) this.engine.send(r, Control.CLOSING, new Uint8Array(0));
    if (!everyoneClosing()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.closeTimeoutMs);
        this.closingWaiter = () => {
          if (everyoneClosing()) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
    }
    this.closingWaiter = () => undefined;
    this.closed = true;
    // Joins the progress thread; operations still in the ring or in flight complete with CLOSED.
    this.engine.close();
    for (const e of this.overflow.splice(0)) {
      if ((e[0]! & 0xff) === Op.FETCH_ADD || (e[0]! & 0xff) === Op.COMPARE_SWAP) continue;
      this.shared.complete(e[0]! >>> 8, WireStatus.CLOSED, e[1]!);
    }
    this.onWake();
    this.inbox.releaseReceivers();
    for (const waiting of this.waiting.values()) waiting.resolve();
    this.waiting.clear();
    for (let index = 0; index < ATOMIC_SLOTS; index++) {
      const pending = this.atomicPending[index];
      if (pending) pending.reject(new ClosedError('atomic: the transport was closed'));
      this.atomicPending[index] = undefined;
    }
    this.atomicsInFlight = 0;
    for (const waiting of this.atomicBacklog.splice(0)) waiting.reject(new ClosedError('atomic: the transport was closed'));
    await this.bootstrap.close();
  }
}
