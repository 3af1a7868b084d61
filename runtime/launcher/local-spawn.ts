/**
 * Start a rank as a child process on this machine. The child gets its own process group (detached) so
 * that the launcher alone decides how ranks stop: a terminal's Ctrl-C reaches pgas-run, which then
 * stops every rank in order (SIGTERM, grace, SIGKILL) and can tell "interrupted" from "a rank failed".
 * Signals go to the whole group, so anything a rank started itself stops with it.
 */
import { spawn } from 'node:child_process';
import type { RankExit, RankProcess } from './rank-process.js';

export interface LocalRankSpec {
  rank: number | undefined;
  label: string;
  node: string;
  nodeArgs: string[];
  program: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** written as stdin's first line (PGAS_TOKEN_STDIN=1); undefined: stdin is just closed */
  token: string | undefined;
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

export function spawnLocalRank(spec: LocalRankSpec): RankProcess {
  const child = spawn(spec.node, [...spec.nodeArgs, spec.program, ...spec.args], {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let running = true;
  const exit = new Promise<RankExit>((resolve) => {
    child.once('error', (err) => {
      running = false;
      resolve({ code: null, signal: null, error: `could not start: ${err.message}` });
    });
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  // The token is the first line of stdin (PGAS_TOKEN_STDIN=1); then EOF. A rank that exits before
  // reading it would make the write fail with EPIPE, which is not an error of the job.
  child.stdin.on('error', () => {});
  child.stdin.end(spec.token === undefined ? undefined : `${spec.token}\n`);
  return {
    rank: spec.rank,
    label: spec.label,
    host: 'localhost',
    stdout: child.stdout,
    stderr: child.stderr,
    exit,
    terminate: () => { if (running) signalGroup(child.pid, 'SIGTERM'); },
    kill: () => { if (running) signalGroup(child.pid, 'SIGKILL'); },
    // Linux does not hand out a pid that is still some group's id, so while leftovers exist the group
    // id is theirs alone; when none are left this is ESRCH.
    reapLeftovers: () => signalGroup(child.pid, 'SIGKILL'),
  };
}
