import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../runtime/launcher/free-port.js';
// Still exported from here, where it was defined before, for callers that import it with the job helpers.
export { freePort };

export type TestTransport = 'threads' | 'uws';

export interface JobResult {
  /** exit code per process (threads: one process) */
  codes: (number | null)[];
  signals: (NodeJS.Signals | null)[];
  stdout: string;
  stderr: string;
}

export interface JobOptions {
  transport: TestTransport;
  size: number;
  /** compiled fixture, relative to dist/test/fixtures */
  fixture: string;
  args?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
  token?: string;
}

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Start a job the way a launcher would, by the environment contract: one process per rank for uws,
 * one process hosting all rank threads for threads. Resolves when every process has exited; kills
 * everything after `timeoutMs`.
 */
export async function runJob(options: JobOptions): Promise<JobResult> {
  const token = options.token ?? randomBytes(16).toString('hex');
  const port = await freePort();
  const base: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PGAS_TRANSPORT: options.transport,
    PGAS_SIZE: String(options.size),
    PGAS_RENDEZVOUS: `127.0.0.1:${port}`,
    PGAS_TOKEN: token,
    PGAS_STARTUP_TIMEOUT_MS: '20000',
    ...options.env,
  };
  const perProcess = options.transport === 'threads' ? [undefined] : Array.from({ length: options.size }, (_, r) => r);
  let stdout = '';
  let stderr = '';
  const children = perProcess.map((rank) => {
    const env = { ...base };
    if (rank === undefined) delete env.PGAS_RANK;
    else env.PGAS_RANK = String(rank);
    const child = spawn(process.execPath, [fixturePath(options.fixture), ...(options.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return child;
  });
  const timer = setTimeout(() => {
    stderr += `\n[test] job timed out after ${options.timeoutMs ?? 60000} ms; killing it\n`;
    for (const child of children) child.kill('SIGKILL');
  }, options.timeoutMs ?? 60000);
  const exits = await Promise.all(
    children.map((child) => new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, signal) => {
      live.delete(child);
      resolve([code, signal]);
    }))),
  );
  clearTimeout(timer);
  return { codes: exits.map((e) => e[0]), signals: exits.map((e) => e[1]), stdout, stderr };
}

/** Lines `PASS <name> <rank>` printed by fixtures, one per rank that passed. */
export function passedRanks(result: JobResult, name: string): number[] {
  const ranks: number[] = [];
  for (const line of result.stdout.split('\n')) {
    const m = /^PASS (\S+) (\d+)$/.exec(line.trim());
    if (m && m[1] === name) ranks.push(Number(m[2]));
  }
  return ranks.sort((a, b) => a - b);
}
