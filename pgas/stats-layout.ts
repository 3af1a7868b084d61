/**
 * Where the statistics counters live in a rank's SharedState (its `stats` Float64Array): PEER_FIELDS
 * words per peer rank, then GLOBAL_FIELDS words for the rank as a whole.
 *
 * Every word has exactly one writer, so plain stores suffice (no lost increments): the "out" words and
 * the global words are written by the rank's compute thread (the context); the "in" words of peer p
 * are written by whoever applies p's operations here — p's own thread on the threads transport, the
 * communication worker on uws, this rank's compute thread for operations on itself. A reader sees them
 * up to date after any synchronisation with the writer (a wait, a notification, a barrier).
 */
export const PEER_FIELDS = 20;
export const GLOBAL_FIELDS = 8;

// per peer: what this rank posted to the peer (user segments only)
export const S_PUT_OPS_OUT = 0;
export const S_PUT_BYTES_OUT = 1;
export const S_GET_OPS_OUT = 2;
export const S_GET_BYTES_OUT = 3;
export const S_NOTIFY_OPS_OUT = 4;
export const S_ATOMIC_OPS_OUT = 5;
export const S_MSG_OPS_OUT = 6;
export const S_MSG_BYTES_OUT = 7;
// per peer: what the peer did to this rank's user segments (applied here)
export const S_PUT_OPS_IN = 8;
export const S_PUT_BYTES_IN = 9;
export const S_GET_OPS_IN = 10; // gets served from this rank's memory
export const S_GET_BYTES_IN = 11;
export const S_NOTIFY_OPS_IN = 12;
export const S_ATOMIC_OPS_IN = 13;
export const S_MSG_OPS_IN = 14;
export const S_MSG_BYTES_IN = 15;
// per peer: the runtime's own traffic (collectives, ping, kill) on internal segments
export const S_INTERNAL_OPS_OUT = 16;
export const S_INTERNAL_BYTES_OUT = 17;
export const S_INTERNAL_OPS_IN = 18;
export const S_INTERNAL_BYTES_IN = 19;

// global
export const G_WAITS = 0;
export const G_WAIT_MS = 1;
export const G_NOTIFY_WAITS = 2;
export const G_NOTIFY_WAIT_MS = 3;
export const G_COLLECTIVES = 4;
export const G_COLLECTIVE_MS = 5;

export function statsWords(size: number): number {
  return size * PEER_FIELDS + GLOBAL_FIELDS;
}

/** Kinds of incoming operation a transport reports with `countIncoming`. */
export const IN_PUT = 0;
export const IN_GET = 1;
export const IN_NOTIFY = 2;
export const IN_PUT_NOTIFY = 3;
export const IN_ATOMIC = 4;

/**
 * One applied operation from rank `from` on this rank's segment `slot` (called by a transport where it
 * applies the operation; one call per op). `userSlots` is config.maxSegments: slots at or above it are
 * the runtime's internal segments and count as internal traffic.
 */
export function countIncoming(stats: Float64Array, from: number, slot: number, userSlots: number, kind: number, bytes: number): void {
  const base = from * PEER_FIELDS;
  if (slot >= userSlots) {
    stats[base + S_INTERNAL_OPS_IN]! += 1;
    stats[base + S_INTERNAL_BYTES_IN]! += bytes;
    return;
  }
  switch (kind) {
    case IN_PUT:
      stats[base + S_PUT_OPS_IN]! += 1;
      stats[base + S_PUT_BYTES_IN]! += bytes;
      break;
    case IN_PUT_NOTIFY:
      stats[base + S_PUT_OPS_IN]! += 1;
      stats[base + S_PUT_BYTES_IN]! += bytes;
      stats[base + S_NOTIFY_OPS_IN]! += 1;
      break;
    case IN_GET:
      stats[base + S_GET_OPS_IN]! += 1;
      stats[base + S_GET_BYTES_IN]! += bytes;
      break;
    case IN_NOTIFY:
      stats[base + S_NOTIFY_OPS_IN]! += 1;
      break;
    case IN_ATOMIC:
      stats[base + S_ATOMIC_OPS_IN]! += 1;
      break;
  }
}
