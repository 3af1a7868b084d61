/**
 * Typed errors of the ASGD numeric core. Each has a stable `code`; messages say what was wrong and
 * what to do. Configuration errors are thrown before any rank trains (validateSolverConfig can run
 * before a job is even launched).
 */
export type AsgdErrorCode =
  | 'ERR_ASGD_UNKNOWN_NAME'
  | 'ERR_ASGD_INCOMPATIBLE'
  | 'ERR_ASGD_INVALID_OPTION'
  | 'ERR_ASGD_CHECKPOINT_MISMATCH'
  | 'ERR_ASGD_CHECKPOINT_CORRUPT'
  | 'ERR_ASGD_MODEL'
  | 'ERR_ASGD_PEER_FAILED'
  | 'ERR_ASGD_RANK_LOST';

export class AsgdError extends Error {
  readonly code: AsgdErrorCode;
  constructor(code: AsgdErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A solver, optimizer, schedule or problem name that does not exist. */
export class UnknownNameError extends AsgdError {
  readonly kind: string;
  readonly value: string;
  constructor(kind: string, value: string, known: readonly string[]) {
    super('ERR_ASGD_UNKNOWN_NAME', `unknown ${kind} '${value}'; known: ${known.join(', ')}`);
    this.kind = kind;
    this.value = value;
  }
}

/** Options that each make sense alone but not together (e.g. a boosted optimizer under sync). */
export class IncompatibleOptionsError extends AsgdError {
  constructor(message: string) {
    super('ERR_ASGD_INCOMPATIBLE', message);
  }
}

/** A missing, non-finite, out-of-range or misspelt option. */
export class InvalidOptionError extends AsgdError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('ERR_ASGD_INVALID_OPTION', `${option}: ${message}`);
    this.option = option;
  }
}

/** A checkpoint written by another model shape, solver or optimizer. */
export class CheckpointMismatchError extends AsgdError {
  constructor(message: string) {
    super('ERR_ASGD_CHECKPOINT_MISMATCH', message);
  }
}

export class CheckpointCorruptError extends AsgdError {
  constructor(message: string) {
    super('ERR_ASGD_CHECKPOINT_CORRUPT', message);
  }
}

/** The model broke its contract (wrong parameter count, non-finite loss where one is required). */
export class ModelError extends AsgdError {
  constructor(message: string) {
    super('ERR_ASGD_MODEL', message);
  }
}

/** Another rank failed during set-up; this rank stops before training too. */
export class PeerFailedError extends AsgdError {
  constructor(message: string) {
    super('ERR_ASGD_PEER_FAILED', message);
  }
}

/**
 * A rank died during a run of a solver that needs every rank at every step (sync, distnewton,
 * simuparallel, paramserver). Raised as soon as the death is known, instead of waiting for the lost
 * rank's contribution forever; `lostRank` names it, `step` is this rank's step when it noticed.
 */
export class RankLostError extends AsgdError {
  readonly lostRank: number;
  readonly step: number | null;
  constructor(solver: string, lostRank: number, step: number | null, cause?: unknown) {
    super('ERR_ASGD_RANK_LOST', `solver '${solver}' lost rank ${lostRank}${step === null ? '' : ` at step ${step}`}: it needs every rank at every step and cannot go on; resume the job from its checkpoints (pgas-run --resume DIR) or train with solver 'asgd', which survives lost ranks`);
    this.lostRank = lostRank;
    this.step = step;
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}
