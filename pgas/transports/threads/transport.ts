import { parentPort } from 'node:worker_threads';
import type { PgasConfig } from '../../config.js';
import { ClosedError, PeerDeadError, UnknownSegmentError, WireStatus, OutOfRangeError } from '../../errors.js';
import { notificationWordCount, setNotification } from '../../notifications.js';
import { SharedState } from '../../shared-state.js';
import { IN_ATOMIC, IN_GET, IN_NOTIFY, IN_PUT, IN_PUT_NOTIFY, countIncoming } from '../../stats-layout.js';
import { PassiveInbox } from '../../passive-inbox.js';
import { Op, type LocalSegment, type PassiveMessage, type Transport } from '../../transport.js';
import type { FromHub, ThreadRankInit, ToHub } from './messages.js';

interface Mapped {
  bytes: number;
  /** where the segment starts in `data` (non-zero for a bound region of a user's buffer) */
  byteOffset: number;
  u8: Uint8Array;
  notifications: Int32Array;
  data: SharedArrayBuffer;
}

/**
 * Ranks as threads of one process. Every rank holds references to every other rank's segments, so a
 * put is one copy between shared buffers, done by the caller: the target never has to run. Segment
 * announcements travel through the hub (runThreadRanks) and are acknowledged before createSegment
 * resolves, so a peer has the buffers before its directory says the segment exists.
 */
export class ThreadsTransport implements Transport {
  readonly kind = 'threads' as const;
  readonly rank: number;
  readonly size: number;
  readonly config: PgasConfig;
  readonly shared: SharedState;
  private readonly peers: SharedState[];
  private readonly port = parentPort!;
  private readonly remote: Map<number, Mapped>[];
  private readonly local = new Map<number, LocalSegment>();
  private readonly inbox = new PassiveInbox();
  private readonly requests = new Map<number, () => void>();
  private nextRequest = 1;
  private closed = false;
  private readonly onMessage = (msg: FromHub): void => this.handle(msg);

  constructor(init: ThreadRankInit) {
    this.rank = init.rank;
    this.size = init.size;
    this.config = init.config;
    this.peers = init.states.map((s) => SharedState.attach(s));
    this.shared = this.peers[this.rank]!;
    this.remote = Array.from({ length: this.size }, () => new Map());
    this.port.on('message', this.onMessage);
  }

  private handle(msg: FromHub): void {
    switch (msg.t) {
      case 'seg':
        this.remote[msg.origin]!.set(msg.slot, {
          bytes: msg.bytes, byteOffset: msg.byteOffset ?? 0, data: msg.data, u8: new Uint8Array(msg.data, msg.byteOffset ?? 0, msg.bytes),
          notifications: new Int32Array(msg.notifications),
        });
        this.shared.setRemoteBytes(msg.origin, msg.slot, msg.bytes);
        this.toHub({ t: 'ack', req: msg.req, origin: msg.origin });
        break;
      case 'unseg':
        this.shared.setRemoteBytes(msg.origin, msg.slot, 0);
        this.remote[msg.origin]!.delete(msg.slot);
        this.toHub({ t: 'ack', req: msg.req, origin: msg.origin });
        break;
      case 'done':
        this.requests.get(msg.req)?.();
        this.requests.delete(msg.req);
        break;
      case 'msg':
        this.inbox.deliver({ rank: msg.from, data: msg.data });
        break;
    }
  }

  private toHub(msg: ToHub, transfer?: ArrayBuffer[]): void {
    this.port.postMessage(msg, transfer);
  }

  private request(build: (req: number) => ToHub): Promise<void> {
    const req = this.nextRequest++;
    return new Promise((resolve) => {
      this.requests.set(req, resolve);
      this.toHub(build(req));
    });
  }

  async createSegment(slot: number, bytes: number): Promise<LocalSegment> {
    return this.publish(slot, new SharedArrayBuffer(bytes), 0, bytes);
  }

  /** A segment over memory the program already has (a region of its SharedArrayBuffer). */
  bindSegment(slot: number, data: SharedArrayBuffer, byteOffset: number, bytes: number): Promise<LocalSegment> {
    return this.publish(slot, data, byteOffset, bytes);
  }

  private async publish(slot: number, data: SharedArrayBuffer, byteOffset: number, bytes: number): Promise<LocalSegment> {
    if (this.closed) throw new ClosedError('transport closed');
    const notifications = new SharedArrayBuffer(4 * notificationWordCount(this.config.notificationsPerSegment));
    const segment: LocalSegment = { id: slot, bytes, data, notifications, byteOffset };
    this.local.set(slot, segment);
    this.remote[this.rank]!.set(slot, { bytes, byteOffset, data, u8: new Uint8Array(data, byteOffset, bytes), notifications: new Int32Array(notifications) });
    this.shared.setRemoteBytes(this.rank, slot, bytes);
    await this.request((req) => ({ t: 'seg', req, slot, bytes, byteOffset, data, notifications }));
    return segment;
  }

  async deleteSegment(slot: number): Promise<void> {
    if (!this.local.delete(slot)) throw new UnknownSegmentError(`segment ${slot} does not exist`);
    this.remote[this.rank]!.delete(slot);
    this.shared.setRemoteBytes(this.rank, slot, 0);
    await this.request((req) => ({ t: 'unseg', req, slot }));
  }

  localSegment(slot: number): LocalSegment | undefined {
    return this.local.get(slot);
  }

  post(
    op: Op, queue: number, localSlot: number, localOffset: number, rank: number, remoteSlot: number,
    remoteOffset: number, length: number, notificationId: number, notificationValue: number,
  ): void {
    this.shared.complete(queue, this.apply(op, localSlot, localOffset, rank, remoteSlot, remoteOffset, length, notificationId, notificationValue), rank);
  }

  /** Apply one op now; the target's checks are repeated here (the caller's could be stale). */
  private apply(
    op: Op, localSlot: number, localOffset: number, rank: number, remoteSlot: number,
    remoteOffset: number, length: number, notificationId: number, notificationValue: number,
  ): WireStatus {
    if (this.closed) return WireStatus.CLOSED;
    if (!this.peers[this.rank]!.alive(rank)) return WireStatus.PEER_DEAD;
    const target = this.remote[rank]!.get(remoteSlot);
    if (!target) return WireStatus.UNKNOWN_SEGMENT;
    if (op !== Op.NOTIFY) {
      const source = this.remote[this.rank]!.get(localSlot);
      if (!source) return WireStatus.UNKNOWN_SEGMENT;
      if (remoteOffset + length > target.bytes || localOffset + length > source.bytes) return WireStatus.OUT_OF_RANGE;
      if (op === Op.GET) source.u8.set(target.u8.subarray(remoteOffset, remoteOffset + length), localOffset);
      else target.u8.set(source.u8.subarray(localOffset, localOffset + length), remoteOffset);
    }
    if (op === Op.NOTIFY || op === Op.PUT_NOTIFY) {
      if (notificationId >= target.notifications.length - 1) return WireStatus.OUT_OF_RANGE;
      setNotification(target.notifications, notificationId, notificationValue);
    }
    // The target's "in" counters for this rank: only this thread writes them.
    const kind = op === Op.PUT ? IN_PUT : op === Op.GET ? IN_GET : op === Op.NOTIFY ? IN_NOTIFY : IN_PUT_NOTIFY;
    countIncoming(this.peers[rank]!.stats, this.rank, remoteSlot, this.config.maxSegments, kind, op === Op.NOTIFY ? 0 : length);
    return WireStatus.OK;
  }

  async atomic(op: Op, rank: number, slot: number, offset: number, a: bigint, b: bigint): Promise<bigint> {
    if (!this.shared.alive(rank)) throw new PeerDeadError(rank, `rank ${rank} is dead`);
    const target = this.remote[rank]!.get(slot);
    if (!target) throw new UnknownSegmentError(`rank ${rank} has no segment ${slot}`);
    if (offset % 8 !== 0 || offset + 8 > target.bytes) throw new OutOfRangeError(`atomic offset ${offset} is outside segment ${slot}`);
    const word = new BigInt64Array(target.data, target.byteOffset + offset, 1);
    countIncoming(this.peers[rank]!.stats, this.rank, slot, this.config.maxSegments, IN_ATOMIC, 8);
    return op === Op.FETCH_ADD ? Atomics.add(word, 0, a) : Atomics.compareExchange(word, 0, a, b);
  }

  async send(rank: number, data: Uint8Array): Promise<void> {
    if (!this.shared.alive(rank)) throw new PeerDeadError(rank, `rank ${rank} is dead`);
    // A private copy travels (and is transferred, not cloned again): the caller may reuse `data`.
    this.toHub({ t: 'send', to: rank, data: data.slice() }, []);
  }

  receive(timeoutMs: number): Promise<PassiveMessage | undefined> {
    return this.inbox.receive(timeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.toHub({ t: 'closing' });
    this.inbox.releaseReceivers();
    // Without the listener the thread's event loop can drain and the thread ends.
    this.port.off('message', this.onMessage);
  }
}
