/**
 * Start ranks on other hosts with the system OpenSSH client, and probe hosts before a job starts.
 *
 * The remote command runs through the remote user's shell: `cd DIR && exec env VAR=... NODE SHIM ...`.
 * `env` (rather than shell assignments) works whatever that shell is. The token is not on it: the
 * launcher writes it as the first line of ssh's stdin and keeps stdin open for the rank's lifetime;
 * closing it is how the launcher asks the remote shim to stop the rank (see remote-shim.ts).
 */
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { HostError } from './errors.js';
import type { RankExit, RankProcess } from './rank-process.js';
import { parseShimExit, type ShimExit } from './shim-protocol.js';

export interface SshSettings {
  /** the ssh client to run (tests and unusual installations may point elsewhere) */
  command: string;
  port: number | undefined;
  identity: string | undefined;
  /** each becomes `-o OPT`; they come before our defaults, and ssh keeps the first value it sees */
  options: string[];
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function sshArgs(settings: SshSettings, target: string, remoteCommand: string): string[] {
  const args = ['-o', 'BatchMode=yes'];
  for (const o of settings.options) args.push('-o', o);
  // -T: no terminal (the rank's output stays a byte stream); -x: no X11 forwarding
  args.push('-o', 'ConnectTimeout=10', '-T', '-x');
  if (settings.port !== undefined) args.push('-p', String(settings.port));
  if (settings.identity !== undefined) args.push('-i', settings.identity);
  args.push(target, remoteCommand);
  return args;
}

export interface RemoteRankSpec {
  rank: number;
  target: string;
  ssh: SshSettings;
  cwd: string;
  node: string;
  shim: string;
  program: string;
  args: string[];
  /** the rank's variables: PGAS_* without the token, plus -x ones */
  vars: Record<string, string>;
  token: string;
  killGraceMs: number;
}

export function remoteRankCommand(spec: Omit<RemoteRankSpec, 'ssh' | 'token' | 'target' | 'rank'>): string {
  const vars = Object.entries(spec.vars).map(([k, v]) => shellQuote(`${k}=${v}`));
  return [
    'cd', shellQuote(spec.cwd), '&&', 'exec', 'env', ...vars,
    shellQuote(spec.node), shellQuote(spec.shim), '--grace', String(spec.killGraceMs), '--',
    shellQuote(spec.program), ...spec.args.map(shellQuote),
  ].join(' ');
}

/** Split a byte stream into lines; markers are taken out, everything else passes through unchanged. */
function filterMarkers(source: NodeJS.ReadableStream, out: PassThrough, onMarker: (e: ShimExit) => void, onLine: (l: string) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  source.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let start = 0;
    for (let nl = pending.indexOf(0x0a, start); nl >= 0; nl = pending.indexOf(0x0a, start)) {
      const line = pending.subarray(start, nl + 1);
      const text = line.toString('utf8', 0, line.length - 1);
      const marker = parseShimExit(text);
      if (marker) onMarker(marker);
      else {
        out.write(line);
        if (text.trim()) onLine(text);
      }
      start = nl + 1;
    }
    pending = pending.subarray(start);
  });
  source.on('end', () => {
    if (pending.length) out.write(pending);
    out.end();
  });
}

export function spawnRemoteRank(spec: RemoteRankSpec): RankProcess {
  const command = remoteRankCommand(spec);
  const child = spawn(spec.ssh.command, sshArgs(spec.ssh, spec.target, command), {
    stdio: ['pipe', 'pipe', 'pipe'],
    // own process group, so a terminal's Ctrl-C reaches only pgas-run, which stops ranks in order
    detached: true,
  });
  const stderr = new PassThrough();
  let shimExit: ShimExit | undefined;
  let lastLine = '';
  filterMarkers(child.stderr, stderr, (e) => { shimExit = e; }, (l) => { lastLine = l; });
  let running = true;
  let killedByUs = false;
  const exit = new Promise<RankExit>((resolve) => {
    child.once('error', (err) => {
      running = false;
      resolve({ code: null, signal: null, error: `could not start ${spec.ssh.command}: ${err.message}` });
    });
    // 'close' (not 'exit'): the marker is the last thing on stderr, so wait until stderr is drained
    child.once('close', (code, signal) => {
      running = false;
      if (shimExit) resolve(shimExit);
      else if (killedByUs || signal !== null) resolve({ code, signal });
      else if (code === 255) resolve({ code, signal, error: `ssh to ${spec.target} failed: ${lastLine || 'exit 255'}` });
      else resolve({ code, signal });
    });
  });
  child.stdin.on('error', () => {});
  child.stdin.write(`${spec.token}\n`);
  return {
    rank: spec.rank,
    label: String(spec.rank),
    host: spec.target,
    stdout: child.stdout,
    stderr,
    exit,
    // EOF on the shim's stdin makes it SIGTERM the program (and SIGKILL it after the grace period)
    terminate: () => { if (running) child.stdin.end(); },
    // killing the client closes the session; the shim sees EOF and stops the program all the same
    kill: () => {
      if (!running) return;
      killedByUs = true;
      child.kill('SIGKILL');
    },
    reapLeftovers: () => {}, // the remote shim does it on its host
  };
}

export interface ProbeResult {
  target: string;
  port: number | undefined;
  node: string;
}

/**
 * Check that a host can run ranks: ssh connects without prompts, the working directory exists there,
 * the same node binary runs, the program is readable; optionally ask for a free rendezvous port.
 * Failures are HostErrors naming the host and what ssh or the host said.
 */
export function probeHost(
  target: string,
  ssh: SshSettings,
  cwd: string,
  node: string,
  shim: string,
  program: string,
  wantPort: boolean,
  timeoutMs = 30000,
): Promise<ProbeResult> {
  const command = ['cd', shellQuote(cwd), '&&', 'exec', shellQuote(node), shellQuote(shim), '--probe',
    ...(wantPort ? ['--free-port'] : []), shellQuote(program)].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(ssh.command, sshArgs(ssh, target, command), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new HostError(target, `cannot run ssh (${ssh.command}) to reach ${target}: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const said = err.trim().split('\n').filter((l) => !/^Warning: Permanently added/.test(l)).join('; ');
      if (signal) {
        reject(new HostError(target, `host ${target} did not answer over ssh within ${timeoutMs} ms${said ? `: ${said}` : ''}`));
        return;
      }
      if (code === 255) {
        reject(new HostError(target, `host ${target} unreachable over ssh: ${said || 'ssh exited with status 255'}`));
        return;
      }
      let parsed: { ok: boolean; error?: string; port?: number; node?: string } | undefined;
      try {
        parsed = JSON.parse(out.trim().split('\n').pop() ?? '') as typeof parsed;
      } catch {
        parsed = undefined;
      }
      if (!parsed) {
        reject(new HostError(target, `host ${target}: could not run ${node} in ${cwd} (exit ${code})${said ? `: ${said}` : ''}`));
      } else if (!parsed.ok) {
        reject(new HostError(target, `host ${target}: ${parsed.error ?? 'probe failed'}`));
      } else {
        resolve({ target, port: parsed.port, node: parsed.node ?? '' });
      }
    });
  });
}
