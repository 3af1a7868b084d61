import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled benchmark CLI (`npm run bench -- …` runs the same file). */
const BENCH_CLI = fileURLToPath(new URL('../../bench/cli.js', import.meta.url));

export interface CliRun {
  /** exit code, null when it was killed */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** the CLI's environment (default: this process's) */
  env?: NodeJS.ProcessEnv;
  /**
   * 'exit' (default) resolves when the CLI exits; 'close' also waits until its output pipes close, so
   * that nothing it printed last is missed, but it waits for any child still holding them too.
   */
  until?: 'exit' | 'close';
}

/**
 * Runs the benchmark CLI with `args` to its end and collects what it printed. After `timeoutMs` it
 * is killed (SIGKILL; code null): a hang fails the test that waits, not the whole run.
 */
export function runBenchCli(args: string[], timeoutMs = 90_000, options: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BENCH_CLI, ...args], { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once(options.until ?? 'exit', (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
