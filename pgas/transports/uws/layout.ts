/**
 * Shared memory between a uws rank's compute thread and its communication worker.
 *
 * Control words (Int32Array, CTL_WORDS):
 *   HEAD       descriptors published by the compute thread (a wrapping count)
 *   TAIL       descriptors taken by the worker (a wrapping count; informational)
 *   DOORBELL   bumped and notified to wake the worker when SLEEPING is set
 *   SLEEPING   1 while the worker waits on DOORBELL (so that a post only notifies when needed)
 *   EXIT       1: the process is exiting; close uWS now (set by the main thread's 'exit' handler)
 *   EXIT_DONE  1: the worker has closed its uWS sockets (the exit handler waits on it)
 *
 * Ring: `capacity` descriptors of ENTRY_WORDS Int32 each, one per posted op, in posting order. The
 * context never has more than queueCount * queueDepth operations outstanding, and a descriptor is
 * free once the worker took it, so a ring of that capacity never overflows.
 */
export const C_HEAD = 0;
export const C_TAIL = 1;
export const C_DOORBELL = 2;
export const C_SLEEPING = 3;
export const C_EXIT = 4;
export const C_EXIT_DONE = 5;
export const CTL_WORDS = 8;

export const E_OP = 0;
export const E_QUEUE = 1;
export const E_LOCAL_SLOT = 2;
export const E_LOCAL_OFFSET = 3;
export const E_RANK = 4;
export const E_REMOTE_SLOT = 5;
export const E_REMOTE_OFFSET = 6;
export const E_LENGTH = 7;
export const E_NOTIFICATION_ID = 8;
export const E_NOTIFICATION_VALUE = 9;
export const ENTRY_WORDS = 10;

/** How long the exit handler waits for the worker to close uWS (then the process exits regardless). */
export const EXIT_WAIT_MS = 2000;

/**
 * The largest payload of one frame: bigger puts and gets travel as several frames of this size (a
 * little under 16 MiB, so that a chunk and its header stay within 16 MiB).
 */
export const CHUNK_BYTES = (16 << 20) - 4096;

/** Close code a rank's connections end with when it closes cleanly (so that peers do not see a death). */
export const CLOSE_LEAVING = 4000;
/** Close code of a link closed by disconnect(rank): neither a death nor the end of the rank. */
export const CLOSE_DISCONNECT = 4001;
/** Close code for a connection that broke the protocol. */
export const CLOSE_PROTOCOL = 4002;

/** Close code for a connection that did not prove the job token (pgas/auth). */
export const CLOSE_AUTH = 4003;
