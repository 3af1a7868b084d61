import type { PgasConfig } from './config.js';
import type { SharedState } from './shared-state.js';

export type TransportKind = 'threads' | 'uws' | 'ucx';

/** Operation codes, shared by every engine and the wire format. */
export const enum Op {
  PUT = 1,
  GET = 2,
  NOTIFY = 3,
  PUT_NOTIFY = 4,
  FETCH_ADD = 5,
  COMPARE_SWAP = 6,
}

/**
 * A segment as its owner holds it. `notifications` is an Int32Array-shaped buffer of
 * `notificationsPerSegment + 1` words: one word per notification id, then a change counter that an
 * engine bumps (and notifies) after setting any id, so that a waiter sleeps on one word.
 */
export interface LocalSegment {
  readonly id: number;
  readonly bytes: number;
  readonly data: SharedArrayBuffer;
  readonly notifications: SharedArrayBuffer;
  /** where the segment starts in `data` (0 unless it was bound over a region of a user's buffer) */
  readonly byteOffset?: number;
}

export interface PassiveMessage {
  readonly rank: number;
  readonly data: Uint8Array;
}

/**
 * What a transport gives the context. Validation, queue depth accounting, timeouts and collectives live
 * in the context (pgas/context.ts); a transport moves bytes, applies what arrives (re-checking every
 * range itself) and reports completions through `shared`.
 *
 * Contract of `post`: the context has already checked the arguments against the local segment table
 * and `shared.directory`; the transport applies the operation asynchronously and calls
 * `shared.complete(queue, status, rank)` exactly once per posted operation (status 0 on success,
 * a WireStatus otherwise), after the operation is complete: for a put, the data is in the remote
 * segment; for a get, in the local one; for putNotify, the notification is set after its data.
 * Operations of one queue to one rank are applied in posting order. Queue numbers run to
 * `shared.queueCount - 1` (the last INTERNAL_QUEUES are the context's own, for collectives); at most
 * `shared.queueCount * config.queueDepth` operations are outstanding at once. Ops with
 * `rank === this.rank` never reach a transport: the context applies them itself.
 */
export interface Transport {
  readonly kind: TransportKind;
  readonly rank: number;
  readonly size: number;
  readonly config: PgasConfig;
  readonly shared: SharedState;

  /**
   * Allocate a segment (slot may be a user id or an internal one, < shared.slots) and announce its
   * size to every live peer; resolves after every live peer has recorded it in its directory.
   */
  createSegment(slot: number, bytes: number): Promise<LocalSegment>;
  /** Remove a local segment; peers learn that it is gone; later ops on it fail at the target. */
  deleteSegment(slot: number): Promise<void>;
  /**
   * Optional: a segment over memory the program already has (`bytes` bytes of `data` from
   * `byteOffset`), announced like createSegment. A transport that cannot use such memory leaves it
   * out, and the context refuses with UnsupportedError.
   */
  bindSegment?(slot: number, data: SharedArrayBuffer, byteOffset: number, bytes: number): Promise<LocalSegment>;
  /** Optional: why bindSegment is missing, for the error message. */
  readonly bindUnsupportedReason?: string;
  localSegment(slot: number): LocalSegment | undefined;

  /** Post one one-sided op (PUT, GET, NOTIFY, PUT_NOTIFY). Never blocks. */
  post(
    op: Op,
    queue: number,
    localSlot: number,
    localOffset: number,
    rank: number,
    remoteSlot: number,
    remoteOffset: number,
    length: number,
    notificationId: number,
    notificationValue: number,
  ): void;

  /** FETCH_ADD (a = addend) or COMPARE_SWAP (a = expected, b = new) on a 64-bit word; resolves the old value. */
  atomic(op: Op, rank: number, slot: number, offset: number, a: bigint, b: bigint): Promise<bigint>;

  /** Passive (two-sided) message; resolves once handed to the network. */
  send(rank: number, data: Uint8Array): Promise<void>;
  /** Next passive message from any rank, in arrival order; `timeoutMs` 0 tests, Infinity blocks. */
  receive(timeoutMs: number): Promise<PassiveMessage | undefined>;

  /**
   * Optional, for transports whose links open on demand (uws): open the link to `rank` now (GASPI
   * connect), close it once what was sent on it is answered (disconnect), and list this rank plus the
   * ranks it holds an open link to. Without them the context keeps GASPI's bookkeeping only (threads
   * need no links; ucx opens all at start).
   */
  connect?(rank: number): Promise<void>;
  disconnect?(rank: number): Promise<void>;
  connections?(): number[];

  /** Close everything; pending operations complete with status CLOSED. */
  close(): Promise<void>;
}
