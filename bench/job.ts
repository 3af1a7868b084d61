/**
 * Starting a benchmark job the way a launcher would, by the environment contract of pgas/env.ts: one
 * process per rank for `uws` and `ucx`, one process hosting all rank threads for `threads`. Ranks report by
 * printing tagged lines (`<TAG> <json>`) on stdout; the job's other output is kept for error reports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from '../runtime/launcher/free-port.js';
// Still exported from here, where it was defined before, for callers that import it with the job helpers.
export { freePort };

export type BenchTransport = 'threads' | 'uws' | 'ucx';

export interface RankJobOptions {
  transport: BenchTransport;
  size: number;
  /** absolute path of the compiled rank program */
  entry: string;
  args?: string[];
  env?: Record<string, string>;
  /** everything is killed after this long (default 120 s) */
  timeoutMs?: number;
}

export interface RankJobResult {
  /** exit code per process (threads: one process) */
  codes: (number | null)[];
  signals: (NodeJS.Signals | null)[];
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Children still running: killed if the benchmark process leaves early (Ctrl-C, an error). */
const live = new Set<ChildProcess>();
let hooked = false;
function track(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        for (const c of live) c.kill('SIGKILL');
        process.exit(130);
      });
    }
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Spawn a Node program with the same Node binary; its stdout/stderr are piped. */
export function spawnNode(entry: string, args: string[], env: NodeJS.ProcessEnv, stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const child = spawn(process.execPath, [entry, ...args], { env, stdio: [stdin, 'pipe', 'pipe'] });
  track(child);
  return child;
}

/**
 * Run a job to its end. Resolves when every process has exited (or was killed at the timeout); never
 * rejects for a failing rank: the caller reads `codes` and `stderr`.
 */
export async function runRankJob(options: RankJobOptions): Promise<RankJobResult> {
  const port = await freePort();
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    PGAS_TRANSPORT: options.transport,
    PGAS_SIZE: String(options.size),
    PGAS_RENDEZVOUS: `127.0.0.1:${port}`,
    PGAS_TOKEN: randomBytes(16).toString('hex'),
    PGAS_STARTUP_TIMEOUT_MS: '30000',
    ...options.env,
  };
  delete base.PGAS_TOKEN_STDIN;
  const perProcess = options.transport === 'threads' ? [undefined] : Array.from({ length: options.size }, (_, r) => r);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const children = perProcess.map((rank) => {
    const env = { ...base };
    if (rank === undefined) delete env.PGAS_RANK;
    else env.PGAS_RANK = String(rank);
    const child = spawnNode(options.entry, options.args ?? [], env);
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return child;
  });
  const timeoutMs = options.timeoutMs ?? 120_000;
  const timer = setTimeout(() => {
    timedOut = true;
    stderr += `\n[bench] job timed out after ${timeoutMs} ms; killing it\n`;
    for (const child of children) child.kill('SIGKILL');
  }, timeoutMs);
  const exits = await Promise.all(
    children.map((child) => new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.once('exit', (code, signal) => resolve([code, signal]));
    })),
  );
  clearTimeout(timer);
  return { codes: exits.map((e) => e[0]), signals: exits.map((e) => e[1]), stdout, stderr, timedOut };
}

/** The JSON payloads of the stdout lines `<tag> <json>`, in order. */
export function taggedLines<T>(stdout: string, tag: string): T[] {
  const out: T[] = [];
  const prefix = `${tag} `;
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (line.startsWith(prefix)) out.push(JSON.parse(line.slice(prefix.length)) as T);
  }
  return out;
}
