/**
 * Typed errors of the PGAS runtime. Every error has a stable `code` that programs may switch on;
 * messages say what was wrong and what to do. `retryable` marks results (timeouts, full queues) after
 * which the same call may simply be made again.
 */
export type PgasErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_UNKNOWN_SEGMENT'
  | 'ERR_SEGMENT_EXISTS'
  | 'ERR_RESOURCE_LIMIT'
  | 'ERR_QUEUE_FULL'
  | 'ERR_TIMEOUT'
  | 'ERR_PEER_DEAD'
  | 'ERR_BAD_TOKEN'
  | 'ERR_PROTOCOL'
  | 'ERR_CONFIG'
  | 'ERR_CLOSED'
  | 'ERR_RENDEZVOUS'
  | 'ERR_REMOTE'
  | 'ERR_UNSUPPORTED';

export class PgasError extends Error {
  readonly code: PgasErrorCode;
  readonly retryable: boolean;
  constructor(code: PgasErrorCode, message: string, retryable = false) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
  }
}

export class InvalidArgumentError extends PgasError {
  constructor(message: string) { super('ERR_INVALID_ARGUMENT', message); }
}
export class OutOfRangeError extends PgasError {
  constructor(message: string) { super('ERR_OUT_OF_RANGE', message); }
}
export class UnknownSegmentError extends PgasError {
  constructor(message: string) { super('ERR_UNKNOWN_SEGMENT', message); }
}
export class SegmentExistsError extends PgasError {
  constructor(message: string) { super('ERR_SEGMENT_EXISTS', message); }
}
export class ResourceLimitError extends PgasError {
  constructor(message: string) { super('ERR_RESOURCE_LIMIT', message); }
}
export class QueueFullError extends PgasError {
  constructor(message: string) { super('ERR_QUEUE_FULL', message, true); }
}
/** A blocking call ran out of time. Nothing is lost: the same call may be made again. */
export class TimeoutError extends PgasError {
  constructor(message: string) { super('ERR_TIMEOUT', message, true); }
}
/**
 * A TimeoutError without a stack trace, for zero-timeout polls (GASPI_TEST): there a miss is the normal
 * answer, and capturing a stack would cost more than the poll itself.
 */
export function pollMiss(message: string): TimeoutError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new TimeoutError(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
export class PeerDeadError extends PgasError {
  readonly peer: number;
  constructor(peer: number, message: string) { super('ERR_PEER_DEAD', message); this.peer = peer; }
}
export class BadTokenError extends PgasError {
  constructor(message: string) { super('ERR_BAD_TOKEN', message); }
}
export class ProtocolError extends PgasError {
  constructor(message: string) { super('ERR_PROTOCOL', message); }
}
export class ConfigError extends PgasError {
  constructor(message: string) { super('ERR_CONFIG', message); }
}
export class ClosedError extends PgasError {
  constructor(message: string) { super('ERR_CLOSED', message); }
}
export class RendezvousError extends PgasError {
  constructor(message: string) { super('ERR_RENDEZVOUS', message); }
}
/** A target rejected an operation (it re-checks everything it receives). */
export class RemoteError extends PgasError {
  constructor(message: string) { super('ERR_REMOTE', message); }
}

/** The call exists, but this transport cannot do it (the message says why and what to use instead). */
export class UnsupportedError extends PgasError {
  constructor(message: string) { super('ERR_UNSUPPORTED', message); }
}

/**
 * Failures that an engine reports through shared memory (a queue's error words) are numbered; the
 * compute thread turns the number back into a typed error.
 */
export const enum WireStatus {
  OK = 0,
  OUT_OF_RANGE = 1,
  UNKNOWN_SEGMENT = 2,
  PEER_DEAD = 3,
  PROTOCOL = 4,
  CLOSED = 5,
  INVALID = 6,
}

export function errorFromStatus(status: number, peer: number, what: string): PgasError {
  switch (status) {
    case WireStatus.OUT_OF_RANGE:
      return new OutOfRangeError(`${what}: rank ${peer} rejected the range (outside the segment)`);
    case WireStatus.UNKNOWN_SEGMENT:
      return new UnknownSegmentError(`${what}: rank ${peer} has no such segment (was it deleted?)`);
    case WireStatus.PEER_DEAD:
      return new PeerDeadError(peer, `${what}: rank ${peer} is dead`);
    case WireStatus.CLOSED:
      return new ClosedError(`${what}: the context was closed before the operation completed`);
    case WireStatus.PROTOCOL:
      return new ProtocolError(`${what}: rank ${peer} answered with a malformed frame`);
    default:
      return new RemoteError(`${what}: rank ${peer} rejected the operation (status ${status})`);
  }
}
