/**
 * Errors of the launcher itself (not of a rank). Both end pgas-run with exit status 2 before or while a
 * job starts, so that scripts can tell "you called it wrong / the hosts are not usable" apart from "the
 * job ran and a rank failed" (which exits with that rank's own status).
 */
export const USAGE_EXIT = 2;

/** A flag, a hostfile, a program name or an environment variable was wrong. */
export class UsageError extends Error {
  readonly exitCode = USAGE_EXIT;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A host in the hostfile could not be used (ssh failed, node or the program missing there). */
export class HostError extends Error {
  readonly exitCode = USAGE_EXIT;
  readonly host: string;
  constructor(host: string, message: string) {
    super(message);
    this.name = 'HostError';
    this.host = host;
  }
}
