/**
 * What job control needs from a started rank, whether it runs here (a child process) or on another
 * host (an ssh client whose remote side is the remote shim). Keeping one shape lets job.ts treat local
 * and remote ranks alike.
 */
import type { Readable } from 'node:stream';

export interface RankExit {
  /** exit status, or null when the rank was ended by a signal */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** why the rank could not run at all (spawn failure, ssh connection failure) */
  error?: string;
}

export interface RankProcess {
  /** the rank number, or undefined for one process that holds every rank (threads transport) */
  readonly rank: number | undefined;
  /** output prefix: "3" for rank 3, "0-7" for a threads process */
  readonly label: string;
  /** where it runs, for the summary */
  readonly host: string;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** resolves once, when the rank has ended and its exit is known */
  readonly exit: Promise<RankExit>;
  /** ask the rank to stop (SIGTERM, or closing the remote shim's stdin) */
  terminate(): void;
  /** stop it now (SIGKILL) */
  kill(): void;
  /** after the rank has exited: SIGKILL whatever it left running in its process group */
  reapLeftovers(): void;
}

export function describeExit(e: RankExit): string {
  if (e.error !== undefined) return e.error;
  if (e.signal !== null) return `killed by ${e.signal}`;
  return `exited with code ${e.code}`;
}

export function exitFailed(e: RankExit): boolean {
  return e.error !== undefined || e.signal !== null || e.code !== 0;
}
