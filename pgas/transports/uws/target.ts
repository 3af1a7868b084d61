/**
 * The target side of the uws transport: checks every incoming request frame completely and only then
 * applies it to this rank's segments. A frame is never partially applied: all its fields are
 * validated before the first byte is written.
 */
import type { PgasConfig } from '../../config.js';
import { WireStatus } from '../../errors.js';
import { setNotification } from '../../notifications.js';
import type { SharedState } from '../../shared-state.js';
import { IN_ATOMIC, IN_GET, IN_NOTIFY, IN_PUT, IN_PUT_NOTIFY, countIncoming } from '../../stats-layout.js';
import { DecodedFrame, FrameEncoder, FrameOp, decodeFrame } from '../../wire/index.js';
import type { SegmentTable } from './segments.js';

/** What the server does after `Target.handle` (a value >= 0 is the status to acknowledge). */
export const REPLIED = -1; // `reply` holds the answer to send now
export const CLOSE = -2; // protocol violation: close the connection (`reason` says why)
export const NO_REPLY = -3; // nothing to answer (a passive message)

export class Target {
  /** the answer to a GET or an atomic, valid after handle() returned REPLIED */
  reply: Buffer | undefined;
  /** why handle() returned CLOSE */
  reason = '';
  /** the sequence of the frame just handled (0: none) */
  sequence = 0;
  private readonly frame = new DecodedFrame();

  constructor(
    private readonly segments: SegmentTable,
    private readonly shared: SharedState,
    private readonly config: PgasConfig,
    private readonly encoder: FrameEncoder,
    private readonly deliver: (from: number, data: Uint8Array) => void,
  ) {}

  /** Handle one message from rank `from` (the rank its connection authenticated as). */
  handle(message: Uint8Array, from: number): number {
    const f = this.frame;
    this.reply = undefined;
    this.sequence = 0;
    const failure = decodeFrame(message, f);
    if (failure !== undefined) return this.close(failure);
    this.sequence = f.sequence;
    const status = this.apply(f, message, from);
    // A failed request is answered only if the sender can match the answer to a request.
    if (status > 0 && f.sequence === 0) return this.close(`rejected ${opName(f.op)} (status ${status}) without a sequence number`);
    return status;
  }

  private apply(f: DecodedFrame, message: Uint8Array, from: number): number {
    switch (f.op) {
      case FrameOp.Put:
      case FrameOp.PutNotify:
      case FrameOp.Get:
      case FrameOp.Notify:
        return this.oneSided(f, message, from);
      case FrameOp.FetchAdd:
      case FrameOp.CompareSwap:
        return this.atomic(f, from);
      case FrameOp.Message:
        if (f.payloadLength > this.config.maxPassiveBytes) {
          return this.close(`passive message of ${f.payloadLength} bytes exceeds maxPassiveBytes (${this.config.maxPassiveBytes})`);
        }
        this.deliver(from, message.slice(f.payloadOffset));
        return NO_REPLY;
      case FrameOp.Segment:
        if (!Number.isInteger(f.segment) || f.segment < 0 || f.segment >= this.shared.slots) return WireStatus.INVALID;
        if (f.length < 0 || f.length > this.config.maxSegmentBytes || f.payloadLength !== 0) return WireStatus.INVALID;
        this.shared.setRemoteBytes(from, f.segment, f.length);
        return WireStatus.OK;
      default:
        return WireStatus.PROTOCOL;
    }
  }

  private oneSided(f: DecodedFrame, message: Uint8Array, from: number): number {
    const seg = f.segment;
    if (!this.segments.has(seg)) return WireStatus.UNKNOWN_SEGMENT;
    const bytes = this.segments.bytes[seg]!;
    const op = f.op;
    const offset = f.offset;
    const length = f.length;
    if (op !== FrameOp.Notify) {
      if (offset < 0 || length < 0 || offset + length > bytes) return WireStatus.OUT_OF_RANGE;
    }
    const carries = op === FrameOp.Put || op === FrameOp.PutNotify;
    if (f.payloadLength !== (carries ? length : 0)) return WireStatus.PROTOCOL;
    const notifies = op === FrameOp.Notify || op === FrameOp.PutNotify;
    if (notifies) {
      if (f.notificationId < 0 || f.notificationId >= this.config.notificationsPerSegment) return WireStatus.OUT_OF_RANGE;
      if (f.notificationValue === 0) return WireStatus.INVALID;
    }
    // Everything is checked: apply.
    if (carries && length > 0) this.segments.u8[seg]!.set(message.subarray(f.payloadOffset, f.payloadOffset + length), offset);
    if (notifies) setNotification(this.segments.notifications[seg]!, f.notificationId, f.notificationValue);
    const kind = op === FrameOp.Put ? IN_PUT : op === FrameOp.Get ? IN_GET : op === FrameOp.Notify ? IN_NOTIFY : IN_PUT_NOTIFY;
    countIncoming(this.shared.stats, from, seg, this.config.maxSegments, kind, op === FrameOp.Notify ? 0 : length);
    if (op === FrameOp.Get) {
      this.reply = this.encoder.getReply(f.sequence, this.segments.u8[seg]!, offset, length);
      return REPLIED;
    }
    return WireStatus.OK;
  }

  private atomic(f: DecodedFrame, from: number): number {
    const seg = f.segment;
    let status: number = WireStatus.OK;
    let old = 0n;
    if (!this.segments.has(seg)) status = WireStatus.UNKNOWN_SEGMENT;
    else if (f.offset < 0 || f.offset % 8 !== 0 || f.offset + 8 > this.segments.bytes[seg]!) status = WireStatus.OUT_OF_RANGE;
    else if (f.payloadLength !== 0) status = WireStatus.PROTOCOL;
    else {
      const words = this.segments.words[seg]!;
      const index = f.offset / 8;
      old = f.op === FrameOp.FetchAdd
        ? Atomics.add(words, index, f.operandA)
        : Atomics.compareExchange(words, index, f.operandA, f.operandB);
      countIncoming(this.shared.stats, from, seg, this.config.maxSegments, IN_ATOMIC, 8);
    }
    if (status !== WireStatus.OK && f.sequence === 0) return status;
    this.reply = this.encoder.atomicReply(f.sequence, status, old);
    return REPLIED;
  }

  private close(reason: string): number {
    this.reason = reason;
    return CLOSE;
  }
}

export function opName(op: number): string {
  return FrameOp[op] ?? `op ${op}`;
}
