/**
 * Shared-memory layout between the UCX transport's TypeScript and its native engine
 * (pgas/native/ucx.cc keeps the same numbers; the addon exports some of them and native.ts checks
 * that they agree, so that a stale build fails loudly instead of corrupting memory).
 *
 * ctl (Int32, each word on its own 64-byte line so that producer and consumer do not share one):
 *   TAIL   next ring index the JavaScript thread will write (only it writes)
 *   HEAD   next ring index the engine will read (only the engine writes)
 *   STATE  0: the progress thread is running; 1: it sleeps on the worker's event fd and must be kicked
 *   WAKE   1 while a wake-up of the JavaScript thread is queued (coalesces them)
 * ring: ENTRY_WORDS Int32 per descriptor:
 *   0 op | queue << 8     1 rank     2 localSlot | remoteSlot << 16
 *   3 localOffset         4 remoteOffset         5 length
 *   6 notification id (atomics: slot)            7 notification value
 * atomics: ATOMIC_SLOT_BYTES per slot: int64 a, int64 b, int64 result, int32 status, int32 done
 */
export const CTL_TAIL = 0;
export const CTL_HEAD = 16;
export const CTL_STATE = 32;
export const CTL_WAKE = 48;
export const CTL_WORDS = 64;
export const ENTRY_WORDS = 8;
export const ATOMIC_SLOT_BYTES = 32;
/** a local slot that names no segment (NOTIFY has no source) */
export const NO_SLOT = 0xffff;

/** Bits of kick()'s result: what running the ring inline produced. */
export const INLINE_COMPLETED = 1;
export const INLINE_EVENTS = 2;

/** Active-message ids of the engine. */
export const AM_CONTROL = 1;
export const AM_WAKE = 2;
/** Not a message: the engine saw UCX fail an operation on the path to a peer (argument: -ucs_status_t). */
export const EV_PEER_FAILED = 3;

/** Kinds of control messages (AM_CONTROL's argument). */
export const enum Control {
  SEGMENT = 1,
  SEGMENT_ACK = 2,
  UNSEGMENT = 3,
  UNSEGMENT_ACK = 4,
  PASSIVE = 5,
  /** the sender is closing: it sends nothing more, and tears down once its peers said the same */
  CLOSING = 6,
  /** where the sender's attention word is (address, packed rkey): see Engine::BeforePoll */
  ATTENTION = 7,
}

/** Ring entries: enough for every operation that may be outstanding at once, so that post never waits. */
export function ringEntriesFor(maxOutstanding: number): number {
  let n = 1024;
  while (n < maxOutstanding && n < MAX_RING_ENTRIES) n *= 2;
  return n;
}
/** 32 MiB of descriptors; configurations beyond it spill into a JavaScript overflow list. */
export const MAX_RING_ENTRIES = 1 << 20;
