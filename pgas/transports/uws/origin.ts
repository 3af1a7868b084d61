/**
 * The origin side of the uws transport (in the communication worker): turns posted operations into
 * request frames on the links to peers, and the peers' answers into completions, in request order.
 * Puts and gets larger than CHUNK_BYTES travel as several frames; only the last one's answer completes
 * the operation (with the first failure of any of its frames).
 */
import { WireStatus } from '../../errors.js';
import type { SharedState } from '../../shared-state.js';
import { DecodedFrame, FrameEncoder, FrameOp, decodeFrame } from '../../wire/index.js';
import { BufferPool, POOL_MIN_BYTES } from './buffers.js';
import { CHUNK_BYTES } from './layout.js';
import { LINK_OPEN, type PeerLink } from './links.js';
import { FINAL, K_ATOMIC, K_GET, K_PUT, K_TYPE } from './pending.js';
import type { SegmentTable } from './segments.js';
import { opName } from './target.js';

export interface OriginEvents {
  /** an atomic() request finished */
  atomicDone(req: number, status: number, value: bigint): void;
  /** the peer broke the protocol: the link must be dropped and the peer treated as dead */
  broken(link: PeerLink, reason: string): void;
}

export class Origin {
  private readonly frame = new DecodedFrame();
  /** links corked during the current batch of posts */
  private readonly corked: PeerLink[] = [];
  /** large frames are pooled: returned once the socket wrote them */
  private readonly pool = new BufferPool();
  private readonly encoder = new FrameEncoder(this.pool.take);

  constructor(
    private readonly shared: SharedState,
    private readonly segments: SegmentTable,
    private readonly events: OriginEvents,
  ) {}

  /** PUT, PUT_NOTIFY, NOTIFY or GET to an open link. */
  post(
    link: PeerLink, op: number, queue: number, localSlot: number, localOffset: number,
    remoteSlot: number, remoteOffset: number, length: number, notificationId: number, notificationValue: number,
  ): void {
    if (op === FrameOp.Notify) {
      const seq = link.sequence();
      link.pending.push(seq, K_PUT | FINAL, queue, 0, 0, 0, 0);
      this.send(link, this.encoder.request(FrameOp.Notify, seq, queue, remoteSlot, 0, 0, notificationId, notificationValue, null, 0, 0));
      return;
    }
    // The context checked the local range; the segment may have been deleted since.
    const local = this.segments.u8[localSlot];
    if (local === undefined) return this.shared.complete(queue, WireStatus.UNKNOWN_SEGMENT, link.rank);
    if (localOffset < 0 || length < 0 || localOffset + length > local.byteLength) {
      return this.shared.complete(queue, WireStatus.OUT_OF_RANGE, link.rank);
    }
    const isGet = op === FrameOp.Get;
    const chunkOp = isGet ? FrameOp.Get : FrameOp.Put;
    const kind = isGet ? K_GET : K_PUT;
    let done = 0;
    while (length - done > CHUNK_BYTES) {
      this.chunk(link, chunkOp, kind, queue, local, localSlot, localOffset + done, remoteSlot, remoteOffset + done, CHUNK_BYTES, 0, 0);
      done += CHUNK_BYTES;
    }
    this.chunk(link, op, kind | FINAL, queue, local, localSlot, localOffset + done, remoteSlot, remoteOffset + done, length - done, notificationId, notificationValue);
  }

  private chunk(
    link: PeerLink, op: FrameOp, kind: number, queue: number, local: Uint8Array, localSlot: number, localOffset: number,
    remoteSlot: number, remoteOffset: number, length: number, notificationId: number, notificationValue: number,
  ): void {
    const seq = link.sequence();
    link.pending.push(seq, kind, queue, localSlot, localOffset, length, 0);
    const carries = op !== FrameOp.Get;
    this.send(link, this.encoder.request(
      op, seq, queue, remoteSlot, remoteOffset, length, notificationId, notificationValue,
      carries ? local : null, localOffset, carries ? length : 0,
    ));
  }

  atomic(link: PeerLink, req: number, op: number, slot: number, offset: number, a: bigint, b: bigint): void {
    const seq = link.sequence();
    link.pending.push(seq, K_ATOMIC | FINAL, 0, 0, 0, 0, req);
    this.send(link, this.encoder.atomic(op, seq, slot, offset, a, b));
  }

  message(link: PeerLink, data: Uint8Array): void {
    this.send(link, this.encoder.message(data));
  }

  /**
   * Frames of one batch of posts are written with the TCP socket corked, so that many small frames
   * leave in one write; `uncork` ends the batch.
   */
  private send(link: PeerLink, frame: Buffer): void {
    if (!link.corked && link.socket) {
      link.socket.cork();
      link.corked = true;
      this.corked.push(link);
    }
    if (frame.byteLength < POOL_MIN_BYTES) link.send(frame);
    else link.send(frame, () => this.pool.release(frame));
  }

  uncork(): void {
    for (const link of this.corked) {
      link.corked = false;
      link.socket!.uncork();
    }
    this.corked.length = 0;
  }

  /** An answer arrived on `link`. */
  answer(link: PeerLink, data: Buffer): void {
    if (link.state !== LINK_OPEN) return;
    const f = this.frame;
    const failure = decodeFrame(data, f);
    if (failure !== undefined) return this.events.broken(link, `malformed answer: ${failure}`);
    if (f.op !== FrameOp.Ack && f.op !== FrameOp.GetReply && f.op !== FrameOp.AtomicReply) {
      return this.events.broken(link, `unexpected ${opName(f.op)} frame on an outgoing connection`);
    }
    const fifo = link.pending;
    const index = fifo.indexOf(f.sequence);
    if (index < 0) return this.events.broken(link, `answer to request ${f.sequence}, which is not waiting`);
    // An answer covers every earlier request: those succeeded. (GETs and atomics always get their own
    // answer, so one covered without it is a protocol fault, reported on that operation.)
    for (let i = 0; i < index; i++) {
      const type = fifo.kind & K_TYPE;
      this.finish(link, type === K_GET || type === K_ATOMIC ? WireStatus.PROTOCOL : WireStatus.OK, 0n);
    }
    const type = fifo.kind & K_TYPE;
    let status: number;
    if (f.op === FrameOp.GetReply) {
      status = type === K_GET ? this.land(link, f, data) : WireStatus.PROTOCOL;
    } else if (f.op === FrameOp.AtomicReply) {
      status = type === K_ATOMIC ? f.status : WireStatus.PROTOCOL;
    } else {
      status = f.status;
      if (status === WireStatus.OK && (type === K_GET || type === K_ATOMIC)) status = WireStatus.PROTOCOL;
    }
    this.finish(link, status, f.result);
  }

  /** Copy a GET's data into the local segment (re-checked: it may have been deleted meanwhile). */
  private land(link: PeerLink, f: DecodedFrame, data: Buffer): number {
    const fifo = link.pending;
    const length = fifo.length;
    if (f.payloadLength !== length) return WireStatus.PROTOCOL;
    const local = this.segments.u8[fifo.slot];
    if (local === undefined) return WireStatus.UNKNOWN_SEGMENT;
    const offset = fifo.offset;
    if (offset + length > local.byteLength) return WireStatus.OUT_OF_RANGE;
    local.set(data.subarray(f.payloadOffset, f.payloadOffset + length), offset);
    return WireStatus.OK;
  }

  /** Complete the oldest waiting request of `link` with `status` and drop it. */
  private finish(link: PeerLink, status: number, value: bigint): void {
    const fifo = link.pending;
    const kind = fifo.kind;
    const type = kind & K_TYPE;
    if (type === K_PUT || type === K_GET) {
      if ((kind & FINAL) !== 0) {
        this.shared.complete(fifo.queue, link.carry !== 0 ? link.carry : status, link.rank);
        link.carry = 0;
      } else if (status !== WireStatus.OK && link.carry === 0) {
        link.carry = status;
      }
    } else if (type === K_ATOMIC) {
      this.events.atomicDone(fifo.aux, status, value);
    }
    fifo.shift();
  }

  /** The link is gone: every request still waiting on it ends with `status`. */
  failAll(link: PeerLink, status: number): void {
    while (link.pending.count > 0) this.finish(link, status, 0n);
    link.carry = 0;
  }
}
